using System.Globalization;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;
using OidcPermissions = OpenIddict.Abstractions.OpenIddictConstants.Permissions;

namespace IdentityHub.Core.Access;

/// <summary>The OIDC part of an application as an administrator registers it (RFC 7591 §3.1 names where one exists).</summary>
public sealed record ClientRegistrationRequest(
    string? ClientType,
    IReadOnlyList<string>? RedirectUris,
    IReadOnlyList<string>? PostLogoutRedirectUris,
    IReadOnlyList<string>? GrantTypes,
    IReadOnlyList<string>? Scopes,
    string? TokenEndpointAuthMethod,
    JsonElement? Jwks,
    bool FirstParty,
    bool RequirePkce,
    bool RequirePushedAuthorization,
    string? BackchannelLogoutUri,
    int? AccessTokenLifetimeSeconds,
    int? RefreshTokenLifetimeSeconds,
    int? IdentityTokenLifetimeSeconds,
    int? AuthorizationCodeLifetimeSeconds,
    IReadOnlyList<string>? AdminRoles,
    bool? Enabled = null,
    string? InitiateLoginUri = null);

/// <summary>The OIDC client as stored (RFC 7591 §3.2.1); <see cref="ClientSecret"/> only right after the server generated one.</summary>
public sealed record ClientRegistrationResponse(
    string ClientId,
    string ClientType,
    IReadOnlyList<string> RedirectUris,
    IReadOnlyList<string> PostLogoutRedirectUris,
    IReadOnlyList<string> GrantTypes,
    IReadOnlyList<string> Scopes,
    string TokenEndpointAuthMethod,
    JsonElement? Jwks,
    bool FirstParty,
    bool RequirePkce,
    bool RequirePushedAuthorization,
    string? BackchannelLogoutUri,
    int? AccessTokenLifetimeSeconds,
    int? RefreshTokenLifetimeSeconds,
    int? IdentityTokenLifetimeSeconds,
    int? AuthorizationCodeLifetimeSeconds,
    IReadOnlyList<string> AdminRoles,
    bool Enabled,
    string? ClientSecret = null,
    string? InitiateLoginUri = null);

/// <summary>
/// Checks a client registration and maps it to and from OpenIddict's application model (permissions,
/// requirements, settings, properties, consent type, JSON Web Key Set).
/// </summary>
public static partial class ClientRegistration
{
    public const string SecretBasic = "client_secret_basic";
    public const string SecretPost = "client_secret_post";
    public const string PrivateKeyJwt = "private_key_jwt";
    public const string None = "none";

    /// <summary>The longest refresh token lifetime a client may be given; signing keys stay published this long.</summary>
    public static readonly TimeSpan MaxRefreshTokenLifetime = TimeSpan.FromDays(90);

    /// <summary>Property key (string): the token endpoint auth method the client registered (RFC 7591 §2).</summary>
    public const string AuthMethodProperty = "token_endpoint_auth_method";

    /// <summary>The grant types a client may register, in the order forms list them.</summary>
    public static IReadOnlyList<string> SupportedGrantTypes => KnownGrantTypes;

    /// <summary>The scopes a client may register, in the order forms list them.</summary>
    public static IReadOnlyList<string> SupportedScopes => KnownScopes;

    /// <summary>The token endpoint auth methods a client may register (RFC 7591 §2).</summary>
    public static IReadOnlyList<string> SupportedAuthMethods => AuthMethods;

    private static readonly string[] KnownGrantTypes = [GrantTypes.AuthorizationCode, GrantTypes.RefreshToken, GrantTypes.ClientCredentials];

    private static readonly string[] KnownScopes =
    [
        OpenIddictConstants.Scopes.OpenId, OpenIddictConstants.Scopes.Profile, OpenIddictConstants.Scopes.Email,
        IdentityHubScopes.Employee, OpenIddictConstants.Scopes.OfflineAccess, IdentityHubScopes.Roles, IdentityHubScopes.AdminApi,
    ];

    private static readonly string[] AuthMethods = [SecretBasic, SecretPost, PrivateKeyJwt, None];

    /// <summary>Whether this registration authenticates with a client secret (basic or post).</summary>
    public static bool UsesSecret(ClientRegistrationRequest request) =>
        ResolveAuthMethod(request) is SecretBasic or SecretPost;

    /// <summary>The OpenIddict descriptor for a valid registration; the caller sets the client id and secret.</summary>
    public static OpenIddictApplicationDescriptor ToDescriptor(ClientRegistrationRequest request, string clientId, string displayName, Guid applicationId)
    {
        ArgumentNullException.ThrowIfNull(request);
        var isPublic = request.ClientType == ClientTypes.Public;
        var grants = request.GrantTypes ?? [];
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientType = isPublic ? ClientTypes.Public : ClientTypes.Confidential,
            ApplicationType = ApplicationTypes.Web,
            DisplayName = displayName,
            // First-party applications belong to the company: no consent screen for its own employees.
            ConsentType = request.FirstParty ? ConsentTypes.Implicit : ConsentTypes.Explicit,
        };

