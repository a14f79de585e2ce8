using IdentityHub.Core.Access;
using IdentityHub.Data;
using IdentityHub.Server.Oidc.Keys;
using IdentityHub.Server.Oidc.Pruning;
using OpenIddict.Abstractions;

namespace IdentityHub.Server.Oidc;

public static class OidcSetup
{
    public static void AddIdentityHubOidc(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.Services.AddScoped<AdminClientBootstrap>();
        builder.Services.AddScoped<EffectiveEntitlements>();
        builder.Services.AddOpenIddict()
            .AddCore(core => core.UseEntityFrameworkCore().UseDbContext<IdentityHubDbContext>())
            .AddServer(server =>
            {
                if (configuration["Oidc:Issuer"] is { Length: > 0 } issuer)
                {
                    server.SetIssuer(new Uri(issuer, UriKind.Absolute));
                }

                server.SetAuthorizationEndpointUris("connect/authorize")
                    .SetTokenEndpointUris("connect/token")
                    .SetUserInfoEndpointUris("connect/userinfo")
                    .SetEndSessionEndpointUris("connect/endsession")
                    .SetIntrospectionEndpointUris("connect/introspect")
                    .SetRevocationEndpointUris("connect/revoke")
                    .SetJsonWebKeySetEndpointUris(".well-known/jwks");

                server.RegisterScopes(
                    OpenIddictConstants.Scopes.OpenId, OpenIddictConstants.Scopes.Profile, OpenIddictConstants.Scopes.Email,
                    OpenIddictConstants.Scopes.OfflineAccess, IdentityHubScopes.Employee, IdentityHubScopes.Roles, IdentityHubScopes.AdminApi);

                server.AllowAuthorizationCodeFlow()
                    .AllowClientCredentialsFlow()
                    .AllowRefreshTokenFlow();

                // RFC 9700 §2.1.1: PKCE on every authorization code, S256 only.
                server.RequireProofKeyForCodeExchange()
                    .Configure(options => options.CodeChallengeMethods.Remove(OpenIddictConstants.CodeChallengeMethods.Plain));

                // Access tokens are plain signed JWTs so applications can validate them with any JOSE library.
                server.DisableAccessTokenEncryption();

                var aspNetCore = server.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough()
                    .EnableStatusCodePagesIntegration();
                if (!configuration.GetValue("Oidc:RequireHttps", defaultValue: true))
                {
                    aspNetCore.DisableTransportSecurityRequirement();
                }
            })
            .AddValidation(validation =>
            {
                validation.UseLocalServer();
                // Bearer tokens are accepted only by the admin API, and only when issued for it.
                validation.AddAudiences(IdentityHubScopes.AdminApiAudience);
                validation.UseAspNetCore();
            });

        builder.AddIdentityHubSigningKeys();
        builder.AddIdentityHubTokenPruning();
    }
}
