using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHub.Server.Oidc.Token;

/// <summary>
/// RFC 6749 §6 and §5.2: a refresh request may narrow the granted scopes but not widen them, and widening is
/// answered with invalid_scope (OpenIddict's own check answers invalid_grant; this runs first).
/// </summary>
public sealed class RefreshScopeLimit : IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .UseSingletonHandler<RefreshScopeLimit>()
            .SetOrder(OpenIddictServerHandlers.Exchange.ValidateGrantedScopes.Descriptor.Order - 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Request.IsRefreshTokenGrantType() || string.IsNullOrEmpty(context.Request.Scope) || context.RefreshTokenPrincipal is null)
        {
            return ValueTask.CompletedTask;
        }

        var granted = context.RefreshTokenPrincipal.GetScopes();
        if (context.Request.GetScopes().Except(granted, StringComparer.Ordinal).Any())
        {
            context.Reject(Errors.InvalidScope, "The refresh request asks for scopes that were not granted.");
        }

        return ValueTask.CompletedTask;
    }
}
