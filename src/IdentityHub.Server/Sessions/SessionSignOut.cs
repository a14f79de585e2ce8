using System.Security.Claims;
using IdentityHub.Core.Sessions;
using IdentityHub.Data.Directory;
using IdentityHub.Server.Identities;
using IdentityHub.Server.Saml;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using OpenIddict.Server;

namespace IdentityHub.Server.Sessions;

/// <summary>
/// Ends the browser session and tells the applications that took part in it: OIDC clients by back channel (queued
/// by <see cref="BrowserSessions"/>), SAML service providers through the browser (the page <see cref="FrontChannelPageAsync"/>
/// returns). The one place that knows both protocols' logout, so sign-out pages of either protocol and of the account need neither.
/// </summary>
public sealed class SessionSignOut(
    SignInManager<UserAccount> signIn, BrowserSessions sessions, SamlFrontChannelLogout saml, IOptionsMonitor<OpenIddictServerOptions> oidc)
{
    public async Task SignOutAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var session = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        await signIn.SignOutAsync();
        if (session.Principal?.FindFirst(IdentityHubClaims.SessionId)?.Value is { } sid
            && session.Principal.FindFirst(ClaimTypes.NameIdentifier)?.Value is { } userId)
        {
            // Ended on the server, not only in this browser: the cookie replayed later opens nothing, on any node.
            await sessions.EndAsync(sid, userId, UserSessionEndReasons.SignedOut, IssuerOf(oidc.CurrentValue, context), context.RequestAborted);
        }
    }

    /// <summary>
    /// SAML profiles §4.4.3.4: the page that tells the SAML service providers of the session <paramref name="signedOut"/>
    /// held, then continues to <paramref name="continueTo"/>; null when none took part.
    /// </summary>
    public Task<string?> FrontChannelPageAsync(HttpContext context, ClaimsPrincipal? signedOut, string continueTo) =>
        saml.PageAsync(context, signedOut, exceptEntityId: null, new LogoutFinish(continueTo));

    /// <summary>The issuer OpenIddict puts in the session's tokens: configured, or this request's base address.</summary>
    public static string IssuerOf(OpenIddictServerOptions options, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        return options.Issuer?.AbsoluteUri ?? $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}/";
    }
}
