using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.Oidc.Authorize;

/// <summary>
/// CSP form-action also governs the redirects that follow a form submission (browsers check every hop). The sign-in,
/// consent and sign-out confirmation forms end in a redirect to the client, so their pages allow exactly the origins
/// that client may be sent to: the redirect URI OpenIddict validated, or for a sign-in page the redirect URIs
/// registered for the client its return URL names.
/// </summary>
public static class AuthorizationFormTargets
{
    public static void UseIdentityHubAuthorizationFormTargets(this WebApplication app) =>
        app.Use((context, next) =>
        {
            // Runs before the security headers' own OnStarting callback, which was registered earlier.
            context.Response.OnStarting(() => AllowAsync(context));
            return next(context);
        });

    private static async Task AllowAsync(HttpContext context)
    {
        if (context.Response.StatusCode != StatusCodes.Status200OK
            || context.Response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) != true)
        {
            return;
        }

        if (context.GetOpenIddictServerRequest() is { } request)
        {
            // Passed through by OpenIddict, so already checked against the client's registration.
            foreach (var address in new[] { request.RedirectUri, request.PostLogoutRedirectUri })
            {
                if (Uri.TryCreate(address, UriKind.Absolute, out var uri))
                {
                    PageAllowances.AllowFormTarget(context, uri);
                }
            }

            return;
        }

        if (ReturnUrl(context) is not { } returnUrl || ClientIdOf(returnUrl) is not { } clientId)
        {
            return;
        }

        var applications = context.RequestServices.GetRequiredService<IOpenIddictApplicationManager>();
        if (await applications.FindByClientIdAsync(clientId, context.RequestAborted) is { } application)
        {
            foreach (var uri in await applications.GetRedirectUrisAsync(application, context.RequestAborted))
            {
                if (Uri.TryCreate(uri, UriKind.Absolute, out var address))
                {
                    PageAllowances.AllowFormTarget(context, address);
                }
            }
        }
    }

    /// <summary>The page's ReturnUrl, from the query or from a form already read (never reading the body here).</summary>
    private static string? ReturnUrl(HttpContext context)
    {
        if (context.Request.Query["ReturnUrl"].ToString() is { Length: > 0 } query)
        {
            return query;
        }

        return context.Features.Get<IFormFeature>() is { HasFormContentType: true } feature && feature.Form?["ReturnUrl"].ToString() is { Length: > 0 } form
            ? form
            : null;
    }

    /// <summary>The client_id of a local authorization request URL, else null.</summary>
    private static string? ClientIdOf(string returnUrl)
    {
        var queryStart = returnUrl.IndexOf('?', StringComparison.Ordinal);
        if (!returnUrl.StartsWith("/connect/authorize", StringComparison.OrdinalIgnoreCase) || queryStart < 0)
        {
            return null;
        }

        return QueryHelpers.ParseQuery(returnUrl[queryStart..])[Parameters.ClientId].ToString() is { Length: > 0 } clientId ? clientId : null;
    }
}
