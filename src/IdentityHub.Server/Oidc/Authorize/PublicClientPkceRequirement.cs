using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHub.Server.Oidc.Authorize;

/// <summary>
/// OpenIddict enforces PKCE only for clients carrying the PKCE requirement feature; a public client has no
/// secret, so its code is protected by nothing else and must always send a code_challenge.
/// </summary>
public sealed class PublicClientPkceRequirement(IOpenIddictApplicationManager applications)
    : IOpenIddictServerHandler<ValidateAuthorizationRequestContext>, IOpenIddictServerHandler<ValidatePushedAuthorizationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateAuthorizationRequestContext>()
            .UseScopedHandler<PublicClientPkceRequirement>()
            .SetOrder(OpenIddictServerHandlers.Authentication.ValidateProofKeyForCodeExchangeRequirement.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public static OpenIddictServerHandlerDescriptor PushedDescriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidatePushedAuthorizationRequestContext>()
            .UseScopedHandler<PublicClientPkceRequirement>()
            .SetOrder(OpenIddictServerHandlers.Authentication.ValidatePushedProofKeyForCodeExchangeRequirement.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ValidateAuthorizationRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (await IsMissingAsync(context.Request, context.ClientId))
        {
            context.Reject(Errors.InvalidRequest, "The 'code_challenge' parameter is required for public clients (RFC 9700 §2.1.1).");
        }
    }

    public async ValueTask HandleAsync(ValidatePushedAuthorizationRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (await IsMissingAsync(context.Request, context.ClientId))
        {
            context.Reject(Errors.InvalidRequest, "The 'code_challenge' parameter is required for public clients (RFC 9700 §2.1.1).");
        }
    }

    // RFC 7636 §4.4.1 / RFC 9700 §2.1.1: a code requested without a challenge by a public client is refused.
    private async ValueTask<bool> IsMissingAsync(OpenIddictRequest request, string? clientId)
    {
        if (!string.IsNullOrEmpty(request.CodeChallenge) || !request.HasResponseType(ResponseTypes.Code) || string.IsNullOrEmpty(clientId))
        {
            return false;
        }

        var application = await applications.FindByClientIdAsync(clientId);
        return application is not null && await applications.HasClientTypeAsync(application, ClientTypes.Public);
    }
}
