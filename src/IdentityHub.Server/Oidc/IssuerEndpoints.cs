using OpenIddict.Server;

namespace IdentityHub.Server.Oidc;

/// <summary>
/// The addresses an integrator configures in a relying party, as the discovery document publishes them: the
/// configured issuer (Oidc:Issuer) or, without one, the request's base address, as OpenIddict itself does.
/// </summary>
public sealed record IssuerEndpoints(
    Uri Issuer, Uri Discovery, Uri Authorization, Uri Token, Uri UserInfo, Uri EndSession, Uri Jwks, Uri PushedAuthorization,
    Uri Revocation, Uri Introspection)
{
    public static IssuerEndpoints Of(HttpContext context, OpenIddictServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        var request = context.Request;
        var issuer = options.Issuer ?? new Uri($"{request.Scheme}://{request.Host}{request.PathBase}/", UriKind.Absolute);
        // Relative endpoint paths sit under the issuer's path, which needs its trailing slash to be a base.
        var root = issuer.AbsolutePath.EndsWith('/') ? issuer : new Uri(issuer.AbsoluteUri + "/", UriKind.Absolute);
        Uri At(List<Uri> uris) => uris.Count == 0 ? issuer : uris[0].IsAbsoluteUri ? uris[0] : new Uri(root, uris[0]);
        return new(
            issuer,
            At(options.ConfigurationEndpointUris),
            At(options.AuthorizationEndpointUris),
            At(options.TokenEndpointUris),
            At(options.UserInfoEndpointUris),
            At(options.EndSessionEndpointUris),
            At(options.JsonWebKeySetEndpointUris),
            At(options.PushedAuthorizationEndpointUris),
            At(options.RevocationEndpointUris),
            At(options.IntrospectionEndpointUris));
    }
}
