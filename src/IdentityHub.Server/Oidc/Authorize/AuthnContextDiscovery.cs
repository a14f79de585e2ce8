using IdentityHub.Saml;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHub.Server.Oidc.Authorize;

/// <summary>
/// OpenID Connect Discovery §3: acr_values_supported lists the classes an ID token's acr may hold and acr_values may
/// ask for: a password (SAML's PasswordProtectedTransport) and the REFEDS MFA profile, which steps the sign-in up.
/// </summary>
public sealed class AuthnContextDiscovery : IOpenIddictServerHandler<HandleConfigurationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleConfigurationRequestContext>()
            .UseSingletonHandler<AuthnContextDiscovery>()
            .SetOrder(int.MaxValue - 100_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(HandleConfigurationRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Metadata["acr_values_supported"] = new System.Text.Json.Nodes.JsonArray(AuthnContextClasses.PasswordProtectedTransport, AuthnContextClasses.MultiFactor);
        return ValueTask.CompletedTask;
    }
}
