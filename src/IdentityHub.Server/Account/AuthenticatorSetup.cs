using IdentityHub.Core.Audit;
using IdentityHub.Data.Directory;
using QRCoder;

namespace IdentityHub.Server.Account;

/// <summary>What an authenticator app needs to add an account: the otpauth:// URI as a QR code, and the key for typing.</summary>
public sealed record AuthenticatorSetup(string Key, string GroupedKey, string QrCodeDataUri)
{
    public const string Issuer = "IdentityHub";

    /// <summary>Key URI Format (Google Authenticator wiki, read by every app): label, secret, issuer; SHA-1, 6 digits, 30 s.</summary>
    public static AuthenticatorSetup For(UserAccount user, string key)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentException.ThrowIfNullOrEmpty(key);
        var label = Uri.EscapeDataString($"{Issuer}:{user.UserName}");
        var uri = $"otpauth://totp/{label}?secret={key}&issuer={Uri.EscapeDataString(Issuer)}&algorithm=SHA1&digits=6&period=30";
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(uri, QRCodeGenerator.ECCLevel.Q);
        // A PNG data: URI: the CSP allows img data:, and the page needs no script.
        using var renderer = new PngByteQRCode(data);
        var png = renderer.GetGraphic(5);
        return new AuthenticatorSetup(key, string.Join(' ', key.Chunk(4).Select(c => new string(c))).ToLowerInvariant(), "data:image/png;base64," + Convert.ToBase64String(png));
    }
}

/// <summary>Signs the audit actor in as the person completing a sign-in step (the request has no principal yet).</summary>
internal static class SignInActor
{
    public static void Set(CurrentActor actor, UserAccount user) =>
        actor.Value = actor.Value with { Id = user.Id, Name = user.UserName ?? user.Id };
}
