using System.Security.Cryptography;
using System.Text;

namespace IdentityHub.Server.Hosting;

/// <summary>
/// What one response's Content-Security-Policy allows beyond the default, set by the code that renders it: the
/// relying-party addresses its auto-submitted form posts to, the RP pages it frames, and the exact inline scripts
/// (by SHA-256) that do the submitting. Nothing here outlives the response.
/// </summary>
public sealed class PageAllowances
{
    public HashSet<string> FormTargets { get; } = new(StringComparer.OrdinalIgnoreCase);

    public HashSet<string> FrameSources { get; } = new(StringComparer.OrdinalIgnoreCase);

    public HashSet<string> ScriptHashes { get; } = new(StringComparer.Ordinal);

    public HashSet<string> ImageSources { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A page our own front-channel logout page loads in a frame (an SP's LogoutResponse coming back).</summary>
    public bool FramedBySelf { get; private set; }

    /// <summary>The response posts a form (by <paramref name="script"/>, or by a button without script) to <paramref name="target"/>.</summary>
    public static void AllowFormPost(HttpContext context, Uri target, string script)
    {
        var allowances = Of(context);
        allowances.FormTargets.Add(OriginOf(target));
        allowances.ScriptHashes.Add(Hash(script));
    }

    /// <summary>A form of the response is submitted to, or redirected after submission to, <paramref name="target"/>.</summary>
    public static void AllowFormTarget(HttpContext context, Uri target) => Of(context).FormTargets.Add(OriginOf(target));

    /// <summary>The response shows an image of <paramref name="source"/> (an application's icon in the portal).</summary>
    public static void AllowImage(HttpContext context, Uri source) => Of(context).ImageSources.Add(OriginOf(source));

    /// <summary>The response frames a page of <paramref name="source"/>.</summary>
    public static void AllowFrame(HttpContext context, Uri source) => Of(context).FrameSources.Add(OriginOf(source));

    /// <summary>The response runs the inline <paramref name="script"/>.</summary>
    public static void AllowScript(HttpContext context, string script) => Of(context).ScriptHashes.Add(Hash(script));

    public static void AllowFramingBySelf(HttpContext context) => Of(context).FramedBySelf = true;

    /// <summary>CSP §2.3.1 hash-source: base64 of the SHA-256 of the script element's text, exactly as written.</summary>
    public static string Hash(string script) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(script)));

    private static PageAllowances Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Features.Get<PageAllowances>() is { } existing)
        {
            return existing;
        }

        var allowances = new PageAllowances();
        context.Features.Set(allowances);
        return allowances;
    }

    /// <summary>A CSP source expression naming the scheme, host and port: paths in sources do not hold across redirects.</summary>
    private static string OriginOf(Uri address) => address.GetLeftPart(UriPartial.Authority);
}
