using IdentityHub.Core;
using IdentityHub.Data.Provisioning;

namespace IdentityHub.Provisioning.Connectors.Rest;

/// <summary>
/// The REST dry run: the requests a delivery would send now, in order (the departments that changed, then the user's own),
/// each with the headers authentication adds — a signature computed as a send would, a static token or key masked, no
/// OAuth token fetched.
/// </summary>
public sealed class RestPreview(RestCompiler compiler, RestConnectorClient client, RestTransport transport) : IConnectorPreview
{
    public ConnectorKind Kind => ConnectorKind.Rest;

    public async Task<ConnectorPreview> PreviewAsync(Connector connector, string? secret, ProvisionedUser state, ConnectorUserState known, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(state);
        var compiled = compiler.Compile(connector.Settings);
        if (!compiled.IsValid)
        {
            throw new RuleViolation(ViolationKind.Conflict, compiled.DescribeErrors(), compiled.Errors.ToDictionary(e => "settings." + e.Key, e => e.Value, StringComparer.Ordinal));
        }

        IReadOnlyList<RestRequest> requests;
        try
        {
            requests = await client.PlanAsync(connector, compiled, state, known, cancellationToken);
        }
        catch (RestTemplateException failure)
        {
            throw RuleViolation.Field("settings." + failure.Field, failure.Message, ViolationKind.Conflict);
        }

        return new ConnectorPreview(state.UserId, state.Version, RestConnectorClient.Decide(state, compiled.Settings).ToString().ToLowerInvariant(),
            [.. requests.Select(r => new PreviewRequest(r.Operation, r.Method.Method, r.Url.AbsoluteUri,
                [
                    .. (r.Body is null ? [] : new[] { new PreviewHeader("Content-Type", "application/json; charset=utf-8") }),
                    .. r.Headers.Select(h => new PreviewHeader(h.Key, h.Value)),
                    .. transport.PreviewAuthentication(compiled.Settings, r, secret).Select(h => new PreviewHeader(h.Key, h.Value)),
                ],
                r.Body))]);
    }
}
