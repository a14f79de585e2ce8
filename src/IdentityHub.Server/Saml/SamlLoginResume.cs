using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IdentityHub.Saml.Protocol;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.IdentityModel.Tokens;

namespace IdentityHub.Server.Saml;

/// <summary>
/// The pending login carried across the sign-in page: protected, valid for a while, bound to the browser that
/// brought the AuthnRequest (a cookie of its own), and good for one Response only.
/// </summary>
public static class SamlLoginResume
{
    public const string BrowserCookie = "identityhub.saml.browser";
    private const string Purpose = "IdentityHub.Saml.PendingLogin.v2";
    private const string ReplayIssuer = "identityhub:saml-resume";
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(15);

    private sealed record Token(PendingLogin Pending, string Browser);

    /// <summary>The resume address for <paramref name="pending"/>; gives the browser its binding cookie when it has none.</summary>
    public static string UrlFor(HttpContext context, PendingLogin pending)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(pending);
        if (context.Request.Cookies[BrowserCookie] is not { Length: > 0 } browser)
        {
            browser = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
            context.Response.Cookies.Append(BrowserCookie, browser, new CookieOptions
            {
                HttpOnly = true,
                Secure = context.Request.IsHttps,
                SameSite = SameSiteMode.Lax,
                Path = SamlIdpEndpoints.SingleSignOnPath,
                IsEssential = true,
            });
        }

        var token = Protector(context).Protect(JsonSerializer.Serialize(new Token(pending, Hash(browser))), Lifetime);
        return $"{SamlIdpEndpoints.ResumePath}?p={Uri.EscapeDataString(token)}";
    }

    /// <summary>The pending login in <paramref name="protectedToken"/>, when it is genuine, unexpired and from this browser.</summary>
    public static PendingLogin Read(HttpContext context, string? protectedToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        Token token;
        try
        {
            token = JsonSerializer.Deserialize<Token>(Protector(context).Unprotect(protectedToken ?? ""))
                ?? throw new CryptographicException();
        }
        catch (Exception ex) when (ex is CryptographicException or JsonException)
        {
            throw new SamlProtocolException("The sign-in request has expired or is invalid; start again from the application.", ex);
        }

        // Only the browser that brought the AuthnRequest may finish it: a leaked resume link is useless elsewhere.
        var browser = context.Request.Cookies[BrowserCookie];
        if (browser is null || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(browser)), Encoding.ASCII.GetBytes(token.Browser)))
        {
            throw new SamlProtocolException("The sign-in request was started in another browser; start again from the application.");
        }

        return token.Pending;
    }

    /// <summary>
    /// The service provider a resume token is for, to theme the sign-in page on the way (no browser check: the token is
    /// only read, and a page's look is no secret); null when the token is not genuine or has expired.
    /// </summary>
    public static Guid? ServiceProviderOf(HttpContext context, string protectedToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            return JsonSerializer.Deserialize<Token>(Protector(context).Unprotect(protectedToken))?.Pending.ServiceProviderId;
        }
        catch (Exception ex) when (ex is CryptographicException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Marks the pending login as answered; false when it already was (one AuthnRequest, one Response).</summary>
    public static Task<bool> TryConsumeAsync(SamlReplayCache replays, PendingLogin pending, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(replays);
        ArgumentNullException.ThrowIfNull(pending);
        return replays.TryRememberAsync(ReplayIssuer, pending.Ticket, Lifetime, cancellationToken);
    }

    private static ITimeLimitedDataProtector Protector(HttpContext context) =>
        context.RequestServices.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).ToTimeLimitedDataProtector();

    private static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}
