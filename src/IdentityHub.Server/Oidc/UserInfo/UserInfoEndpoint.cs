using IdentityHub.Data.Directory;
using IdentityHub.Server.Identities;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.Oidc.UserInfo;

/// <summary>
/// OpenID Connect Core §5.3 userinfo (GET and POST), passthrough: OpenIddict has validated the access
/// token; the claims are read from the database now, by the token's scopes.
/// </summary>
public static class UserInfoEndpoint
{
    public static void MapUserInfoEndpoint(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapMethods("/connect/userinfo", [HttpMethods.Get, HttpMethods.Post], ReturnClaimsAsync).DisableAntiforgery().AllowAnonymous();

    private static async Task<IResult> ReturnClaimsAsync(
        HttpContext context, UserManager<UserAccount> users, SignInManager<UserAccount> signIn, UserClaims userClaims)
    {
        var token = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        var userId = token.Principal?.GetClaim(Claims.Subject);
        var user = userId is null ? null : await users.FindByIdAsync(userId);
        if (user is null || !await signIn.CanSignInAsync(user))
        {
            // RFC 6750 §3.1: the token no longer stands for a user who may use it.
            return Results.Challenge(
                authenticationSchemes: [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme],
                properties: new AuthenticationProperties(new Dictionary<string, string?>
                {
                    [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.InvalidToken,
                    [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "The user of this access token is no longer active.",
                }));
        }

        var clientId = token.Principal!.GetPresenters().FirstOrDefault() ?? token.Principal!.GetAudiences().FirstOrDefault() ?? "";
        return Results.Ok(await userClaims.UserInfoAsync(user, clientId, token.Principal!.GetScopes(), context.RequestAborted));
    }
}
