using System.Text;

namespace IdentityHub.Server.Oidc.Clients;

/// <summary>
/// The client credentials of an HTTP Basic <c>Authorization</c> header, read once for everyone who needs them (the
/// per-client rate limit, the registered authentication method check). OpenIddict reads the same header itself.
/// </summary>
public sealed record ClientBasicCredentials(string ClientId, string ClientSecret)
{
    /// <summary>The credentials of <paramref name="request"/>'s Basic header; null when there is none or it cannot be read.</summary>
    public static ClientBasicCredentials? From(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Parse(request.Headers.Authorization.ToString());
    }

    /// <summary>
    /// RFC 6749 §2.3.1: client_id and client_secret are form-url-encoded, joined by a colon and base64-encoded (RFC 7617);
    /// so base64 first, split at the first colon, then form-url-decode each part ('+' is a space).
    /// </summary>
    public static ClientBasicCredentials? Parse(string? authorization)
    {
        const string scheme = "Basic ";
        if (authorization is null || !authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[scheme.Length..].Trim()));
        }
        catch (FormatException)
        {
            // Not ours to judge: OpenIddict refuses the malformed header with invalid_client.
            return null;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 ? new ClientBasicCredentials(FormDecode(decoded[..colon]), FormDecode(decoded[(colon + 1)..])) : null;
    }

    private static string FormDecode(string value) => Uri.UnescapeDataString(value.Replace('+', ' '));
}
