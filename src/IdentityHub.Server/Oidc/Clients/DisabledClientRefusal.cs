using IdentityHub.Core.Access;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHub.Server.Oidc.Clients;

/// <summary>
/// An administrator can switch a client off without deleting its registration: it then gets no code, no
/// pushed request, no token, and may not introspect or revoke. Already issued access tokens run out by
/// their lifetime.
/// </summary>
public sealed class DisabledClientRefusal(IOpenIddictApplicationManager applications)
    : IOpenIddictServerHandler<ValidateAuthorizationRequestContext>,
      IOpenIddictServerHandler<ValidatePushedAuthorizationRequestContext>,
      IOpenIddictServerHandler<ValidateTokenRequestContext>,
      IOpenIddictServerHandler<ValidateIntrospectionRequestContext>,
      IOpenIddictServerHandler<ValidateRevocationRequestContext>
{
    public const string Description = "This client has been disabled by an administrator.";

    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors { get; } =
    [
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateAuthorizationRequestContext>()
            .UseScopedHandler<DisabledClientRefusal>().SetOrder(Order).SetType(OpenIddictServerHandlerType.Custom).Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidatePushedAuthorizationRequestContext>()
            .UseScopedHandler<DisabledClientRefusal>().SetOrder(Order).SetType(OpenIddictServerHandlerType.Custom).Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .UseScopedHandler<DisabledClientRefusal>().SetOrder(Order).SetType(OpenIddictServerHandlerType.Custom).Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateIntrospectionRequestContext>()
            .UseScopedHandler<DisabledClientRefusal>().SetOrder(Order).SetType(OpenIddictServerHandlerType.Custom).Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateRevocationRequestContext>()
            .UseScopedHandler<DisabledClientRefusal>().SetOrder(Order).SetType(OpenIddictServerHandlerType.Custom).Build(),
    ];

    // RFC 6749 §4.1.2.1: the client is known but may not obtain a code.
    public async ValueTask HandleAsync(ValidateAuthorizationRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (await IsDisabledAsync(context.ClientId))
        {
            context.Reject(Errors.UnauthorizedClient, Description);
        }
    }

    public async ValueTask HandleAsync(ValidatePushedAuthorizationRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (await IsDisabledAsync(context.ClientId))
        {
            context.Reject(Errors.UnauthorizedClient, Description);
        }
    }

    // RFC 6749 §5.2: a client that may not authenticate any more is answered as invalid_client.
    public async ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (await IsDisabledAsync(context.ClientId))
        {
            context.Reject(Errors.InvalidClient, Description);
        }
    }

    // RFC 7662 §2.3 / RFC 7009 §2.2.1: the caller is no longer an authorized client.
    public async ValueTask HandleAsync(ValidateIntrospectionRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (await IsDisabledAsync(context.ClientId))
        {
            context.Reject(Errors.InvalidClient, Description);
        }
    }

    public async ValueTask HandleAsync(ValidateRevocationRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (await IsDisabledAsync(context.ClientId))
        {
            context.Reject(Errors.InvalidClient, Description);
        }
    }

    private async ValueTask<bool> IsDisabledAsync(string? clientId) =>
        !string.IsNullOrEmpty(clientId)
        && await applications.FindByClientIdAsync(clientId) is { } application
        && ClientProperties.IsDisabled(await applications.GetPropertiesAsync(application));

    // After OpenIddict's own checks, so unknown clients and bad secrets keep their own error.
    private const int Order = int.MaxValue - 100_000;
}
