using System.Security.Claims;
using IdentityHub.Core.Access;
using IdentityHub.Data.Directory;
using IdentityHub.Server.Identities;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.Oidc.Token;

/// <summary>
/// The token endpoint, passthrough: OpenIddict has already authenticated the client and validated the
/// grant when these handlers run; they decide what identity the tokens carry.
/// </summary>
public static class TokenEndpoint
{
    public static void MapTokenEndpoint(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/connect/token", ExchangeAsync).DisableAntiforgery().AllowAnonymous();

    /// <remarks>
    /// The user services are resolved only for the user grants: a UserManager and a SignInManager are costly to build
    /// (validators, metrics, claims factory), and client credentials, the busiest grant, needs neither.
    /// </remarks>
    private static async Task<IResult> ExchangeAsync(HttpContext context, IOpenIddictApplicationManager applications)
    {
        var request = context.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenID Connect request cannot be retrieved.");

        if (request.IsClientCredentialsGrantType())
        {
            return await IssueClientCredentialsTokenAsync(request, applications, context.RequestAborted);
        }

        if (request.IsAuthorizationCodeGrantType() || request.IsRefreshTokenGrantType())
        {
            var services = context.RequestServices;
            return await RedeemUserGrantAsync(context, request, services.GetRequiredService<UserManager<UserAccount>>(),
                services.GetRequiredService<SignInManager<UserAccount>>(), services.GetRequiredService<UserClaims>());
        }

        return Forbid(Errors.UnsupportedGrantType, "This grant type is not supported by IdentityHub.");
    }

    /// <summary>
    /// RFC 6749 §4.1.3 / §6: OpenIddict has checked the code or refresh token (PKCE, client, redirect_uri,
    /// reuse). The user is read again: one who left or was suspended since gets nothing, and roles are fresh.
    /// </summary>
    private static async Task<IResult> RedeemUserGrantAsync(
        HttpContext context, OpenIddictRequest request, UserManager<UserAccount> users, SignInManager<UserAccount> signIn, UserClaims userClaims)
    {
        var grant = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        var userId = grant.Principal?.GetClaim(Claims.Subject);
        var user = userId is null ? null : await users.FindByIdAsync(userId);
        if (user is null || !await signIn.CanSignInAsync(user) || await users.IsLockedOutAsync(user))
        {
            return Forbid(Errors.InvalidGrant, "The user is no longer allowed to sign in.");
        }

        // Keeps OpenIddict's own claims (scopes, authorization id, sid, auth_time) and replaces the user's.
        var identity = new ClaimsIdentity(grant.Principal!.Claims, TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        // RFC 6749 §6: a refresh may narrow the scope (never widen it: RefreshScopeLimit); the new tokens carry only that.
        if (request.IsRefreshTokenGrantType() && !string.IsNullOrEmpty(request.Scope))
        {
            identity.SetScopes(request.GetScopes());
        }

        await userClaims.ApplyAsync(identity, user, request.ClientId!, context.RequestAborted);
        return Results.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>RFC 6749 §4.4: the client acts for itself; the token's subject is the client.</summary>
    private static async Task<IResult> IssueClientCredentialsTokenAsync(
        OpenIddictRequest request, IOpenIddictApplicationManager applications, CancellationToken cancellationToken)
    {
        var application = await applications.FindByClientIdAsync(request.ClientId!, cancellationToken);
        if (application is null)
        {
            return Forbid(Errors.InvalidClient, "The client application is unknown.");
        }

        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, request.ClientId);
        identity.SetClaim(Claims.Name, await applications.GetDisplayNameAsync(application, cancellationToken) ?? request.ClientId);

        var scopes = request.GetScopes();
        identity.SetScopes(scopes);
        // Admin roles only matter to the admin API, so only a token granted its scope carries them.
        if (scopes.Contains(IdentityHubScopes.AdminApi))
        {
            identity.SetClaims(Claims.Role, ClientProperties.AdminRolesOf(await applications.GetPropertiesAsync(application, cancellationToken)));
        }

        // Access tokens are for the calling application itself, plus the admin API when that scope was granted.
        identity.SetResources(scopes.Contains(IdentityHubScopes.AdminApi)
            ? [request.ClientId!, IdentityHubScopes.AdminApiAudience]
            : [request.ClientId!]);
        identity.SetDestinations(_ => [Destinations.AccessToken]);

        return Results.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static IResult Forbid(string error, string description) => Results.Forbid(
        authenticationSchemes: [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme],
        properties: new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }));
}
