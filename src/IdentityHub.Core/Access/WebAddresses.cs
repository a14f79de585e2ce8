namespace IdentityHub.Core.Access;

/// <summary>The web addresses IdentityHub sends browsers and tokens to: https, or plain http only on this machine.</summary>
public static class WebAddresses
{
    /// <summary>RFC 8252 §7.3 / RFC 9700 §2.1: https, except http on the loopback interface (development, native apps).</summary>
    public static bool IsHttpsOrLoopback(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var loopback = uri.Host is "localhost" or "127.0.0.1" or "[::1]";
        return uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && loopback);
    }
}

/// <summary>
/// Whether addresses IdentityHub opens in a browser (an application's launch URL) may use plain http off this machine:
/// only when the deployment itself runs without TLS (<c>Oidc:RequireHttps=false</c>, a test or lab network).
/// </summary>
public sealed record WebAddressPolicy(bool AllowPlainHttp)
{
    public bool Accepts(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return WebAddresses.IsHttpsOrLoopback(uri) || (AllowPlainHttp && uri.Scheme == Uri.UriSchemeHttp);
    }
}
