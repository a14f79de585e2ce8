namespace IdentityHub.Server.Admin.Sources;

/// <summary>
/// What <c>_SourceFields</c> shows: the form, the refusal's field errors as the Core names them, whether the REST part is
/// shown (a new source, or a REST source) and whether a secret is stored already.
/// </summary>
public sealed record SourceFields(SourceForm Form, IReadOnlyList<(string Field, string Message)> Errors, bool ShowRest, bool HasSecret, string IdPrefix)
{
    /// <summary>The errors on <paramref name="field"/>, and with <paramref name="nested"/> on the fields within it (<c>settings.auth.appKey</c>).</summary>
    public IEnumerable<(string Field, string Message)> On(string field, bool nested = false) =>
        Errors.Where(e => e.Field == field || (nested && e.Field.StartsWith(field + ".", StringComparison.Ordinal)));

    /// <summary>The department picker of subtree slot <paramref name="index"/>.</summary>
    public PickerField Picker(int index, string label) =>
        new(PickerKind.Department, $"{IdPrefix}-subtree-{index}", $"Input.SubtreeIds[{index}]", $"Input.SubtreeTexts[{index}]",
            Form.SubtreeIds.ElementAtOrDefault(index)?.ToString(), Form.SubtreeTexts.ElementAtOrDefault(index), label);
}
