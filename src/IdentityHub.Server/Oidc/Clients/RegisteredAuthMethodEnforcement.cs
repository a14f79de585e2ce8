using System.Text.Json;
using IdentityHub.Core.Access;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Microsoft.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHub.Server.Oidc.Clients;

/// <summary>
/// RFC 7591 §2 / OIDC Core §9: a client authenticates with the <c>token_endpoint_auth_method</c> it registered, and only
/// that one — a client_secret_post client is refused when it sends HTTP Basic and the other way round, and a
/// private_key_jwt client may not fall back to a secret. Applies wherever a client authenticates: token, PAR,
/// introspection and revocation. OpenIddict only has a server-wide list of methods, so the per-client rule is here.
/// </summary>
public sealed class RegisteredAuthMethodEnforcement(IOpenIddictApplicationManager applications)
    : IOpenIddictServerHandler<ValidateTokenRequestContext>,
      IOpenIddictServerHandler<ValidatePushedAuthorizationRequestContext>,
      IOpenIddictServerHandler<ValidateIntrospectionRequestContext>,
      IOpenIddictServerHandler<ValidateRevocationRequestContext>
{
    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors { get; } =
    [
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .UseScopedHandler<RegisteredAuthMethodEnforcement>().SetOrder(Order).SetType(OpenIddictServerHandlerType.Custom).Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidatePushedAuthorizationRequestContext>()
            .UseScopedHandler<RegisteredAuthMethodEnforcement>().SetOrder(Order).SetType(OpenIddictServerHandlerType.Custom).Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateIntrospectionRequestContext>()
            .UseScopedHandler<RegisteredAuthMethodEnforcement>().SetOrder(Order).SetType(OpenIddictServerHandlerType.Custom).Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateRevocationRequestContext>()
            .UseScopedHandler<RegisteredAuthMethodEnforcement>().SetOrder(Order).SetType(OpenIddictServerHandlerType.Custom).Build(),
    ];

    public ValueTask HandleAsync(ValidateTokenRequestContext context) => CheckAsync(context, context?.ClientId);

    public ValueTask HandleAsync(ValidatePushedAuthorizationRequestContext context) => CheckAsync(context, context?.ClientId);

    public ValueTask HandleAsync(ValidateIntrospectionRequestContext context) => CheckAsync(context, context?.ClientId);

    public ValueTask HandleAsync(ValidateRevocationRequestContext context) => CheckAsync(context, context?.ClientId);

    /// <summary>The method <paramref name="request"/> authenticated with, read from where the credentials came.</summary>
    public static string MethodUsed(OpenIddictRequest request, Microsoft.AspNetCore.Http.HttpRequest? http)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!string.IsNullOrEmpty(request.ClientAssertion))
        {
            return ClientRegistration.PrivateKeyJwt;
        }

        // OpenIddict copies HTTP Basic credentials into client_id/client_secret: the header tells them apart from the body.
        if (http is not null && ClientBasicCredentials.From(http) is not null)
        {
            return ClientRegistration.SecretBasic;
        }

        return string.IsNullOrEmpty(request.ClientSecret) ? ClientRegistration.None : ClientRegistration.SecretPost;
    }

    private async ValueTask CheckAsync(BaseValidatingContext context, string? clientId)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (string.IsNullOrEmpty(clientId) || context.Transaction.Request is not { } request
            || await applications.FindByClientIdAsync(clientId) is not { } application)
        {
            return;
        }

        // Clients stored before the method was recorded keep OpenIddict's default: any method their type allows.
        var properties = await applications.GetPropertiesAsync(application);
        if (!properties.TryGetValue(ClientRegistration.AuthMethodProperty, out var registered) || registered.ValueKind != JsonValueKind.String)
        {
            return;
        }

        var used = MethodUsed(request, context.Transaction.GetHttpRequest());
        if (!string.Equals(used, registered.GetString(), StringComparison.Ordinal))
        {
            // RFC 6749 §5.2: an unsupported authentication method is invalid_client.
            context.Reject(Errors.InvalidClient,
                $"This client is registered to authenticate with {registered.GetString()}, not {used}.");
        }
    }

    // After OpenIddict's own client authentication, so unknown clients and bad secrets keep their own error.
    private const int Order = int.MaxValue - 100_000;
}
