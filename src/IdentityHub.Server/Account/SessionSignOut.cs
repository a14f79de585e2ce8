using System.Security.Claims;
using IdentityHub.Data.Directory;
using IdentityHub.Server.Oidc;
using IdentityHub.Server.Oidc.ClaimsMapping;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using OpenIddict.Server;

namespace IdentityHub.Server.Account;

/// <summary>Ends the browser session and queues the logout notices owed to the applications that took part in it.</summary>
public sealed class SessionSignOut(
    SignInManager<UserAccount> signIn, BackchannelLogoutNotices backchannel, IOptionsMonitor<OpenIddictServerOptions> oidc)
{
    public async Task SignOutAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var session = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        await signIn.SignOutAsync();
        if (session.Principal?.FindFirst(IdentityHubClaims.SessionId)?.Value is { } sid
            && session.Principal.FindFirst(ClaimTypes.NameIdentifier)?.Value is { } userId)
        {
            await backchannel.EnqueueAsync(sid, userId, IssuerOf(context), context.RequestAborted);
        }
    }

    /// <summary>The issuer OpenIddict put in the session's tokens: configured, or this request's base address.</summary>
    private string IssuerOf(HttpContext context) =>
        oidc.CurrentValue.Issuer?.AbsoluteUri ?? $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}/";
}
