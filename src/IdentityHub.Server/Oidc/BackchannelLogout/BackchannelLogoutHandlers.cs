using System.Collections.Immutable;
using IdentityHub.Core.Sessions;
using OpenIddict.Server;

namespace IdentityHub.Server.Oidc.BackchannelLogout;

/// <summary>
/// What OpenID Connect Back-Channel Logout 1.0 adds to OpenIddict's endpoints, listed once; the logout tokens
/// themselves are queued by <see cref="BackchannelLogoutNotices"/> and sent by <see cref="BackchannelLogoutSender"/>.
/// </summary>
public static class BackchannelLogoutHandlers
{
    public static ImmutableArray<OpenIddictServerHandlerDescriptor> All { get; } =
    [
        // §2.1: discovery says logout tokens are sent, with sid.
        BackchannelLogoutDiscovery.Descriptor,
    ];
}
