using System.Collections.Immutable;
using OpenIddict.Server;

namespace IdentityHub.Server.Oidc.Clients;

/// <summary>
/// What holds for a client at every endpoint that names one (authorization, PAR, token, introspection, revocation),
/// listed once: a disabled client is refused, and a client assertion (private_key_jwt) is checked and used once.
/// </summary>
public static class ClientHandlers
{
    public static ImmutableArray<OpenIddictServerHandlerDescriptor> All { get; } =
    [
        .. DisabledClientRefusal.Descriptors,
        .. ClientAssertionChecks.Descriptors,
    ];
}
