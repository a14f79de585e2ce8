namespace IdentityHub.Testing;

/// <summary>
/// Rate limits far above what any test does from 127.0.0.1 in a burst, applied to every test server by default (the
/// limiter stays on); the rate-limit tests set small limits of their own on top.
/// </summary>
public static class TestRateLimits
{
    public static IReadOnlyDictionary<string, string> Settings { get; } = new[]
    {
        "SignInPerAccount", "SignInPerIp", "SignInFailuresPerAccountAndIp", "MfaPerAccount", "MfaPerIp", "TokenPerClient", "TokenPerIp",
        "AdminApiPerClient", "AdminApiPerIp", "ScimPerClient", "ScimPerIp",
    }.ToDictionary(policy => $"RateLimits:{policy}:PermitLimit", _ => "1000000");
}