        if (grants.Contains(GrantTypes.AuthorizationCode))
        {
            descriptor.Permissions.UnionWith(
            [
                OidcPermissions.Endpoints.Authorization, OidcPermissions.Endpoints.Token, OidcPermissions.Endpoints.EndSession,
                OidcPermissions.Endpoints.PushedAuthorization, OidcPermissions.GrantTypes.AuthorizationCode, OidcPermissions.ResponseTypes.Code,
            ]);
        }

        if (grants.Contains(GrantTypes.RefreshToken))
        {
            descriptor.Permissions.Add(OidcPermissions.GrantTypes.RefreshToken);
        }

        if (grants.Contains(GrantTypes.ClientCredentials))
        {
            descriptor.Permissions.UnionWith([OidcPermissions.Endpoints.Token, OidcPermissions.GrantTypes.ClientCredentials]);
        }

        // RFC 7009 §2.1: any client may revoke its own tokens; RFC 7662 introspection is for authenticated clients.
        descriptor.Permissions.Add(OidcPermissions.Endpoints.Revocation);
        if (!isPublic)
        {
            descriptor.Permissions.Add(OidcPermissions.Endpoints.Introspection);
        }

        foreach (var scope in request.Scopes ?? [])
        {
            descriptor.Permissions.Add(OidcPermissions.Prefixes.Scope + scope);
        }

        // RFC 9700 §2.1.1: public clients always use PKCE; confidential ones when registered so.
        if (isPublic || request.RequirePkce)
        {
            descriptor.Requirements.Add(Requirements.Features.ProofKeyForCodeExchange);
        }

        if (request.RequirePushedAuthorization)
        {
            descriptor.Requirements.Add(Requirements.Features.PushedAuthorizationRequests);
        }

        foreach (var uri in request.RedirectUris ?? [])
        {
            descriptor.RedirectUris.Add(new Uri(uri, UriKind.Absolute));
        }

        foreach (var uri in request.PostLogoutRedirectUris ?? [])
        {
            descriptor.PostLogoutRedirectUris.Add(new Uri(uri, UriKind.Absolute));
        }

        SetLifetime(descriptor, Settings.TokenLifetimes.AccessToken, request.AccessTokenLifetimeSeconds);
        SetLifetime(descriptor, Settings.TokenLifetimes.RefreshToken, request.RefreshTokenLifetimeSeconds);
        SetLifetime(descriptor, Settings.TokenLifetimes.IdentityToken, request.IdentityTokenLifetimeSeconds);
        SetLifetime(descriptor, Settings.TokenLifetimes.AuthorizationCode, request.AuthorizationCodeLifetimeSeconds);

        var method = ResolveAuthMethod(request);
        if (method == PrivateKeyJwt && request.Jwks is { } jwks)
        {
            descriptor.JsonWebKeySet = new JsonWebKeySet(jwks.GetRawText());
        }

        descriptor.Properties[ClientProperties.ApplicationId] = JsonSerializer.SerializeToElement(applicationId.ToString());
        descriptor.Properties[AuthMethodProperty] = JsonSerializer.SerializeToElement(method);
        if (request.AdminRoles is { Count: > 0 } roles)
        {
            descriptor.Properties[ClientProperties.AdminRoles] = JsonSerializer.SerializeToElement(roles.Distinct(StringComparer.Ordinal).ToArray());
        }

        if (request.BackchannelLogoutUri is { } backchannel)
        {
            descriptor.Properties[ClientProperties.BackchannelLogoutUri] = JsonSerializer.SerializeToElement(backchannel);
        }

        if (request.InitiateLoginUri is { } initiateLogin)
        {
            descriptor.Properties[ClientProperties.InitiateLoginUri] = JsonSerializer.SerializeToElement(initiateLogin);
        }

        if (request.Enabled == false)
        {
            descriptor.Properties[ClientProperties.Disabled] = JsonSerializer.SerializeToElement(true);
        }

