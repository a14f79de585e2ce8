namespace IdentityHub.Data.Sessions;

/// <summary>
/// An application that took part in a browser session (got tokens or an assertion in it), so that signing
/// out of the session can tell it. Protocol-neutral: OIDC now, SAML later.
/// </summary>
public sealed class SessionParticipant
{
    public long Id { get; set; }

    /// <summary>The browser session id (the "sid" claim).</summary>
    public required string Sid { get; set; }

    /// <summary>"oidc" or "saml".</summary>
    public required string Protocol { get; set; }

    /// <summary>The OIDC client_id or SAML entity id.</summary>
    public required string ClientId { get; set; }

    public required string UserId { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary>
    /// SAML core §8.3.8: the transient NameID this SP got for this session (random, one per session and SP), so a
    /// logout names the user the way the SP knows them; null for every other format and for OIDC.
    /// </summary>
    public string? NameId { get; set; }
}
