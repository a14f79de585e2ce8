using System.Collections.Immutable;
using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Server.AdminApi;
using IdentityHub.Server.Identities;
using IdentityHub.Server.Oidc.Authorize;
using IdentityHub.Server.Oidc.BackchannelLogout;
using IdentityHub.Server.Oidc.Clients;
using IdentityHub.Server.Oidc.EndSession;
using IdentityHub.Server.Oidc.Keys;
using IdentityHub.Server.Oidc.Pruning;
using IdentityHub.Server.Oidc.Revocation;
using IdentityHub.Server.Oidc.Token;
using IdentityHub.Server.Oidc.UserInfo;
using OpenIddict.Abstractions;
using OpenIddict.Server;

namespace IdentityHub.Server.Oidc;

public static class OidcSetup
{
    private static readonly ImmutableArray<OpenIddictServerHandlerDescriptor>[] HandlerLists =
    [
        AuthorizeHandlers.All,
        TokenHandlers.All,
        ClientHandlers.All,
        EndSessionHandlers.All,
        RevocationHandlers.All,
        BackchannelLogoutHandlers.All,
    ];

    public static void AddIdentityHubOidc(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.Services.AddScoped<AdminClientBootstrap>();
        builder.Services.AddScoped<UserClaims>();
        builder.Services.AddScoped<BackchannelLogoutToken>();
        builder.Services.AddHostedService<BackchannelLogoutSender>();
        builder.Services.AddHttpClient(BackchannelLogoutSender.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(10))
            // A logout token goes to the registered URI only; a redirect must not carry it to another host.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        builder.Services.AddOpenIddict()
            // SHA-256 client secrets and a process-wide client cache: the token endpoint's hot path.
            .AddCore(core => core.UseIdentityHubClients())
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
                    .SetPushedAuthorizationEndpointUris("connect/par")
                    .SetJsonWebKeySetEndpointUris(".well-known/jwks");

                server.RegisterScopes(
                    OpenIddictConstants.Scopes.OpenId, OpenIddictConstants.Scopes.Profile, OpenIddictConstants.Scopes.Email,
                    OpenIddictConstants.Scopes.OfflineAccess, IdentityHubScopes.Employee, IdentityHubScopes.Roles, IdentityHubScopes.AdminApi);

                server.RegisterClaims([.. Identities.UserClaims.SupportedClaims]);

                server.AllowAuthorizationCodeFlow()
                    .AllowClientCredentialsFlow()
                    .AllowRefreshTokenFlow();

                // RFC 9700 §2.1.1: S256 only. PKCE is required per client (always for public ones, see
                // PublicClientPkceRequirement), so confidential clients may opt out.
                server.Configure(options => options.CodeChallengeMethods.Remove(OpenIddictConstants.CodeChallengeMethods.Plain));

                // RFC 9700 §4.14.2: a rotated refresh token used again means it leaked; no grace period, so the
                // second use revokes the whole token family (OpenIddict revokes the authorization's tokens).
                server.SetRefreshTokenReuseLeeway(TimeSpan.Zero);
                // RFC 9126 §2.2: request_uri values are short-lived.
                var requestLifetime = configuration.GetValue("Oidc:PushedRequestLifetime", TimeSpan.FromSeconds(60));
                server.Configure(options => options.RequestTokenLifetime = requestLifetime);
                if (configuration.GetValue<TimeSpan?>("Oidc:AuthorizationCodeLifetime") is { } codeLifetime)
                {
                    server.SetAuthorizationCodeLifetime(codeLifetime);
                }

                // IdentityHub's own rules, one list per endpoint where they live (as OpenIddict's DefaultHandlers);
                // OpenIddict runs each by its Order, not by its place here.
                foreach (var descriptor in HandlerLists.SelectMany(list => list))
                {
                    server.AddEventHandler(descriptor);
                }

                server.AddEventHandler(UnknownKeyHandlers.ReloadForServer.Descriptor);

                // Access tokens are plain signed JWTs so applications can validate them with any JOSE library.
                server.DisableAccessTokenEncryption();

                var aspNetCore = server.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough()
                    .EnableUserInfoEndpointPassthrough()
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
                validation.AddEventHandler(UnknownKeyHandlers.ReloadForValidation.Descriptor);
                // A client disabled, deleted or stripped of admin roles loses the admin API at once, not when its token expires.
                validation.AddEventHandler(AdminClientAccess.Descriptor);
                // Bearer tokens are accepted only by the admin API, and only when issued for it.
                validation.AddAudiences(IdentityHubScopes.AdminApiAudience);
                // RFC 9700 §4.14.2: a token whose authorization was revoked (refresh token reuse, withdrawn
                // consent, a demoted or suspended administrator) stops opening the admin API at once, not when it
                // expires. OpenIddict learns a JWT's authorization from its token entry, so both checks are on; a
                // token without an entry (client credentials, not stored) has nothing to revoke and skips them.
                validation.EnableTokenEntryValidation();
                validation.EnableAuthorizationEntryValidation();
                validation.UseAspNetCore();
            });
        builder.Services.UseIndexedServerDispatcher();

        builder.AddIdentityHubSigningKeys();
        builder.AddIdentityHubTokenPruning();
    }

    /// <summary>The passthrough endpoints that are not pages (authorize and end-session are Razor pages).</summary>
    public static void MapIdentityHubOidc(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapTokenEndpoint();
        endpoints.MapUserInfoEndpoint();
    }
}
