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
