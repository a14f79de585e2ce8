using System.Collections.Immutable;
using OpenIddict.Server;

namespace IdentityHub.Server.Oidc.Authorize;

/// <summary>
/// What IdentityHub adds to OpenIddict at the authorization endpoint and at its pushed form (RFC 9126: PAR pushes the
/// same request), listed once like OpenIddict's <c>OpenIddictServerHandlers.Authentication.DefaultHandlers</c>.
/// OpenIddict runs them by their own order, whatever the order of this list.
/// </summary>
public static class AuthorizeHandlers
{
    public static ImmutableArray<OpenIddictServerHandlerDescriptor> All { get; } =
    [
        // Extraction: an oversized parameter is refused before anything is validated, redirected or echoed.
        ParameterSizeLimit.AuthorizationDescriptor,
        ParameterSizeLimit.PushedDescriptor,

        // Validation: a public client always sends a code_challenge (RFC 9700 §2.1.1).
        PublicClientPkceRequirement.Descriptor,
        PublicClientPkceRequirement.PushedDescriptor,

        // Response: invalid_request_uri for a spent PAR reference; errors back to a registered redirect URI.
        RequestUriErrorCode.Descriptor,
        AuthorizationErrorRedirect.Descriptor,
        AuthorizationErrorRedirect.ResponseModeDescriptor,
        // form_post: the page's CSP allows its one script and a post to the registered redirect URI.
        FormPostPolicy.Descriptor,

        // Discovery: the acr classes acr_values may ask for (MFA steps the sign-in up).
        AuthnContextDiscovery.Descriptor,
    ];
}
