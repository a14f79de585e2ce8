using System.Security.Cryptography;
using System.Text;

namespace IdentityHub.Provisioning.Connectors.Webhooks;

/// <summary>
/// Standard Webhooks signing (https://www.standardwebhooks.com, "Signature scheme"): the secret is
/// <c>whsec_</c> + base64 of random bytes; the signature is <c>v1,</c> + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")).
/// </summary>
public static class WebhookSignature
{
    public const string SecretPrefix = "whsec_";

    /// <summary>A new secret: the spec asks for 24 to 64 random bytes; 32 matches the HMAC-SHA256 block strength.</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public static string Sign(string secret, string messageId, long timestamp, string body)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var key = Convert.FromBase64String(secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret);
        var signed = Encoding.UTF8.GetBytes($"{messageId}.{timestamp}.{body}");
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed));
    }
}
