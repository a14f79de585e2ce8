using IdentityHub.Server.Saml;
using Microsoft.AspNetCore.Localization;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityHub.Server.Hosting;

/// <summary>
/// Which application a page serves and the language it asked for: the authorize request itself, or the one the
/// sign-in and MFA pages carry in their <c>ReturnUrl</c> (query or form) — an OIDC authorize request, or a SAML resume.
/// </summary>
public sealed record SignInFlow(string? ClientId, string? SamlResume, string? UiLocales)
{
    private const string ItemKey = "identityhub.signin-flow";
    private const string AuthorizePath = "/connect/authorize";

    /// <summary>The flow of the request, read once (a re-executed error page keeps the one of the request that failed).</summary>
    public static async Task<SignInFlow?> OfAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items.TryGetValue(ItemKey, out var known))
        {
            return known as SignInFlow;
        }

        var flow = await ReadAsync(context.Request);
        context.Items[ItemKey] = flow;
        return flow;
    }

    /// <summary>The flow already read for this request by <see cref="OfAsync"/>, if any.</summary>
    public static SignInFlow? Known(HttpContext context) =>
        context?.Items.TryGetValue(ItemKey, out var known) == true ? known as SignInFlow : null;

    private static async Task<SignInFlow?> ReadAsync(HttpRequest request)
    {
        if (request.Path.Equals(AuthorizePath, StringComparison.OrdinalIgnoreCase))
        {
            return Of(request.Query.ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal), null);
        }

        if (!request.Path.StartsWithSegments("/account", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        string? returnUrl = request.Query["ReturnUrl"];
        if (string.IsNullOrEmpty(returnUrl) && request.HasFormContentType)
        {
            returnUrl = (await request.ReadFormAsync(request.HttpContext.RequestAborted))["ReturnUrl"];
        }

        if (string.IsNullOrEmpty(returnUrl) || !returnUrl.StartsWith('/') || returnUrl.StartsWith("//", StringComparison.Ordinal))
        {
            return null;
        }

        var question = returnUrl.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? returnUrl : returnUrl[..question];
        var query = QueryHelpers.ParseQuery(question < 0 ? "" : returnUrl[question..]).ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
        return path.Equals(AuthorizePath, StringComparison.OrdinalIgnoreCase) ? Of(query, null)
            : path.Equals(SamlIdpEndpoints.ResumePath, StringComparison.OrdinalIgnoreCase) ? Of(query, query.GetValueOrDefault("p"))
            : null;
    }

    private static SignInFlow? Of(Dictionary<string, string> query, string? samlResume)
    {
        var flow = new SignInFlow(query.GetValueOrDefault("client_id"), samlResume, query.GetValueOrDefault("ui_locales"));
        return flow is { ClientId: null, SamlResume: null, UiLocales: null } ? null : flow;
    }
}

/// <summary>
/// OIDC Core §3.1.2.1: <c>ui_locales</c> lists the end user's preferred languages, best first; the first one the theme
/// speaks wins for the pages of that authorize request, over the language switch's cookie and Accept-Language.
/// </summary>
public sealed class UiLocalesCultureProvider : RequestCultureProvider
{
    public override async Task<ProviderCultureResult?> DetermineProviderCultureResult(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        return await SignInFlow.OfAsync(httpContext) is { UiLocales: { Length: > 0 } locales } && FirstSupported(locales) is { } culture
            ? new ProviderCultureResult(culture)
            : null;
    }

    /// <summary>The first tag of <paramref name="uiLocales"/> the theme has messages for, matched exactly or by language (zh → zh-CN).</summary>
    public static string? FirstSupported(string uiLocales)
    {
        ArgumentNullException.ThrowIfNull(uiLocales);
        foreach (var tag in uiLocales.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var language = tag.Split('-')[0];
            var match = ThemeMessages.Cultures.FirstOrDefault(c => string.Equals(c.Name, tag, StringComparison.OrdinalIgnoreCase))
                ?? ThemeMessages.Cultures.FirstOrDefault(c => string.Equals(c.TwoLetterISOLanguageName, language, StringComparison.OrdinalIgnoreCase));
            if (match is not null)
            {
                return match.Name;
            }
        }

        return null;
    }
}
