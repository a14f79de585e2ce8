using System.Globalization;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Core.Access;

/// <summary>
/// The rules of a client registration. Every message has a code (<c>client.*</c>) and its values, so the console
/// says it in the reader's language while the admin API keeps the English text.
/// </summary>
public static partial class ClientRegistration
{
    /// <summary>The longest URI the database keeps (back-channel logout deliveries store their target).</summary>
    public const int MaxUriLength = 2000;

    // RFC 7517 §9.1 / RFC 7518 §6: parameters that carry private or symmetric key material.
    private static readonly string[] PrivateJwkParameters = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

    /// <summary>Refuses the registration with every problem at once, keyed by the camelCase field name.</summary>
    public static void Validate(ClientRegistrationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new FieldErrors();
        void Add(string field, Problem problem) => errors.Add(field, problem.Message, problem.Code, problem.Arguments);

        var isPublic = request.ClientType == ClientTypes.Public;
        if (request.ClientType is not (ClientTypes.Confidential or ClientTypes.Public))
        {
            Add("clientType", new("clientType must be \"confidential\" or \"public\".", "client.clientType"));
        }

        var grants = request.GrantTypes ?? [];
        if (grants.Count == 0)
        {
            Add("grantTypes", new("At least one grant type is required.", "client.grantRequired"));
        }

        foreach (var grant in grants.Where(g => !KnownGrantTypes.Contains(g, StringComparer.Ordinal)))
        {
            Add("grantTypes", new($"Grant type \"{grant}\" is not supported; use authorization_code, refresh_token or client_credentials.", "client.grantUnsupported", grant));
        }

        // RFC 6749 §4.4: the client credentials grant must only be used by confidential clients.
        if (isPublic && grants.Contains(GrantTypes.ClientCredentials))
        {
            Add("grantTypes", new("A public client cannot use client_credentials.", "client.publicClientCredentials"));
        }

        if (grants.Contains(GrantTypes.RefreshToken) && !grants.Contains(GrantTypes.AuthorizationCode))
        {
            Add("grantTypes", new("refresh_token needs authorization_code: refresh tokens are only issued to the code flow.", "client.refreshNeedsCode"));
        }

        var redirectUris = request.RedirectUris ?? [];
        if (grants.Contains(GrantTypes.AuthorizationCode) && redirectUris.Count == 0)
        {
            Add("redirectUris", new("The authorization_code grant needs at least one redirect URI.", "client.redirectUriRequired"));
        }

        foreach (var uri in redirectUris)
        {
            if (CheckCallbackUri(uri) is { } problem)
            {
                Add("redirectUris", problem);
            }
        }

        foreach (var uri in request.PostLogoutRedirectUris ?? [])
        {
            if (CheckCallbackUri(uri) is { } problem)
            {
                Add("postLogoutRedirectUris", problem);
            }
        }

        if (request.BackchannelLogoutUri is { } backchannel && CheckCallbackUri(backchannel) is { } backchannelProblem)
        {
            Add("backchannelLogoutUri", backchannelProblem);
        }

        // OpenID Connect Registration 1.0 §2: initiate_login_uri MUST use https (http only on loopback, as for redirect URIs).
        if (request.InitiateLoginUri is { } initiateLogin && CheckCallbackUri(initiateLogin) is { } initiateLoginProblem)
        {
            Add("initiateLoginUri", initiateLoginProblem);
        }

        var scopes = request.Scopes ?? [];
        foreach (var scope in scopes.Where(s => !KnownScopes.Contains(s, StringComparer.Ordinal)))
        {
            var known = string.Join(", ", KnownScopes);
            Add("scopes", new($"Scope \"{scope}\" is not registered; use {known}.", "client.scopeUnknown", scope, known));
        }

        if (scopes.Contains(OpenIddictConstants.Scopes.OfflineAccess) && !grants.Contains(GrantTypes.RefreshToken))
        {
            Add("scopes", new("offline_access needs the refresh_token grant.", "client.offlineAccessNeedsRefresh"));
        }

        var adminRoles = request.AdminRoles ?? [];
        foreach (var role in adminRoles.Where(r => !Directory.AdminRoles.All.Contains(r, StringComparer.Ordinal)))
        {
            var known = string.Join(", ", Directory.AdminRoles.All);
            Add("adminRoles", new($"\"{role}\" is not an admin role; use {known}.", "client.adminRoleUnknown", role, known));
        }

        if (adminRoles.Count > 0 && isPublic)
        {
            Add("adminRoles", new("A public client cannot hold admin roles.", "client.publicAdminRoles"));
        }

        if (scopes.Contains(IdentityHubScopes.AdminApi) && adminRoles.Count == 0)
        {
            Add("scopes", new($"{IdentityHubScopes.AdminApi} is only for clients with adminRoles.", "client.adminScopeNeedsRoles", IdentityHubScopes.AdminApi));
        }

        var method = ResolveAuthMethod(request);
        if (!AuthMethods.Contains(method, StringComparer.Ordinal))
        {
            var known = string.Join(", ", AuthMethods);
            Add("tokenEndpointAuthMethod", new($"tokenEndpointAuthMethod must be one of {known}.", "client.authMethod", known));
        }
        else if (isPublic != (method == None))
        {
            Add("tokenEndpointAuthMethod", new("\"none\" is the method of public clients, and only of them.", "client.authMethodNone"));
        }

        if (method == PrivateKeyJwt)
        {
            if (CheckJwks(request.Jwks) is { } jwksProblem)
            {
                Add("jwks", jwksProblem);
            }
        }
        else if (request.Jwks is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) })
        {
            Add("jwks", new("jwks is only used with private_key_jwt.", "client.jwksOnlyForPrivateKeyJwt"));
        }

        CheckLifetime(request.AccessTokenLifetimeSeconds, "accessTokenLifetimeSeconds", 60, 86_400, Add);
        CheckLifetime(request.IdentityTokenLifetimeSeconds, "identityTokenLifetimeSeconds", 60, 86_400, Add);
        // RFC 6749 §4.1.2: authorization codes must be short-lived, ten minutes at most.
        CheckLifetime(request.AuthorizationCodeLifetimeSeconds, "authorizationCodeLifetimeSeconds", 10, 600, Add);
        CheckLifetime(request.RefreshTokenLifetimeSeconds, "refreshTokenLifetimeSeconds", 300, (int)MaxRefreshTokenLifetime.TotalSeconds, Add);

        errors.ThrowIfAny();
    }

    /// <summary>
    /// A JSON Web Key Set typed into a form as text: null when blank, else the parsed JSON (checked by <see cref="Validate"/>);
    /// refused on the jwks field when it is not JSON at all.
    /// </summary>
    public static JsonElement? ReadJwks(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            var line = ((ex.LineNumber ?? 0) + 1).ToString(CultureInfo.InvariantCulture);
            throw RuleViolation.Field("jwks", $"jwks is not JSON (error at line {line}).", ViolationKind.Invalid, "client.jwksNotJson", line);
        }
    }

    /// <summary>
    /// RFC 9700 §4.1.1 and §2.1: redirect URIs are compared exactly, so no wildcards; https except the
    /// loopback interface (RFC 8252 §7.3); no fragment (RFC 6749 §3.1.2).
    /// </summary>
    private static Problem? CheckCallbackUri(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return new("An empty URI is not allowed.", "client.uriEmpty");
        }

        if (value.Length > MaxUriLength)
        {
            var max = MaxUriLength.ToString(CultureInfo.InvariantCulture);
            return new($"A URI may have at most {max} characters.", "client.uriLength", max);
        }

        if (value.Contains('*', StringComparison.Ordinal))
        {
            return new($"\"{value}\" contains a wildcard; URIs are matched exactly.", "client.uriWildcard", value);
        }

        if (value.Contains('#', StringComparison.Ordinal))
        {
            return new($"\"{value}\" has a fragment, which is not allowed.", "client.uriFragment", value);
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || !uri.IsWellFormedOriginalString() || uri.IsFile)
        {
            return new($"\"{value}\" is not an absolute URI.", "client.uriNotAbsolute", value);
        }

        if (!WebAddresses.IsHttpsOrLoopback(uri))
        {
            return new($"\"{value}\" must use https (http is allowed only for localhost and 127.0.0.1).", "client.uriHttps", value);
        }

        // OpenIddict refuses an "iss" query parameter: it would allow issuer fixation (RFC 9207).
        return uri.Query.Contains("iss=", StringComparison.Ordinal) ? new($"\"{value}\" must not carry an iss parameter.", "client.uriIss", value) : null;
    }

    private static Problem? CheckJwks(JsonElement? jwks)
    {
        if (jwks is not { ValueKind: JsonValueKind.Object } set
            || !set.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Array || keys.GetArrayLength() == 0)
        {
            return new("private_key_jwt needs jwks: an object with a non-empty \"keys\" array (RFC 7517 §5).", "client.jwksRequired");
        }

        foreach (var key in keys.EnumerateArray())
        {
            if (key.ValueKind != JsonValueKind.Object)
            {
                return new("Each entry of jwks.keys must be a JSON Web Key object.", "client.jwksKeyNotObject");
            }

            if (PrivateJwkParameters.FirstOrDefault(p => key.TryGetProperty(p, out _)) is { } parameter)
            {
                return new($"jwks must hold public keys only; a key carries the private parameter \"{parameter}\".", "client.jwksPrivateKey", parameter);
            }

            if (!key.TryGetProperty("kty", out var kty) || kty.ValueKind != JsonValueKind.String || kty.GetString() is not ("RSA" or "EC"))
            {
                return new("Each key needs kty \"RSA\" or \"EC\".", "client.jwksKeyType");
            }
        }

        try
        {
            _ = new JsonWebKeySet(jwks.Value.GetRawText());
            return null;
        }
        catch (ArgumentException ex)
        {
            return new($"jwks is not a valid JSON Web Key Set: {ex.Message}", "client.jwksInvalid", ex.Message);
        }
    }

    private static void CheckLifetime(int? seconds, string field, int min, int max, Action<string, Problem> add)
    {
        if (seconds is { } value && (value < min || value > max))
        {
            var (from, to) = (min.ToString(CultureInfo.InvariantCulture), max.ToString(CultureInfo.InvariantCulture));
            add(field, new($"{field} must be between {from} and {to}.", "client.lifetime", field, from, to));
        }
    }

    /// <summary>One refusal of a registration: the English text, and its code and values for translation.</summary>
    private sealed record Problem(string Message, string Code, params string[] Arguments);
}
