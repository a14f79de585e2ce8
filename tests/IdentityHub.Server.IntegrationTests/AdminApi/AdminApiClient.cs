using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Core.Access;
using IdentityHub.Server.Oidc.Clients;

namespace IdentityHub.Server.IntegrationTests.AdminApi;

/// <summary>Talks to the admin API and the token endpoint the way automation does: with bearer tokens.</summary>
internal static class AdminApiClient
{
    public const string Applications = "/api/admin/v1/applications";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A client carrying a token of the bootstrap admin client (role super-admin).</summary>
    public static async Task<HttpClient> CreateAdminAsync(IdentityHubFactory factory)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Bearer", await TokenAsync(factory.CreateClient(), AdminClientBootstrap.DefaultClientId, IdentityHubFactory.AdminClientSecret, IdentityHubScopes.AdminApi));
        return client;
    }

    /// <summary>A client credentials token, client_secret_basic; fails the test when refused.</summary>
    public static async Task<string> TokenAsync(HttpClient http, string clientId, string secret, string? scope = null)
    {
        var response = await ClientCredentialsBasicAsync(http, clientId, secret, scope);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    public static Task<HttpResponseMessage> ClientCredentialsBasicAsync(HttpClient http, string clientId, string secret, string? scope = null)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials" };
        if (scope is not null)
        {
            form["scope"] = scope;
        }

        var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token") { Content = new FormUrlEncodedContent(form) };
        // RFC 6749 §2.3.1: client_id and secret are form-urlencoded before they go into the Basic header.
        var credentials = $"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(secret)}";
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        return http.SendAsync(request);
    }

    public static Task<HttpResponseMessage> ClientCredentialsPostAsync(HttpClient http, string clientId, string secret) =>
        http.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = clientId,
            ["client_secret"] = secret,
        }));

    public static async Task<Guid> CreateApplicationAsync(HttpClient admin, string? name = null)
    {
        var response = await admin.PostAsJsonAsync(Applications, new { name = name ?? "App " + Guid.NewGuid().ToString("N")[..8] });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("id").GetGuid();
    }

    /// <summary>A confidential client_credentials client; returns the registration response (with the secret).</summary>
    public static async Task<JsonElement> CreateServiceClientAsync(HttpClient admin, object? registration = null)
    {
        var id = await CreateApplicationAsync(admin);
        var response = await admin.PutAsJsonAsync($"{Applications}/{id}/oidc", registration ?? ServiceClient());
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement.Clone();
        return JsonSerializer.SerializeToElement(new { applicationId = id, registration = root });
    }

    /// <summary>A client_credentials client registered through the API, checked to obtain a token.</summary>
    public static async Task<(Guid ApplicationId, string ClientId, string Secret)> CreateWorkingServiceClientAsync(HttpClient admin, HttpClient http)
    {
        var created = await CreateServiceClientAsync(admin);
        var registration = created.GetProperty("registration");
        var clientId = registration.GetProperty("clientId").GetString()!;
        var secret = registration.GetProperty("clientSecret").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await ClientCredentialsBasicAsync(http, clientId, secret)).StatusCode);
        return (created.GetProperty("applicationId").GetGuid(), clientId, secret);
    }

    public static object ServiceClient(string method = "client_secret_basic", string[]? adminRoles = null) => new
    {
        clientType = "confidential",
        grantTypes = new[] { "client_credentials" },
        scopes = adminRoles is null ? Array.Empty<string>() : new[] { IdentityHubScopes.AdminApi },
        tokenEndpointAuthMethod = method,
        adminRoles = adminRoles ?? [],
    };

    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.Clone();
    }
}

internal static class JsonObjectExtensions
{
    /// <summary>The object with one property set, for building a variant of a registration inline.</summary>
    public static JsonObject With(this JsonObject json, string name, JsonNode? value)
    {
        json[name] = value;
        return json;
    }
}
