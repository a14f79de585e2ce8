namespace IdentityHub.Data.Sessions;

/// <summary>
/// One browser session, from sign-in to its end: the session cookie carries its id (the <c>sid</c> claim), and every
/// request checks that the session has not ended, so a cookie replayed after sign-out or after an administrator ended
/// it opens nothing.
/// </summary>
public sealed class UserSession
{
    public const int IdMaxLength = 64;
    public const int IpAddressMaxLength = 64;
    public const int UserAgentMaxLength = 256;
    public const int EndReasonMaxLength = 32;
    public const int IssuerMaxLength = 2048;

    /// <summary>The session id (sid), as in the cookie, ID tokens and logout tokens.</summary>
    public required string Id { get; set; }

    public required string UserId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The last request seen with the session, updated at most about once a minute.</summary>
    public DateTimeOffset LastSeenAt { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    /// <summary>Why it ended: one of <c>UserSessionEndReasons</c> (signed-out, ended-by-admin, suspended, ...).</summary>
    public string? EndReason { get; set; }

    public string? IpAddress { get; set; }

    /// <summary>The browser's User-Agent, cut to <see cref="UserAgentMaxLength"/> characters.</summary>
    public string? UserAgent { get; set; }

    /// <summary>The issuer the session's tokens carry (configured, or the address signed in at), for its logout tokens.</summary>
    public string? Issuer { get; set; }
}
