using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Core.Access;
using IdentityHub.Data;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityHub.Server.IntegrationTests.Oidc;

/// <summary>Clients registered through the admin API authenticate at the token endpoint by each registered method.</summary>
public abstract class ClientAuthenticationTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private const string Issuer = "http://localhost/";
    private const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    [PrerequisiteFact]
    public async Task Discovery_Served_AdvertisesTheThreeClientAuthenticationMethods()
    {
        using var discovery = JsonDocument.Parse(await factory.CreateClient().GetStringAsync("/.well-known/openid-configuration"));

        var methods = discovery.RootElement.GetProperty("token_endpoint_auth_methods_supported").EnumerateArray().Select(e => e.GetString()).ToList();

        Assert.Contains("client_secret_basic", methods);
        Assert.Contains("client_secret_post", methods);
        Assert.Contains("private_key_jwt", methods);
    }

    [PrerequisiteFact]
    public async Task ClientSecretBasic_GeneratedSecret_IssuesAnAccessToken()
    {
        var (clientId, secret) = await CreateSecretClientAsync();

        var response = await AdminApiClient.ClientCredentialsBasicAsync(factory.CreateClient(), clientId, secret);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var token = await AccessTokenAsync(response);
        Assert.Equal(clientId, token.Subject);
        Assert.Equal([clientId], token.Audiences);
    }

    [PrerequisiteFact]
    public async Task ClientSecretPost_GeneratedSecret_IssuesAnAccessToken()
    {
        var (clientId, secret) = await CreateSecretClientAsync("client_secret_post");

        var response = await AdminApiClient.ClientCredentialsPostAsync(factory.CreateClient(), clientId, secret);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(clientId, (await AccessTokenAsync(response)).Subject);
    }

    [PrerequisiteFact]
    public async Task ClientSecretBasic_WrongSecret_IsInvalidClient()
    {
        var (clientId, secret) = await CreateSecretClientAsync();

        var response = await AdminApiClient.ClientCredentialsBasicAsync(factory.CreateClient(), clientId, secret[..^2] + "xx");

        await AssertInvalidClientAsync(response);
    }

    [PrerequisiteFact]
    public async Task ClientSecretPost_WrongSecret_IsInvalidClient()
    {
        var (clientId, _) = await CreateSecretClientAsync("client_secret_post");

        var response = await AdminApiClient.ClientCredentialsPostAsync(factory.CreateClient(), clientId, ClientSecrets.Generate());

        await AssertInvalidClientAsync(response);
    }

    [PrerequisiteFact]
    public async Task GeneratedSecret_Stored_IsASha256DigestNeverThePlainText()
    {
        var (clientId, secret) = await CreateSecretClientAsync();

        var stored = await StoredClientAsync(clientId);

        Assert.Equal(43, secret.Length);
        Assert.StartsWith(ClientSecrets.Sha256Prefix, stored.ClientSecret, StringComparison.Ordinal);
        Assert.Equal(ClientSecrets.Hash(secret), stored.ClientSecret);
        Assert.DoesNotContain(secret, stored.ClientSecret!, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task RotateSecret_AfterRotation_OldSecretIsRefusedAndNewOneWorks()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var created = await AdminApiClient.CreateServiceClientAsync(admin);
        var clientId = created.GetProperty("registration").GetProperty("clientId").GetString()!;
        var oldSecret = created.GetProperty("registration").GetProperty("clientSecret").GetString()!;
        var http = factory.CreateClient();
        // Served once before rotation, so the client is in the process-wide cache when the secret changes.
        Assert.Equal(HttpStatusCode.OK, (await AdminApiClient.ClientCredentialsBasicAsync(http, clientId, oldSecret)).StatusCode);

        var rotation = await admin.PostAsync($"{AdminApiClient.Applications}/{created.GetProperty("applicationId").GetGuid()}/oidc/secret", null);
        Assert.Equal(HttpStatusCode.OK, rotation.StatusCode);
        var newSecret = (await rotation.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("clientSecret").GetString()!;

        Assert.NotEqual(oldSecret, newSecret);
        await AssertInvalidClientAsync(await AdminApiClient.ClientCredentialsBasicAsync(http, clientId, oldSecret));
        Assert.Equal(HttpStatusCode.OK, (await AdminApiClient.ClientCredentialsBasicAsync(http, clientId, newSecret)).StatusCode);
    }

    [PrerequisiteFact]
    public async Task LegacyPbkdf2Secret_StoredByOpenIddictsDefaultHash_StillValidates()
    {
        // The bootstrap client's secret was hashed when it was created; rewrite it in OpenIddict's own format.
        const string clientId = "legacy-pbkdf2-client";
        const string secret = "legacy-secret-created-before-sha256-digests";
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
            db.Set<OpenIddictEntityFrameworkCoreApplication>().Add(new OpenIddictEntityFrameworkCoreApplication
            {
                ClientId = clientId,
                ClientType = "confidential",
                ClientSecret = LegacyPbkdf2(secret),
                Permissions = "[\"ept:token\",\"gt:client_credentials\"]",
            });
            await db.SaveChangesAsync();
        }

        var http = factory.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await AdminApiClient.ClientCredentialsBasicAsync(http, clientId, secret)).StatusCode);
        await AssertInvalidClientAsync(await AdminApiClient.ClientCredentialsBasicAsync(http, clientId, secret + "x"));
    }

    [PrerequisiteFact]
    public async Task ClientCredentials_AccessToken_WritesNoTokenRow()
    {
        var (clientId, secret) = await CreateSecretClientAsync();

        var response = await AdminApiClient.ClientCredentialsBasicAsync(factory.CreateClient(), clientId, secret);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var stored = await StoredClientAsync(clientId);
        Assert.False(await db.Set<OpenIddictEntityFrameworkCoreToken>().AnyAsync(t => t.Application!.Id == stored.Id));
    }

    [PrerequisiteFact]
    public async Task Introspection_ClientCredentialsTokenWithoutRow_IsActive()
    {
        var (clientId, secret) = await CreateSecretClientAsync();
        var http = factory.CreateClient();
        var token = (await AccessTokenAsync(await AdminApiClient.ClientCredentialsBasicAsync(http, clientId, secret))).EncodedToken;

        var response = await http.SendAsync(Authenticated("/connect/introspect", "client_secret_basic", clientId, secret, new() { ["token"] = token }));

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        Assert.True(json.RootElement.GetProperty("active").GetBoolean(), body);
        Assert.Equal(clientId, json.RootElement.GetProperty("sub").GetString());
    }

    [PrerequisiteTheory]
    [InlineData("client_secret_basic", "client_secret_post", "/connect/token")]
    [InlineData("client_secret_post", "client_secret_basic", "/connect/token")]
    [InlineData("client_secret_basic", "client_secret_post", "/connect/introspect")]
    [InlineData("client_secret_post", "client_secret_basic", "/connect/revoke")]
    public async Task SecretClient_OtherMethodThanRegistered_IsInvalidClient(string registered, string used, string endpoint)
    {
        var (clientId, secret) = await CreateSecretClientAsync(registered);
        var http = factory.CreateClient();
        var token = (await AccessTokenAsync(await http.SendAsync(Authenticated("/connect/token", registered, clientId, secret, new() { ["grant_type"] = "client_credentials" })))).EncodedToken;
        var parameters = endpoint == "/connect/token" ? new Dictionary<string, string> { ["grant_type"] = "client_credentials" } : new() { ["token"] = token };

        var response = await http.SendAsync(Authenticated(endpoint, used, clientId, secret, parameters));

        await AssertInvalidClientAsync(response);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        // The registered method gets past client authentication (revoking a token kept in no row is then unsupported_token_type).
        Assert.NotEqual(HttpStatusCode.Unauthorized, (await http.SendAsync(Authenticated(endpoint, registered, clientId, secret, parameters))).StatusCode);
    }

    [PrerequisiteFact]
    public async Task PrivateKeyJwt_AssertionSignedByRegisteredKey_IssuesAnAccessToken()
    {
        using var rsa = RSA.Create(2048);
        var clientId = await CreatePrivateKeyJwtClientAsync(rsa);

        var response = await PostAssertionAsync(CreateAssertion(clientId, rsa, Issuer));

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal(clientId, (await AccessTokenAsync(response)).Subject);
    }

    [PrerequisiteFact]
    public async Task PrivateKeyJwt_AudienceIsTheTokenEndpoint_IsRefused()
    {
        // draft-ietf-oauth-rfc7523bis §4 (after CVE-2025-27370): the audience must be the issuer alone.
        using var rsa = RSA.Create(2048);
        var clientId = await CreatePrivateKeyJwtClientAsync(rsa);

        var response = await PostAssertionAsync(CreateAssertion(clientId, rsa, "http://localhost/connect/token"));

        await AssertInvalidClientAsync(response);
    }

    [PrerequisiteFact]
    public async Task PrivateKeyJwt_AssertionSignedByAnotherKey_IsInvalidClient()
    {
        using var registered = RSA.Create(2048);
        using var other = RSA.Create(2048);
        var clientId = await CreatePrivateKeyJwtClientAsync(registered);

        var response = await PostAssertionAsync(CreateAssertion(clientId, other, Issuer));

        await AssertInvalidClientAsync(response);
    }

    [PrerequisiteFact]
    public async Task PrivateKeyJwt_AssertionForAnotherAudience_IsInvalidClient()
    {
        using var rsa = RSA.Create(2048);
        var clientId = await CreatePrivateKeyJwtClientAsync(rsa);

        var response = await PostAssertionAsync(CreateAssertion(clientId, rsa, "https://other-server.example/token"));

        await AssertInvalidClientAsync(response);
    }

    [PrerequisiteFact]
    public async Task PrivateKeyJwt_ExpiredAssertion_IsInvalidClient()
    {
        using var rsa = RSA.Create(2048);
        var clientId = await CreatePrivateKeyJwtClientAsync(rsa);

        var response = await PostAssertionAsync(CreateAssertion(clientId, rsa, Issuer, lifetime: TimeSpan.FromMinutes(-10)));

        await AssertInvalidClientAsync(response);
    }

    [PrerequisiteFact]
    public async Task PrivateKeyJwt_IssuerIsAnotherClient_IsInvalidClient()
    {
        using var rsa = RSA.Create(2048);
        var clientId = await CreatePrivateKeyJwtClientAsync(rsa);

        var response = await PostAssertionAsync(CreateAssertion(clientId, rsa, Issuer, issuer: "someone-else"), clientId);

        await AssertInvalidClientAsync(response);
    }

    [PrerequisiteFact]
    public async Task PrivateKeyJwt_ReplayedAssertion_IsInvalidClient()
    {
        using var rsa = RSA.Create(2048);
        var clientId = await CreatePrivateKeyJwtClientAsync(rsa);
        var assertion = CreateAssertion(clientId, rsa, Issuer);
        Assert.Equal(HttpStatusCode.OK, (await PostAssertionAsync(assertion)).StatusCode);

        var replay = await PostAssertionAsync(assertion);

        await AssertInvalidClientAsync(replay);
    }

    [PrerequisiteFact]
    public async Task PublicClient_Registered_HasNoSecretAndCannotUseClientCredentials()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await AdminApiClient.CreateApplicationAsync(admin);

        var response = await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{id}/oidc", new JsonObject
        {
            ["clientType"] = "public",
            ["redirectUris"] = new JsonArray("http://127.0.0.1:7890/callback"),
            ["grantTypes"] = new JsonArray("authorization_code", "refresh_token"),
            ["scopes"] = new JsonArray("openid", "profile", "offline_access"),
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(body.TryGetProperty("clientSecret", out var secret) && secret.ValueKind != JsonValueKind.Null);
        Assert.Equal("none", body.GetProperty("tokenEndpointAuthMethod").GetString());
        Assert.True(body.GetProperty("requirePkce").GetBoolean());
        var stored = await StoredClientAsync(body.GetProperty("clientId").GetString()!);
        Assert.Null(stored.ClientSecret);
        Assert.Contains("ft:pkce", stored.Requirements, StringComparison.Ordinal);
    }

    private async Task<(string ClientId, string Secret)> CreateSecretClientAsync(string method = "client_secret_basic")
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var created = await AdminApiClient.CreateServiceClientAsync(admin, AdminApiClient.ServiceClient(method));
        var registration = created.GetProperty("registration");
        return (registration.GetProperty("clientId").GetString()!, registration.GetProperty("clientSecret").GetString()!);
    }

    private async Task<string> CreatePrivateKeyJwtClientAsync(RSA rsa)
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false)) { KeyId = "client-key-1" });
        var created = await AdminApiClient.CreateServiceClientAsync(admin, new JsonObject
        {
            ["clientType"] = "confidential",
            ["grantTypes"] = new JsonArray("client_credentials"),
            ["tokenEndpointAuthMethod"] = "private_key_jwt",
            ["jwks"] = new JsonObject
            {
                ["keys"] = new JsonArray(new JsonObject { ["kty"] = jwk.Kty, ["kid"] = jwk.Kid, ["use"] = "sig", ["alg"] = "RS256", ["n"] = jwk.N, ["e"] = jwk.E }),
            },
        });
        var registration = created.GetProperty("registration");
        Assert.False(registration.TryGetProperty("clientSecret", out var secret) && secret.ValueKind != JsonValueKind.Null);
        return registration.GetProperty("clientId").GetString()!;
    }

    /// <summary>
    /// RFC 7523 §3: iss = sub = client_id, aud = the token endpoint or the issuer, a unique jti, a short expiry;
    /// typ "client-authentication+jwt" (draft-ietf-oauth-rfc7523bis §4), which OpenIddict 7 requires.
    /// </summary>
    private static string CreateAssertion(string clientId, RSA key, string audience, TimeSpan? lifetime = null, string? issuer = null)
    {
        var now = DateTime.UtcNow;
        var expires = now + (lifetime ?? TimeSpan.FromMinutes(2));
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            TokenType = "client-authentication+jwt",
            Issuer = issuer ?? clientId,
            Audience = audience,
            Claims = new Dictionary<string, object> { ["sub"] = clientId, ["jti"] = Guid.NewGuid().ToString("N") },
            IssuedAt = expires < now ? expires.AddMinutes(-2) : now,
            NotBefore = expires < now ? expires.AddMinutes(-2) : now,
            Expires = expires,
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key) { KeyId = "client-key-1" }, SecurityAlgorithms.RsaSha256),
        });
    }

    private Task<HttpResponseMessage> PostAssertionAsync(string assertion, string? clientId = null)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_assertion_type"] = AssertionType,
            ["client_assertion"] = assertion,
        };
        if (clientId is not null)
        {
            form["client_id"] = clientId;
        }

        return factory.CreateClient().PostAsync("/connect/token", new FormUrlEncodedContent(form));
    }

    private async Task<OpenIddictEntityFrameworkCoreApplication> StoredClientAsync(string clientId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        return await db.Set<OpenIddictEntityFrameworkCoreApplication>().AsNoTracking().SingleAsync(a => a.ClientId == clientId);
    }

    private static async Task<JsonWebToken> AccessTokenAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return new JsonWebToken(body.GetProperty("access_token").GetString());
    }

    /// <summary>A POST to <paramref name="endpoint"/> with the client's credentials in the Basic header or in the body, as <paramref name="method"/> says.</summary>
    private static HttpRequestMessage Authenticated(string endpoint, string method, string clientId, string secret, Dictionary<string, string> parameters)
    {
        var form = new Dictionary<string, string>(parameters);
        var request = new HttpRequestMessage(HttpMethod.Post, endpoint);
        if (method == "client_secret_basic")
        {
            // RFC 6749 §2.3.1: client_id and secret are form-urlencoded before they go into the Basic header.
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(secret)}")));
        }
        else
        {
            form["client_id"] = clientId;
            form["client_secret"] = secret;
        }

        request.Content = new FormUrlEncodedContent(form);
        return request;
    }

    private static async Task AssertInvalidClientAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        Assert.True(json.RootElement.GetProperty("error").GetString() == "invalid_client", $"{response.StatusCode}: {body}");
        Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.BadRequest, $"{response.StatusCode}: {body}");
    }

    /// <summary>OpenIddict's (and ASP.NET Core Identity v3's) PBKDF2 format: 0x01, PRF, iterations, salt length, salt, subkey.</summary>
    private static string LegacyPbkdf2(string secret)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var subkey = Rfc2898DeriveBytes.Pbkdf2(secret, salt, 10_000, HashAlgorithmName.SHA256, 32);
        var output = new byte[13 + salt.Length + subkey.Length];
        output[0] = 0x01;
        WriteNetworkOrder(output, 1, 1); // KeyDerivationPrf.HMACSHA256
        WriteNetworkOrder(output, 5, 10_000);
        WriteNetworkOrder(output, 9, (uint)salt.Length);
        salt.CopyTo(output, 13);
        subkey.CopyTo(output, 13 + salt.Length);
        return Convert.ToBase64String(output);
    }

    private static void WriteNetworkOrder(byte[] buffer, int offset, uint value)
    {
        buffer[offset] = (byte)(value >> 24);
        buffer[offset + 1] = (byte)(value >> 16);
        buffer[offset + 2] = (byte)(value >> 8);
        buffer[offset + 3] = (byte)value;
    }
}

public sealed class SqliteClientAuthenticationTests(SqliteFactory factory) : ClientAuthenticationTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlClientAuthenticationTests(PostgreSqlFactory factory) : ClientAuthenticationTests<PostgreSqlFactory>(factory);
