using System.Collections.Immutable;
using OpenIddict.Server;

namespace IdentityHub.Server.Oidc.Token;

/// <summary>
/// What IdentityHub adds to OpenIddict at the token endpoint, listed once like OpenIddict's
/// <c>OpenIddictServerHandlers.Exchange.DefaultHandlers</c>; the passthrough that decides what the tokens carry is
/// <see cref="TokenEndpoint"/>. Rules that hold for a client at every endpoint are in <c>Clients.ClientHandlers</c>.
/// </summary>
public static class TokenHandlers
{
    public static ImmutableArray<OpenIddictServerHandlerDescriptor> All { get; } =
    [
        // RFC 6749 §6: a refresh narrows the scopes, never widens them (invalid_scope).
        RefreshScopeLimit.Descriptor,

        // No database row for a client credentials access token (unless Oidc:StoreClientCredentialsAccessTokens).
        ClientCredentialsTokenStorage.Descriptor,

        // identityhub.token.requests: every answer, by grant type and outcome.
        TokenRequestMetrics.Descriptor,
    ];
}
