using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHub.Server.Oidc.EndSession;

/// <summary>
/// OpenID Connect RP-Initiated Logout 1.0 §2: an id_token_hint must be an ID token this provider issued, and one of a
/// recent session is accepted even when expired. OpenIddict also checks the hint's token entry, so the hint of a grant
/// whose tokens were revoked reaches here unread: its signature, issuer and type are then checked here and, if they
/// hold, it is used like any other hint. A forged or garbled hint is refused, not ignored.
/// </summary>
public sealed class IdTokenHintValidation : IOpenIddictServerHandler<ValidateEndSessionRequestContext>
{
    /// <summary>HttpContext.Items key of the validated hint's principal, for the end-session page.</summary>
    public const string HintPrincipalItem = "IdentityHub.IdTokenHintPrincipal";

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateEndSessionRequestContext>()
            .UseSingletonHandler<IdTokenHintValidation>()
            .SetOrder(OpenIddictServerHandlers.Session.ValidateAuthentication.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ValidateEndSessionRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (string.IsNullOrEmpty(context.Request.IdTokenHint))
        {
            return;
        }

        if (context.IdentityTokenHintPrincipal is null)
        {
            if (await ReadSignedHintAsync(context, context.Request.IdTokenHint) is not { } principal)
            {
                context.Reject(Errors.InvalidRequest, "The id_token_hint is not an ID token issued by this provider.");
                return;
            }

            context.IdentityTokenHintPrincipal = principal;
        }

        // For the page, whichever read it: authenticating again there would check the token entry anew, and a revoked
        // grant's hint would then name nobody.
        if (context.Transaction.GetHttpRequest() is { } http)
        {
            http.HttpContext.Items[HintPrincipalItem] = context.IdentityTokenHintPrincipal;
        }
    }

    /// <summary>The hint's claims when this provider signed it as an ID token (lifetime and token entry not checked), else null.</summary>
    private static async Task<ClaimsPrincipal?> ReadSignedHintAsync(ValidateEndSessionRequestContext context, string hint)
    {
        var issuer = (context.Options.Issuer ?? context.BaseUri)?.AbsoluteUri;
        if (issuer is null)
        {
            return null;
        }

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(hint, new TokenValidationParameters
        {
            ValidIssuers = [issuer, issuer.TrimEnd('/')],
            IssuerSigningKeys = context.Options.SigningCredentials.Select(credentials => credentials.Key).ToList(),
            ValidateAudience = false,
            // RP-Initiated Logout §2: "even when the exp time has passed".
            ValidateLifetime = false,
            // OpenIddict writes ID tokens as typ JWT; access tokens (at+jwt) and others are not hints.
            ValidTypes = ["JWT"],
            NameClaimType = Claims.Name,
            RoleClaimType = Claims.Role,
        });
        if (!result.IsValid || result.ClaimsIdentity is not { } identity || identity.FindFirst(Claims.Subject) is null)
        {
            return null;
        }

        // The shape OpenIddict gives a hint it read itself, so its later checks (client_id, post_logout_redirect_uri) apply.
        identity.SetTokenType(TokenTypeIdentifiers.IdentityToken);
        identity.SetAudiences([.. identity.FindAll(Claims.Audience).Select(claim => claim.Value)]);
        if (identity.FindFirst(Claims.AuthorizedParty)?.Value is { } presenter)
        {
            identity.SetPresenters([presenter]);
        }

        return new ClaimsPrincipal(identity);
    }
}
