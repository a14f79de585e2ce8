using IdentityHub.Core.Access;
using IdentityHub.Data;
using IdentityHub.Data.Keys;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using OpenIddict.Server;

namespace IdentityHub.Server.Oidc;

public static class OidcSetup
{
    public static void AddIdentityHubOidc(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.Services.AddScoped<SigningKeyStore>();
        builder.Services.AddSingleton<ClientCache>();
        builder.Services.AddScoped<AdminClientBootstrap>();
        builder.Services.AddScoped<EffectiveEntitlements>();
        builder.Services.AddOpenIddict()
            .AddCore(core =>
            {
                core.UseEntityFrameworkCore().UseDbContext<IdentityHubDbContext>();
                // SHA-256 client secrets and a process-wide client cache: the token endpoint's hot path.
                core.ReplaceApplicationManager<OpenIddictEntityFrameworkCoreApplication, ClientApplicationManager>();
            })
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

                if (!configuration.GetValue(ClientCredentialsTokenStorage.StoreSettingKey, defaultValue: false))
                {
                    server.AddEventHandler(ClientCredentialsTokenStorage.Descriptor);
                }

                foreach (var descriptor in ClientAssertionChecks.Descriptors)
                {
                    server.AddEventHandler(descriptor);
                }

                // Access tokens are plain signed JWTs so applications can validate them with any JOSE library.
                server.DisableAccessTokenEncryption();

                var aspNetCore = server.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough()
                    .EnableStatusCodePagesIntegration()
                    // Machines read these responses; indenting them costs CPU on every token request.
                    .SuppressJsonResponseIndentation();
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

        builder.Services.AddSingleton<IConfigureOptions<OpenIddictServerOptions>, ConfigureServerKeys>();
    }

    /// <summary>Hands the keys stored in the database to OpenIddict when its options are first built.</summary>
    private sealed class ConfigureServerKeys(IServiceScopeFactory scopes) : IConfigureOptions<OpenIddictServerOptions>
    {
        public void Configure(OpenIddictServerOptions options)
        {
            using var scope = scopes.CreateScope();
            var store = scope.ServiceProvider.GetRequiredService<SigningKeyStore>();
            // Options are built synchronously by design; this runs once per process, after migrations.
            var signing = store.LoadActiveAsync(KeyUses.Signing, CancellationToken.None).GetAwaiter().GetResult();
            var encryption = store.LoadActiveAsync(KeyUses.Encryption, CancellationToken.None).GetAwaiter().GetResult();
            if (signing.Count == 0 || encryption.Count == 0)
            {
                throw new InvalidOperationException("No signing or encryption key is stored; start-up should have created them.");
            }

            foreach (var (row, key) in signing)
            {
                options.SigningCredentials.Add(new SigningCredentials(key, row.Algorithm));
            }

            foreach (var (row, key) in encryption)
            {
                options.EncryptionCredentials.Add(new EncryptingCredentials(key, row.Algorithm, SecurityAlgorithms.Aes256CbcHmacSha512));
            }
        }
    }
}
