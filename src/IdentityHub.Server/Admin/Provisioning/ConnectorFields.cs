namespace IdentityHub.Server.Admin.Provisioning;

/// <summary>
/// What the name, settings and secret fields of a connector form show (<c>_ConnectorFields</c>): the form, the refusal's field
/// errors as the Core names them, whether the kind's secret is drawn by IdentityHub, and whether one is stored already.
/// </summary>
public sealed record ConnectorFields(ConnectorForm Form, IReadOnlyList<(string Field, string Message)> Errors, bool SecretGenerated, bool HasSecret, string IdPrefix)
{
    /// <summary>The errors on <paramref name="field"/>, and with <paramref name="nested"/> on the fields within it (<c>settings.auth.appKey</c>).</summary>
    public IEnumerable<(string Field, string Message)> On(string field, bool nested = false) =>
        Errors.Where(e => e.Field == field || (nested && e.Field.StartsWith(field + ".", StringComparison.Ordinal)));
}
