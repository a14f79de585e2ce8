using System.Collections.Immutable;
using OpenIddict.Server;

namespace IdentityHub.Server.Oidc.Clients;

/// <summary>
/// What holds for a client at every endpoint that names one (authorization, PAR, token, introspection, revocation),
/// listed once: a disabled client is refused, a client assertion (private_key_jwt) is checked and used once, and a
/// client authenticates only with the method it registered.
/// </summary>
public static class ClientHandlers
{
    public static ImmutableArray<OpenIddictServerHandlerDescriptor> All { get; } =
    [
        .. DisabledClientRefusal.Descriptors,
        .. ClientAssertionChecks.Descriptors,
        .. RegisteredAuthMethodEnforcement.Descriptors,
    ];
}
