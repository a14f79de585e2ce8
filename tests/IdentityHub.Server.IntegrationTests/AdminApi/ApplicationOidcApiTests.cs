using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Core.Access;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Server.Oidc.Clients;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityHub.Server.IntegrationTests.AdminApi;

/// <summary>/api/admin/v1/applications/{id}/oidc: registration rules, mapping to OpenIddict, and replacement.</summary>
public abstract class ApplicationOidcApiTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    [PrerequisiteFact]
    public async Task Put_WebClient_StoresPermissionsRequirementsSettingsAndProperties()
    {
        var (admin, id) = await NewApplicationAsync();

        var response = await admin.PutAsJsonAsync(Oidc(id), WebClient(c =>
        {
            c["firstParty"] = true;
            c["requirePushedAuthorization"] = true;
            c["backchannelLogoutUri"] = "https://expense.example/bc-logout";
            c["accessTokenLifetimeSeconds"] = 600;
        }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var clientId = body.GetProperty("clientId").GetString()!;
        Assert.Matches("^app-[a-z0-9]+-[a-z2-9]{8}$", clientId);
        Assert.Equal(43, body.GetProperty("clientSecret").GetString()!.Length);
        Assert.Equal(600, body.GetProperty("accessTokenLifetimeSeconds").GetInt32());
        Assert.True(body.GetProperty("firstParty").GetBoolean());
        Assert.Equal(["authorization_code", "refresh_token"], body.GetProperty("grantTypes").EnumerateArray().Select(e => e.GetString()));
        var stored = await StoredClientAsync(clientId);
        Assert.Equal("implicit", stored.ConsentType);
        Assert.Contains("\"ft:par\"", stored.Requirements, StringComparison.Ordinal);
        Assert.Contains("\"ft:pkce\"", stored.Requirements, StringComparison.Ordinal);
        Assert.Contains("\"scp:profile\"", stored.Permissions, StringComparison.Ordinal);
        Assert.Contains("\"rst:code\"", stored.Permissions, StringComparison.Ordinal);
        Assert.DoesNotContain("gt:client_credentials", stored.Permissions, StringComparison.Ordinal);
        Assert.Contains("\"tkn_lft:act\":\"00:10:00\"", stored.Settings, StringComparison.Ordinal);
        Assert.Contains("https://expense.example/bc-logout", stored.Properties, StringComparison.Ordinal);
        Assert.Contains(id.ToString(), stored.Properties, StringComparison.Ordinal);
        Assert.Equal(clientId, (await admin.GetFromJsonAsync<JsonElement>($"{AdminApiClient.Applications}/{id}")).GetProperty("oidcClientId").GetString());
    }

    [PrerequisiteFact]
    public async Task Put_Again_KeepsClientIdAndSecretAndReturnsNoSecret()
    {
        var (admin, id) = await NewApplicationAsync();
        var first = await (await admin.PutAsJsonAsync(Oidc(id), WebClient())).Content.ReadFromJsonAsync<JsonElement>();
        var clientId = first.GetProperty("clientId").GetString()!;
        var digest = (await StoredClientAsync(clientId)).ClientSecret;

        var second = await admin.PutAsJsonAsync(Oidc(id), WebClient(c => c["firstParty"] = false));

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var body = await second.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(clientId, body.GetProperty("clientId").GetString());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("clientSecret").ValueKind);
        Assert.False(body.GetProperty("firstParty").GetBoolean());
        var stored = await StoredClientAsync(clientId);
        Assert.Equal(digest, stored.ClientSecret);
        Assert.Equal("explicit", stored.ConsentType);
        var read = await admin.GetFromJsonAsync<JsonElement>(Oidc(id));
        Assert.Equal(clientId, read.GetProperty("clientId").GetString());
        Assert.DoesNotContain("sha256", read.GetRawText(), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Put_SwitchToPrivateKeyJwtAndBack_ClearsTheSecretThenIssuesANewOne()
    {
        var (admin, id) = await NewApplicationAsync();
        var first = await (await admin.PutAsJsonAsync(Oidc(id), WebClient())).Content.ReadFromJsonAsync<JsonElement>();
        var clientId = first.GetProperty("clientId").GetString()!;
        using var rsa = RSA.Create(2048);
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false)));

        var toKeys = await admin.PutAsJsonAsync(Oidc(id), WebClient(c =>
        {
            c["tokenEndpointAuthMethod"] = "private_key_jwt";
            c["jwks"] = new JsonObject { ["keys"] = new JsonArray(new JsonObject { ["kty"] = "RSA", ["n"] = jwk.N, ["e"] = jwk.E }) };
        }));
        var withoutSecret = await StoredClientAsync(clientId);
        var back = await (await admin.PutAsJsonAsync(Oidc(id), WebClient())).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, toKeys.StatusCode);
        Assert.Null(withoutSecret.ClientSecret);
        Assert.Contains(jwk.N, withoutSecret.JsonWebKeySet, StringComparison.Ordinal);
        var newSecret = back.GetProperty("clientSecret").GetString()!;
        Assert.NotEqual(first.GetProperty("clientSecret").GetString(), newSecret);
        var stored = await StoredClientAsync(clientId);
        Assert.Equal(ClientSecrets.Hash(newSecret), stored.ClientSecret);
        Assert.Null(stored.JsonWebKeySet);
    }

    [PrerequisiteFact]
    public async Task Delete_Client_UnlinksTheApplication()
    {
        var (admin, id) = await NewApplicationAsync();
        var clientId = (await (await admin.PutAsJsonAsync(Oidc(id), WebClient())).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("clientId").GetString()!;

        var deleted = await admin.DeleteAsync(Oidc(id));

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync(Oidc(id))).StatusCode);
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        Assert.False(await db.Set<OpenIddictEntityFrameworkCoreApplication>().AnyAsync(a => a.ClientId == clientId));
    }

    [PrerequisiteFact]
    public async Task Put_IfMatchFromTheGet_SavesAndAnswersTheNextETag()
    {
        var (admin, id) = await NewApplicationAsync();
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync(Oidc(id), WebClient())).StatusCode);
        var read = await admin.GetAsync(Oidc(id));
        var etag = read.Headers.ETag!;

        using var request = new HttpRequestMessage(HttpMethod.Put, Oidc(id)) { Content = JsonContent.Create(WebClient(c => c["firstParty"] = true)) };
        request.Headers.IfMatch.Add(etag);
        var saved = await admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        Assert.Equal((await admin.GetAsync(Oidc(id))).Headers.ETag, saved.Headers.ETag);
    }

    [PrerequisiteFact]
    public async Task PutAndDelete_StaleIfMatch_Return412AndChangeNothing()
    {
        var (admin, id) = await NewApplicationAsync();
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync(Oidc(id), WebClient())).StatusCode);
        var before = await admin.GetStringAsync(Oidc(id));
        var stale = new System.Net.Http.Headers.EntityTagHeaderValue("\"1\"");

        using var put = new HttpRequestMessage(HttpMethod.Put, Oidc(id)) { Content = JsonContent.Create(WebClient(c => c["firstParty"] = true)) };
        put.Headers.IfMatch.Add(stale);
        using var delete = new HttpRequestMessage(HttpMethod.Delete, Oidc(id));
        delete.Headers.IfMatch.Add(stale);

        Assert.Equal(HttpStatusCode.PreconditionFailed, (await admin.SendAsync(put)).StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await admin.SendAsync(delete)).StatusCode);
        Assert.Equal(before, await admin.GetStringAsync(Oidc(id)));
    }

    [PrerequisiteFact]
    public async Task Put_UnknownApplication_Returns404()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);

        var response = await admin.PutAsJsonAsync(Oidc(Guid.NewGuid()), WebClient());

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [PrerequisiteFact]
    public Task Put_WildcardRedirectUri_Returns400() =>
        AssertRefusedAsync(WebClient(c => c["redirectUris"] = new JsonArray("https://*.example.com/callback")), "redirectUris");

    [PrerequisiteFact]
    public Task Put_RelativeRedirectUri_Returns400() =>
        AssertRefusedAsync(WebClient(c => c["redirectUris"] = new JsonArray("/callback")), "redirectUris");

    [PrerequisiteFact]
    public Task Put_HttpRedirectUriNotLoopback_Returns400() =>
        AssertRefusedAsync(WebClient(c => c["redirectUris"] = new JsonArray("http://expense.example/callback")), "redirectUris");

    [PrerequisiteFact]
    public Task Put_RedirectUriWithFragment_Returns400() =>
        AssertRefusedAsync(WebClient(c => c["redirectUris"] = new JsonArray("https://expense.example/callback#x")), "redirectUris");

    [PrerequisiteFact]
    public Task Put_HttpPostLogoutUriNotLoopback_Returns400() =>
        AssertRefusedAsync(WebClient(c => c["postLogoutRedirectUris"] = new JsonArray("http://expense.example/bye")), "postLogoutRedirectUris");

    [PrerequisiteFact]
    public Task Put_RelativeBackchannelLogoutUri_Returns400() =>
        AssertRefusedAsync(WebClient(c => c["backchannelLogoutUri"] = "logout"), "backchannelLogoutUri");

    [PrerequisiteFact]
    public Task Put_UnknownGrant_Returns400() =>
        AssertRefusedAsync(WebClient(c => c["grantTypes"] = new JsonArray("authorization_code", "password")), "grantTypes");

    [PrerequisiteFact]
    public Task Put_PublicClientWithClientCredentials_Returns400() =>
        AssertRefusedAsync(WebClient(c =>
        {
            c["clientType"] = "public";
            c["tokenEndpointAuthMethod"] = "none";
            c["grantTypes"] = new JsonArray("authorization_code", "client_credentials");
        }), "grantTypes");

    [PrerequisiteFact]
    public Task Put_RefreshWithoutCode_Returns400() =>
        AssertRefusedAsync(WebClient(c =>
        {
            c["grantTypes"] = new JsonArray("client_credentials", "refresh_token");
            c["scopes"] = new JsonArray();
        }), "grantTypes");

    [PrerequisiteFact]
    public Task Put_UnknownScope_Returns400() =>
        AssertRefusedAsync(WebClient(c => c["scopes"] = new JsonArray("openid", "payroll")), "scopes");

    [PrerequisiteFact]
    public Task Put_AdminScopeWithoutAdminRoles_Returns400() =>
        AssertRefusedAsync(new JsonObject
        {
            ["clientType"] = "confidential",
            ["grantTypes"] = new JsonArray("client_credentials"),
            ["scopes"] = new JsonArray("identityhub.admin"),
        }, "scopes");

    [PrerequisiteFact]
    public Task Put_UnknownAdminRole_Returns400() =>
        AssertRefusedAsync(new JsonObject
        {
            ["clientType"] = "confidential",
            ["grantTypes"] = new JsonArray("client_credentials"),
            ["adminRoles"] = new JsonArray("god-mode"),
        }, "adminRoles");

    [PrerequisiteFact]
    public Task Put_BadClientType_Returns400() =>
        AssertRefusedAsync(WebClient(c => c["clientType"] = "trusted"), "clientType");

    [PrerequisiteFact]
    public Task Put_PublicClientWithSecretMethod_Returns400() =>
        AssertRefusedAsync(WebClient(c =>
        {
            c["clientType"] = "public";
            c["tokenEndpointAuthMethod"] = "client_secret_basic";
        }), "tokenEndpointAuthMethod");

    [PrerequisiteFact]
    public Task Put_PrivateKeyJwtWithoutJwks_Returns400() =>
        AssertRefusedAsync(WebClient(c => c["tokenEndpointAuthMethod"] = "private_key_jwt"), "jwks");

    [PrerequisiteFact]
    public Task Put_JwksWithPrivateKey_Returns400()
    {
        using var rsa = RSA.Create(2048);
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(true)));
        return AssertRefusedAsync(WebClient(c =>
        {
            c["tokenEndpointAuthMethod"] = "private_key_jwt";
            c["jwks"] = new JsonObject { ["keys"] = new JsonArray(new JsonObject { ["kty"] = "RSA", ["n"] = jwk.N, ["e"] = jwk.E, ["d"] = jwk.D }) };
        }), "jwks");
    }

    [PrerequisiteFact]
    public Task Put_AccessTokenLifetimeTooLong_Returns400() =>
        AssertRefusedAsync(WebClient(c => c["accessTokenLifetimeSeconds"] = 86_401), "accessTokenLifetimeSeconds");

    [PrerequisiteFact]
    public Task Put_AuthorizationCodeLifetimeTooLong_Returns400() =>
        AssertRefusedAsync(WebClient(c => c["authorizationCodeLifetimeSeconds"] = 3_600), "authorizationCodeLifetimeSeconds");

    [PrerequisiteFact]
    public async Task Put_Invalid_WritesNothing()
    {
        var (admin, id) = await NewApplicationAsync();

        var response = await admin.PutAsJsonAsync(Oidc(id), WebClient(c => c["redirectUris"] = new JsonArray("https://*.example/cb")));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(JsonValueKind.Null, (await admin.GetFromJsonAsync<JsonElement>($"{AdminApiClient.Applications}/{id}")).GetProperty("oidcClientId").ValueKind);
    }

    [PrerequisiteFact]
    public async Task Put_EnabledFalse_RefusesTokensUntilEnabledAgain()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var http = factory.CreateClient();
        var (id, clientId, secret) = await AdminApiClient.CreateWorkingServiceClientAsync(admin, http);

        var disabled = await admin.PutAsJsonAsync(Oidc(id), JsonSerializer.SerializeToNode(AdminApiClient.ServiceClient())!.AsObject().With("enabled", false));

        Assert.False((await disabled.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("enabled").GetBoolean());
        var refused = await AdminApiClient.ClientCredentialsBasicAsync(http, clientId, secret);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        using (var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()))
        {
            Assert.Equal("invalid_client", error.RootElement.GetProperty("error").GetString());
            Assert.Equal(DisabledClientRefusal.Description, error.RootElement.GetProperty("error_description").GetString());
        }

        var enabled = await admin.PutAsJsonAsync(Oidc(id), AdminApiClient.ServiceClient());
        Assert.True((await enabled.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("enabled").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await AdminApiClient.ClientCredentialsBasicAsync(http, clientId, secret)).StatusCode);
    }

    [PrerequisiteFact]
    public async Task Put_SecurityAdminGrantingSuperAdmin_IsForbiddenAndWritesNothing()
    {
        var (superAdmin, id) = await NewApplicationAsync();
        var securityAdmin = await AdminAsync(superAdmin, AdminRoles.SecurityAdmin);

        var response = await securityAdmin.PutAsJsonAsync(Oidc(id), AdminApiClient.ServiceClient(adminRoles: [AdminRoles.SuperAdmin]));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(JsonValueKind.Null, (await superAdmin.GetFromJsonAsync<JsonElement>($"{AdminApiClient.Applications}/{id}")).GetProperty("oidcClientId").ValueKind);
        Assert.Equal(HttpStatusCode.OK, (await securityAdmin.PutAsJsonAsync(Oidc(id), AdminApiClient.ServiceClient(adminRoles: [AdminRoles.SecurityAdmin]))).StatusCode);
    }

    [PrerequisiteFact]
    public async Task RotateSecretOrDelete_ClientHoldingMoreThanTheCaller_IsForbidden()
    {
        var (superAdmin, id) = await NewApplicationAsync();
        Assert.Equal(HttpStatusCode.OK, (await superAdmin.PutAsJsonAsync(Oidc(id), AdminApiClient.ServiceClient(adminRoles: [AdminRoles.SuperAdmin]))).StatusCode);
        var securityAdmin = await AdminAsync(superAdmin, AdminRoles.SecurityAdmin);

        var rotate = await securityAdmin.PostAsync($"{Oidc(id)}/secret", content: null);
        var delete = await securityAdmin.DeleteAsync(Oidc(id));

        Assert.Equal(HttpStatusCode.Forbidden, rotate.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await superAdmin.GetAsync(Oidc(id))).StatusCode);
    }

    /// <summary>An admin API caller holding only <paramref name="role"/>, through a client the super admin registers.</summary>
    private async Task<HttpClient> AdminAsync(HttpClient superAdmin, string role)
    {
        var created = await AdminApiClient.CreateServiceClientAsync(superAdmin, AdminApiClient.ServiceClient(adminRoles: [role]));
        var registration = created.GetProperty("registration");
        var caller = factory.CreateClient();
        caller.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", await AdminApiClient.TokenAsync(
            factory.CreateClient(), registration.GetProperty("clientId").GetString()!, registration.GetProperty("clientSecret").GetString()!, IdentityHubScopes.AdminApi));
        return caller;
    }

    private static string Oidc(Guid id) => $"{AdminApiClient.Applications}/{id}/oidc";

    private async Task<(HttpClient Admin, Guid Id)> NewApplicationAsync()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        return (admin, await AdminApiClient.CreateApplicationAsync(admin));
    }

    private async Task AssertRefusedAsync(JsonObject registration, string field)
    {
        var (admin, id) = await NewApplicationAsync();

        var response = await admin.PutAsJsonAsync(Oidc(id), registration);

        await ApplicationsApiTests<TFactory>.AssertFieldProblemAsync(response, field);
    }

    /// <summary>A valid confidential web application using the code flow; <paramref name="change"/> spoils one field.</summary>
    private static JsonObject WebClient(Action<JsonObject>? change = null)
    {
        var client = new JsonObject
        {
            ["clientType"] = "confidential",
            ["redirectUris"] = new JsonArray("https://expense.example/signin-oidc", "http://localhost:5000/callback"),
            ["postLogoutRedirectUris"] = new JsonArray("https://expense.example/signed-out"),
            ["grantTypes"] = new JsonArray("authorization_code", "refresh_token"),
            ["scopes"] = new JsonArray("openid", "profile", "email", "offline_access", "roles"),
            ["tokenEndpointAuthMethod"] = "client_secret_basic",
            ["requirePkce"] = true,
        };
        change?.Invoke(client);
        return client;
    }

    private async Task<OpenIddictEntityFrameworkCoreApplication> StoredClientAsync(string clientId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        return await db.Set<OpenIddictEntityFrameworkCoreApplication>().AsNoTracking().SingleAsync(a => a.ClientId == clientId);
    }
}

public sealed class SqliteApplicationOidcApiTests(SqliteFactory factory) : ApplicationOidcApiTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlApplicationOidcApiTests(PostgreSqlFactory factory) : ApplicationOidcApiTests<PostgreSqlFactory>(factory);
