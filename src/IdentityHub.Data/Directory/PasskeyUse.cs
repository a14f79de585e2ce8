namespace IdentityHub.Data.Directory;

/// <summary>
/// When a passkey last signed its owner in. Identity's passkey row has no such column; this one goes with it
/// (removing the passkey removes its row).
/// </summary>
public sealed class PasskeyUse
{
    /// <summary>The WebAuthn credential id, the key of Identity's AspNetUserPasskeys row.</summary>
    public required byte[] CredentialId { get; set; }

    public DateTimeOffset LastUsedAt { get; set; }
}
