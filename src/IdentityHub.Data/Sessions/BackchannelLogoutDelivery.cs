namespace IdentityHub.Data.Sessions;

/// <summary>
/// One logout notice owed to one client (OpenID Connect Back-Channel Logout 1.0). Kept until delivered or
/// given up, so a restart or an unreachable client loses nothing.
/// </summary>
public sealed class BackchannelLogoutDelivery
{
    public long Id { get; set; }

    public required string ClientId { get; set; }

    /// <summary>The client's backchannel_logout_uri at the time of sign-out.</summary>
    public required string LogoutUri { get; set; }

    /// <summary>The issuer the session's tokens carried, so the logout token matches them.</summary>
    public required string Issuer { get; set; }

    public required string Sid { get; set; }

    public required string UserId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public int Attempts { get; set; }

    public DateTimeOffset NextAttemptAt { get; set; }

    public DateTimeOffset? DeliveredAt { get; set; }

    /// <summary>Set when the attempts are exhausted; the row stays for the console to show.</summary>
    public DateTimeOffset? AbandonedAt { get; set; }

    public string? LastError { get; set; }
}
