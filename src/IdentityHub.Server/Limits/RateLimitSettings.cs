using System.Threading.RateLimiting;
using IdentityHub.Server.Hosting;

namespace IdentityHub.Server.Limits;

/// <summary>
/// The <c>RateLimits</c> section: one permit count and window per policy. The defaults are far above what a company's
/// people and systems do, and low enough to stop a script. Counters live in each node's memory: with several nodes
/// behind a load balancer, a caller may get up to one budget per node.
/// </summary>
public sealed class RateLimitSettings
{
    public const string Section = "RateLimits";

    /// <summary>Sign-in form posts per typed user name (normalised), whatever the address.</summary>
    public RateLimitRule SignInPerAccount { get; init; } = new() { PermitLimit = 10, Window = TimeSpan.FromMinutes(1) };

    /// <summary>Sign-in form posts per client address.</summary>
    public RateLimitRule SignInPerIp { get; init; } = new() { PermitLimit = 60, Window = TimeSpan.FromMinutes(1) };

    /// <summary>
    /// Failed sign-ins one address may cause for one user name; past it that address is refused for that name before any
    /// password check, so it can neither guess on nor keep the account locked.
    /// </summary>
    public RateLimitRule SignInFailuresPerAccountAndIp { get; init; } = new() { PermitLimit = 5, Window = TimeSpan.FromHours(1) };

    /// <summary>Second-factor attempts (authenticator or recovery code) per account, whatever the address.</summary>
    public RateLimitRule MfaPerAccount { get; init; } = new() { PermitLimit = 10, Window = TimeSpan.FromMinutes(1) };

    /// <summary>Second-factor attempts per client address.</summary>
    public RateLimitRule MfaPerIp { get; init; } = new() { PermitLimit = 60, Window = TimeSpan.FromMinutes(1) };

    /// <summary>Token, introspection and pushed authorization requests per client_id.</summary>
    public RateLimitRule TokenPerClient { get; init; } = new() { PermitLimit = 600, Window = TimeSpan.FromMinutes(1) };

    /// <summary>Token, introspection and pushed authorization requests per client address.</summary>
    public RateLimitRule TokenPerIp { get; init; } = new() { PermitLimit = 1200, Window = TimeSpan.FromMinutes(1) };

    /// <summary>Admin API calls per authenticated caller (client or administrator).</summary>
    public RateLimitRule AdminApiPerClient { get; init; } = new() { PermitLimit = 600, Window = TimeSpan.FromMinutes(1) };

    /// <summary>Admin API calls per client address.</summary>
    public RateLimitRule AdminApiPerIp { get; init; } = new() { PermitLimit = 1200, Window = TimeSpan.FromMinutes(1) };

    /// <summary>SCIM calls per source (its bearer token).</summary>
    public RateLimitRule ScimPerClient { get; init; } = new() { PermitLimit = 600, Window = TimeSpan.FromMinutes(1) };

    /// <summary>SCIM calls per client address.</summary>
    public RateLimitRule ScimPerIp { get; init; } = new() { PermitLimit = 1200, Window = TimeSpan.FromMinutes(1) };

    /// <summary>Reads the section over the defaults; a wrong value stops the start with one line naming the key.</summary>
    public static RateLimitSettings Read(IConfiguration configuration)
    {
        var settings = new RateLimitSettings();
        var section = configuration.GetSection(Section);
        return new RateLimitSettings
        {
            SignInPerAccount = ReadRule(section, nameof(SignInPerAccount), settings.SignInPerAccount),
            SignInPerIp = ReadRule(section, nameof(SignInPerIp), settings.SignInPerIp),
            SignInFailuresPerAccountAndIp = ReadRule(section, nameof(SignInFailuresPerAccountAndIp), settings.SignInFailuresPerAccountAndIp),
            MfaPerAccount = ReadRule(section, nameof(MfaPerAccount), settings.MfaPerAccount),
            MfaPerIp = ReadRule(section, nameof(MfaPerIp), settings.MfaPerIp),
            TokenPerClient = ReadRule(section, nameof(TokenPerClient), settings.TokenPerClient),
            TokenPerIp = ReadRule(section, nameof(TokenPerIp), settings.TokenPerIp),
            AdminApiPerClient = ReadRule(section, nameof(AdminApiPerClient), settings.AdminApiPerClient),
            AdminApiPerIp = ReadRule(section, nameof(AdminApiPerIp), settings.AdminApiPerIp),
            ScimPerClient = ReadRule(section, nameof(ScimPerClient), settings.ScimPerClient),
            ScimPerIp = ReadRule(section, nameof(ScimPerIp), settings.ScimPerIp),
        };
    }

    private static RateLimitRule ReadRule(IConfigurationSection section, string name, RateLimitRule defaults)
    {
        var rule = section.GetSection(name);
        var key = $"{Section}:{name}";
        var permits = rule[nameof(RateLimitRule.PermitLimit)];
        var window = rule[nameof(RateLimitRule.Window)];
        return new RateLimitRule
        {
            PermitLimit = permits is null ? defaults.PermitLimit
                : int.TryParse(permits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count) && count >= 1
                    ? count
                    : throw new StartupException($"{key}:PermitLimit '{permits}' is not a whole number of at least 1."),
            Window = window is null ? defaults.Window
                : TimeSpan.TryParse(window, System.Globalization.CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.FromSeconds(1) && span <= TimeSpan.FromDays(1)
                    ? span
                    : throw new StartupException($"{key}:Window '{window}' is not a time span between 00:00:01 and 1.00:00:00."),
        };
    }
}

/// <summary>At most <see cref="PermitLimit"/> requests per <see cref="Window"/> (a fixed window, no queue).</summary>
public sealed class RateLimitRule
{
    public int PermitLimit { get; init; }

    public TimeSpan Window { get; init; }

    public FixedWindowRateLimiterOptions ToLimiterOptions() => new()
    {
        PermitLimit = PermitLimit,
        Window = Window,
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}