        return descriptor;
    }

    /// <summary>Reads a stored client back into the admin API's shape (never the secret or its hash).</summary>
    public static async Task<ClientRegistrationResponse> ReadAsync(
        IOpenIddictApplicationManager applications, object application, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(applications);
        var descriptor = new OpenIddictApplicationDescriptor();
        await applications.PopulateAsync(descriptor, application, cancellationToken);
        var permissions = descriptor.Permissions;
        var grants = KnownGrantTypes.Where(g => permissions.Contains(OidcPermissions.Prefixes.GrantType + g)).ToArray();
        var scopes = permissions.Where(p => p.StartsWith(OidcPermissions.Prefixes.Scope, StringComparison.Ordinal))
            .Select(p => p[OidcPermissions.Prefixes.Scope.Length..]).Order(StringComparer.Ordinal).ToArray();
        var isPublic = descriptor.ClientType == ClientTypes.Public;
        var method = StringProperty(descriptor, AuthMethodProperty) ?? (isPublic ? None : SecretBasic);
        JsonElement? jwks = descriptor.JsonWebKeySet is { Keys.Count: > 0 } set
            ? JsonSerializer.SerializeToElement(new { keys = set.Keys.Select(PublicJwk).ToArray() })
            : null;

        return new ClientRegistrationResponse(
            ClientId: descriptor.ClientId!,
            ClientType: descriptor.ClientType ?? ClientTypes.Public,
            RedirectUris: [.. descriptor.RedirectUris.Select(u => u.OriginalString)],
            PostLogoutRedirectUris: [.. descriptor.PostLogoutRedirectUris.Select(u => u.OriginalString)],
            GrantTypes: grants,
            Scopes: scopes,
            TokenEndpointAuthMethod: method,
            Jwks: jwks,
            FirstParty: descriptor.ConsentType == ConsentTypes.Implicit,
            RequirePkce: descriptor.Requirements.Contains(Requirements.Features.ProofKeyForCodeExchange),
            RequirePushedAuthorization: descriptor.Requirements.Contains(Requirements.Features.PushedAuthorizationRequests),
            BackchannelLogoutUri: StringProperty(descriptor, ClientProperties.BackchannelLogoutUri),
            AccessTokenLifetimeSeconds: Lifetime(descriptor, Settings.TokenLifetimes.AccessToken),
            RefreshTokenLifetimeSeconds: Lifetime(descriptor, Settings.TokenLifetimes.RefreshToken),
            IdentityTokenLifetimeSeconds: Lifetime(descriptor, Settings.TokenLifetimes.IdentityToken),
            AuthorizationCodeLifetimeSeconds: Lifetime(descriptor, Settings.TokenLifetimes.AuthorizationCode),
            AdminRoles: ClientProperties.AdminRolesOf(descriptor.Properties),
            Enabled: !ClientProperties.IsDisabled(descriptor.Properties),
            InitiateLoginUri: StringProperty(descriptor, ClientProperties.InitiateLoginUri));
    }

    /// <summary>The registration a stored client answers to, to submit again with one thing changed.</summary>
    public static ClientRegistrationRequest RequestOf(ClientRegistrationResponse client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new ClientRegistrationRequest(
            client.ClientType, client.RedirectUris, client.PostLogoutRedirectUris, client.GrantTypes, client.Scopes,
            client.TokenEndpointAuthMethod, client.Jwks, client.FirstParty, client.RequirePkce, client.RequirePushedAuthorization,
            client.BackchannelLogoutUri, client.AccessTokenLifetimeSeconds, client.RefreshTokenLifetimeSeconds,
            client.IdentityTokenLifetimeSeconds, client.AuthorizationCodeLifetimeSeconds, client.AdminRoles, client.Enabled, client.InitiateLoginUri);
    }

    /// <summary>
    /// A readable, unique client id: a slug of the application's name and 8 random characters
    /// ("expense-system-k3v9q2xa"), so logs stay legible and names never collide.
    /// </summary>
    public static string NewClientId(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var slug = new System.Text.StringBuilder();
        foreach (var c in name.ToLowerInvariant())
        {
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9')
            {
                slug.Append(c);
            }
            else if (slug.Length > 0 && slug[^1] != '-')
            {
                slug.Append('-');
            }

            if (slug.Length >= 40)
            {
                break;
            }
        }

        var prefix = slug.ToString().Trim('-');
        const string alphabet = "abcdefghijkmnpqrstuvwxyz23456789";
        var suffix = System.Security.Cryptography.RandomNumberGenerator.GetString(alphabet, 8);
        return (prefix.Length > 0 ? prefix : "app") + "-" + suffix;
    }

    private static string ResolveAuthMethod(ClientRegistrationRequest request) =>
        request.TokenEndpointAuthMethod ?? (request.ClientType == ClientTypes.Public ? None : SecretBasic);

    private static void SetLifetime(OpenIddictApplicationDescriptor descriptor, string setting, int? seconds)
    {
        if (seconds is { } value)
        {
            descriptor.Settings[setting] = TimeSpan.FromSeconds(value).ToString("c", CultureInfo.InvariantCulture);
        }
    }

    private static int? Lifetime(OpenIddictApplicationDescriptor descriptor, string setting) =>
        descriptor.Settings.TryGetValue(setting, out var value) && TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var span)
            ? (int)span.TotalSeconds
            : null;

    private static string? StringProperty(OpenIddictApplicationDescriptor descriptor, string key) =>
        descriptor.Properties.TryGetValue(key, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static Dictionary<string, object> PublicJwk(JsonWebKey key)
    {
        var jwk = new Dictionary<string, object> { ["kty"] = key.Kty };
        void Put(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                jwk[name] = value;
            }
        }

        Put("kid", key.Kid);
        Put("use", key.Use);
        Put("alg", key.Alg);
        Put("n", key.N);
        Put("e", key.E);
        Put("crv", key.Crv);
        Put("x", key.X);
        Put("y", key.Y);
        return jwk;
    }
}
