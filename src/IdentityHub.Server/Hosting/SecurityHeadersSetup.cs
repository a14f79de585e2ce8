using System.Globalization;
using NetEscapades.AspNetCore.SecurityHeaders.Headers;

namespace IdentityHub.Server.Hosting;

/// <summary>
/// The security headers of every response (pages, protocol endpoints, APIs, static files, error pages), from
/// NetEscapades.AspNetCore.SecurityHeaders: a CSP without inline script, no framing, no MIME sniffing, a referrer that
/// never carries our paths or queries to another site, and HSTS on HTTPS. A response that must post to or frame a
/// relying party widens its own policy through <see cref="PageAllowances"/>, never the default.
/// </summary>
public static class SecurityHeadersSetup
{
    /// <summary>The named policy of the API reference UI, whose generated page carries inline script and styles.</summary>
    public const string ApiDocsPolicy = "api-docs";

    private const string HstsMaxAgeKey = "Hosting:Hsts:MaxAge";
    private const string HstsIncludeSubDomainsKey = "Hosting:Hsts:IncludeSubDomains";

    /// <summary>A browser that reached us on https locally must not pin localhost to https for every other local app.</summary>
    private static readonly string[] HstsExcludedHosts = ["localhost", "127.0.0.1", "[::1]"];

    public static void AddIdentityHubSecurityHeaders(this WebApplicationBuilder builder)
    {
        var hstsMaxAge = HstsMaxAge(builder.Configuration);
        var includeSubDomains = builder.Configuration.GetValue(HstsIncludeSubDomainsKey, false);
        builder.Services.AddSecurityHeaderPolicies(policies => policies
            .SetDefaultPolicy(headers => AddCommon(headers, hstsMaxAge, includeSubDomains).AddContentSecurityPolicy(csp => ContentSecurityPolicy(csp, null)))
            .AddPolicy(ApiDocsPolicy, headers => AddCommon(headers, hstsMaxAge, includeSubDomains).AddContentSecurityPolicy(ApiDocsContentSecurityPolicy))
            .SetPolicySelector(context => context.HttpContext.Features.Get<PageAllowances>() is { } allowances
                ? Widened(context.SelectedPolicy, allowances)
                : context.SelectedPolicy));
    }

    /// <summary>Right after the forwarded headers, so HSTS sees the client's scheme and host, and before anything can answer.</summary>
    public static void UseIdentityHubSecurityHeaders(this WebApplication app) => app.UseSecurityHeaders();

    private static HeaderPolicyCollection AddCommon(HeaderPolicyCollection headers, TimeSpan hstsMaxAge, bool includeSubDomains)
    {
        headers
            .AddContentTypeOptionsNoSniff()
            .AddFrameOptionsDeny()
            // Not no-referrer: with it, browsers send "Origin: null" on the form posts we auto-submit to relying parties
            // (OIDC form_post, SAML POST binding), which origin-checking RPs refuse. Cross-site, only our origin is sent.
            .AddReferrerPolicyStrictOriginWhenCrossOrigin();
        if (hstsMaxAge > TimeSpan.Zero)
        {
            // Sent on HTTPS requests only (directly, or through a trusted proxy's X-Forwarded-Proto).
            headers.AddStrictTransportSecurity((int)hstsMaxAge.TotalSeconds, includeSubDomains, preload: false, HstsExcludedHosts);
        }

        return headers;
    }

    private static void ContentSecurityPolicy(CspBuilder csp, PageAllowances? allowances)
    {
        csp.AddDefaultSrc().Self();
        var scripts = csp.AddScriptSrc().Self();
        var forms = csp.AddFormAction().Self();
        if (allowances is not null)
        {
            foreach (var hash in allowances.ScriptHashes)
            {
                scripts.WithHash256(hash);
            }

            forms.From(allowances.FormTargets);
            if (allowances.FrameSources.Count > 0)
            {
                csp.AddFrameSrc().Self().From(allowances.FrameSources);
            }
        }

        csp.AddStyleSrc().Self();
        // QR codes and small icons may come as data: images; data: is never allowed for scripts.
        var images = csp.AddImgSrc().Self().Data();
        if (allowances is { ImageSources.Count: > 0 })
        {
            images.From(allowances.ImageSources);
        }

        csp.AddObjectSrc().None();
        csp.AddBaseUri().Self();
        if (allowances?.FramedBySelf == true)
        {
            csp.AddFrameAncestors().Self();
        }
        else
        {
            csp.AddFrameAncestors().None();
        }
    }

    /// <summary>
    /// Scalar's generated page starts itself with an inline script, compiles code at run time (eval) and injects its
    /// styles; it shows the public API description only, holds no form and no secret, and still may not be framed or
    /// load anything foreign.
    /// </summary>
    private static void ApiDocsContentSecurityPolicy(CspBuilder csp)
    {
        csp.AddDefaultSrc().Self();
        csp.AddScriptSrc().Self().UnsafeInline().UnsafeEval();
        csp.AddStyleSrc().Self().UnsafeInline();
        csp.AddImgSrc().Self().Data();
        csp.AddFontSrc().Self().Data();
        csp.AddWorkerSrc().Self().Blob();
        csp.AddObjectSrc().None();
        csp.AddBaseUri().Self();
        csp.AddFormAction().Self();
        csp.AddFrameAncestors().None();
    }

    private static HeaderPolicyCollection Widened(NetEscapades.AspNetCore.SecurityHeaders.Infrastructure.IReadOnlyHeaderPolicyCollection selected, PageAllowances allowances)
    {
        var headers = selected.Copy().AddContentSecurityPolicy(csp => ContentSecurityPolicy(csp, allowances));
        return allowances.FramedBySelf ? headers.AddFrameOptionsSameOrigin() : headers;
    }

    private static TimeSpan HstsMaxAge(ConfigurationManager configuration)
    {
        var text = configuration[HstsMaxAgeKey];
        if (string.IsNullOrEmpty(text))
        {
            return TimeSpan.FromDays(365);
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var maxAge) && maxAge >= TimeSpan.Zero && maxAge.TotalSeconds <= int.MaxValue
            ? maxAge
            : throw new StartupException($"{HstsMaxAgeKey} '{text}' is not a time span of zero (no HSTS) or more, such as 365.00:00:00.");
    }
}
