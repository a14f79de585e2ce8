using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace IdentityHub.Core.Access;

/// <summary>
/// Client secrets are drawn by the server, never chosen by people: 256 random bits, so a plain SHA-256
/// digest is as strong as a slow password hash and costs microseconds instead of ~3 ms per token request.
/// </summary>
public static class ClientSecrets
{
    /// <summary>Marks a stored value as a SHA-256 digest; anything else is OpenIddict's PBKDF2 format.</summary>
    public const string Sha256Prefix = "sha256:";

    private const int SecretBytes = 32;

    /// <summary>A new secret: 32 random bytes, base64url (43 characters).</summary>
    public static string Generate() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(SecretBytes));

    /// <summary>The stored form: "sha256:" + base64(SHA-256(UTF-8 secret)).</summary>
    public static string Hash(string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        return Sha256Prefix + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
    }

    public static bool IsSha256Hash(string stored) => stored.StartsWith(Sha256Prefix, StringComparison.Ordinal);

    /// <summary>Compares in constant time, so response timing reveals nothing about the stored digest.</summary>
    public static bool Verify(string secret, string stored)
    {
        if (string.IsNullOrEmpty(secret) || !IsSha256Hash(stored))
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[SHA256.HashSizeInBytes];
        if (!Convert.TryFromBase64String(stored[Sha256Prefix.Length..], expected, out var written) || written != expected.Length)
        {
            return false;
        }

        Span<byte> actual = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(secret), actual);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }
}
