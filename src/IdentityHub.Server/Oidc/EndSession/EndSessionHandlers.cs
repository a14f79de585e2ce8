using System.Collections.Immutable;
using IdentityHub.Server.Oidc.Authorize;
using OpenIddict.Server;

namespace IdentityHub.Server.Oidc.EndSession;

/// <summary>
/// What IdentityHub adds to OpenIddict at the end-session endpoint (RP-Initiated Logout), listed once like OpenIddict's
/// <c>OpenIddictServerHandlers.Session.DefaultHandlers</c>; the passthrough page is <see cref="EndSessionEndpoint"/>.
/// </summary>
public static class EndSessionHandlers
{
    public static ImmutableArray<OpenIddictServerHandlerDescriptor> All { get; } =
    [
        // The front-channel size limit the authorization endpoint has too.
        ParameterSizeLimit.EndSessionDescriptor,

        // A forged or garbled id_token_hint is refused, not ignored.
        IdTokenHintValidation.Descriptor,
    ];
}
