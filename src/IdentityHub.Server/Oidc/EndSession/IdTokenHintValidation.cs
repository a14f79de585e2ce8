using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHub.Server.Oidc.EndSession;

/// <summary>
/// OpenID Connect RP-Initiated Logout 1.0 §2: an id_token_hint must be an ID token this provider issued.
/// OpenIddict only ignores a hint it cannot read; a forged or garbled one is refused here instead.
/// </summary>
public sealed class IdTokenHintValidation : IOpenIddictServerHandler<ValidateEndSessionRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateEndSessionRequestContext>()
            .UseSingletonHandler<IdTokenHintValidation>()
            .SetOrder(OpenIddictServerHandlers.Session.ValidateAuthentication.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateEndSessionRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!string.IsNullOrEmpty(context.Request.IdTokenHint) && context.IdentityTokenHintPrincipal is null)
        {
            context.Reject(Errors.InvalidRequest, "The id_token_hint is not an ID token issued by this provider.");
        }

        return ValueTask.CompletedTask;
    }
}
