using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using IdentityHub.Data.Provisioning;

namespace IdentityHub.Provisioning.Connectors.Scim;

/// <summary>
/// "Test connection" for SCIM: authenticates (fetching a token first with client credentials) and asks for one User,
/// id only. RFC 7644 §4 lets a provider serve /ServiceProviderConfig without authentication, so that endpoint could not
/// tell a wrong token; /Users needs it. Nothing is written.
/// </summary>
public sealed class ScimConnectionTest(ScimSessions sessions) : IConnectionTest
{
    public ConnectorKind Kind => ConnectorKind.Scim;

    public async Task<ConnectionTestResult> TestAsync(Connector connector, string? secret, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connector);
        var started = Stopwatch.GetTimestamp();
        int Elapsed() => (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        try
        {
            var settings = ScimSessions.SettingsOf(connector);
            var session = await sessions.OpenAsync(settings, secret, cancellationToken);
            // RFC 7644 §3.4.2.4 count and §3.4.2.5 attributes: one resource, its id only.
            var answer = await session.SendAsync(HttpMethod.Get, $"{ScimConnectorClient.UsersEndpoint}?startIndex=1&count=1&attributes=id", null, cancellationToken);
            var total = answer.Body is { ValueKind: JsonValueKind.Object } body && body.TryGetProperty("totalResults", out var t) && t.TryGetInt32(out var n) ? n : (int?)null;
            var message = string.Create(CultureInfo.InvariantCulture,
                $"Authenticated to {settings.BaseUrl}: GET {ScimConnectorClient.UsersEndpoint} answered {answer.Status}{(total is { } count ? $" ({count} users there)" : "")}.");
            return new ConnectionTestResult(ConnectionTestResult.Succeeded, message, answer.Status, Elapsed());
        }
        catch (ScimCallException failure)
        {
            var status = failure.Outcome switch
            {
                DeliveryOutcome.Retry retry => retry.StatusCode,
                DeliveryOutcome.Permanent permanent => permanent.StatusCode,
                _ => null,
            };
            return new ConnectionTestResult(ConnectionTestResult.Failed, ConnectionTestResult.Describe(failure), status, Elapsed());
        }
    }
}
