using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace IdentityHub.Server.Hosting.Telemetry;

/// <summary>
/// Instruments of the meter <c>IdentityHub.Server</c>: token requests by grant and outcome, and sign-in attempts by
/// method and outcome (names in the OpenTelemetry style; the Prometheus exporter turns them into
/// <c>identityhub_token_requests_total</c> and <c>identityhub_signin_attempts_total</c>).
/// </summary>
public sealed class ServerMetrics : IDisposable
{
    public const string MeterName = "IdentityHub.Server";

    private readonly Meter _meter;
    private readonly Counter<long> _tokenRequests;
    private readonly Counter<long> _signIns;

    public ServerMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        _tokenRequests = _meter.CreateCounter<long>("identityhub.token.requests", "{request}",
            "Requests at the token endpoint, by grant type and outcome (success, or the OAuth error code).");
        _signIns = _meter.CreateCounter<long>("identityhub.signin.attempts", "{attempt}",
            "Interactive sign-in attempts, by method (password, otp, recovery_code, passkey) and outcome.");
    }

    /// <summary>One token response; <paramref name="error"/> is the OAuth error code of a refusal, else null.</summary>
    public void TokenRequest(string? grantType, string? error) =>
        _tokenRequests.Add(1, new TagList { { "grant_type", Bounded(grantType) }, { "outcome", error ?? "success" } });

    /// <summary>One sign-in attempt; outcome is a fixed word (succeeded, failed, locked_out, not_allowed, throttled…).</summary>
    public void SignIn(string method, string outcome) =>
        _signIns.Add(1, new TagList { { "method", method }, { "outcome", outcome } });

    public void Dispose() => _meter.Dispose();

    /// <summary>Grant types are client input: the standard ones and this server's extensions keep their name, the rest are "other".</summary>
    private static string Bounded(string? grantType) => grantType switch
    {
        null or "" => "none",
        "authorization_code" or "client_credentials" or "refresh_token" or "password" or "urn:ietf:params:oauth:grant-type:device_code"
            or "urn:ietf:params:oauth:grant-type:token-exchange" or "urn:ietf:params:oauth:grant-type:jwt-bearer" => grantType,
        _ => "other",
    };
}
