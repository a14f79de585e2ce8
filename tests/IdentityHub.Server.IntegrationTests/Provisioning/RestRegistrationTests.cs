using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;

namespace IdentityHub.Server.IntegrationTests.Provisioning;

/// <summary>
/// Issue 13 point 12: bad REST connector settings are a 400 problem naming the field when the connector is registered —
/// never a failed delivery later. Each row lays one mistake over the expense preset (a valid connector without it).
/// </summary>
public sealed class RestRegistrationTests(SqliteFactory factory) : IClassFixture<SqliteFactory>
{
    [Theory]
    [InlineData("a template that does not parse", """{"operations":{"upsertUser":{"body":"{\"name\": {{ user.displayName | json }"}}}""", "settings.operations.upsertUser.body")]
    [InlineData("a body that does not render as JSON", """{"operations":{"upsertUser":{"body":"{\"name\": {{ user.displayName }}}"}}}""", "settings.operations.upsertUser.body")]
    [InlineData("an unknown filter", """{"operations":{"createUser":{"body":"{\"roles\": {{ user.roles | shout }}}"}}}""", "settings.operations.createUser.body")]
    [InlineData("an unknown value map", """{"operations":{"createUser":{"body":"{\"level\": {{ user.roles | map: 'nope' | json }}}"}}}""", "settings.operations.createUser.body")]
    [InlineData("a URL template that does not parse", """{"operations":{"deleteUser":{"url":"/employees/{% if %}"}}}""", "settings.operations.deleteUser.url")]
    [InlineData("a malformed JSON path", """{"responses":{"codePath":"data..[x"}}""", "settings.responses.codePath")]
    [InlineData("a malformed list path", """{"operations":{"listUsers":{"items":"data.items[?("}}}""", "settings.operations.listUsers.items")]
    [InlineData("http outside loopback", """{"baseUrl":"http://open.expense.example/api"}""", "settings.baseUrl")]
    [InlineData("an http token URL outside loopback", """{"auth":{"type":"oauth2","tokenUrl":"http://auth.example/token","clientId":"x"}}""", "settings.auth.tokenUrl")]
    [InlineData("a missing required operation", """{"deprovisioning":"delete","operations":{"deleteUser":null}}""", "settings.operations.deleteUser")]
    [InlineData("no upsert operation", """{"operations":{"upsertUser":null}}""", "settings.operations.upsertUser")]
    [InlineData("an unknown algorithm", """{"auth":{"algorithm":"sha3"}}""", "settings.auth.algorithm")]
    [InlineData("an unknown HTTP method", """{"operations":{"upsertUser":{"method":"FETCH"}}}""", "settings.operations.upsertUser.method")]
    [InlineData("a header that renders a line break", """{"operations":{"upsertUser":{"headers":{"X-Name":"{{ user.displayName }}\n{{ user.email }}"}}}}""", "settings.operations.upsertUser.headers.X-Name")]
    [InlineData("a credential in a static header", """{"operations":{"upsertUser":{"headers":{"Authorization":"Bearer static-token"}}}}""", "settings.operations.upsertUser.headers.Authorization")]
    [InlineData("the API key's own header in an operation", """{"auth":{"type":"apiKey","headerName":"X-Api-Key"},"operations":{"deleteUser":{"headers":{"x-api-key":"k"}}}}""", "settings.operations.deleteUser.headers.x-api-key")]
    [InlineData("a password in the base URL", """{"baseUrl":"https://user:password@open.expense.example/api"}""", "settings.baseUrl")]
    [InlineData("a value map giving an object", """{"valueMaps":{"approverLevel":{"approver":{"level":2}}}}""", "settings.valueMaps.approverLevel.approver")]
    public async Task CreateConnector_BadRestSettings_400NamingTheField(string mistake, string overlay, string field)
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var applicationId = await AdminApiClient.CreateApplicationAsync(admin);
        var settings = Overlay(Valid(), JsonNode.Parse(overlay)!.AsObject());

        using var response = await admin.PostAsJsonAsync($"/api/admin/v1/applications/{applicationId}/connectors", new { kind = "rest", name = "expense", preset = "expense", settings, secret = "s3cret" });

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{mistake}: {response.StatusCode} {body}");
        Assert.True(JsonDocument.Parse(body).RootElement.GetProperty("errors").TryGetProperty(field, out _), $"{mistake}: expected an error on {field}, got {body}");
    }

    [Fact]
    public async Task CreateConnector_UnknownPreset_400NamingThePreset()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var applicationId = await AdminApiClient.CreateApplicationAsync(admin);

        using var response = await admin.PostAsJsonAsync($"/api/admin/v1/applications/{applicationId}/connectors", new { kind = "rest", name = "x", preset = "travel", settings = Valid(), secret = "s3cret" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.Contains("travel", errors.GetProperty("preset")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateConnector_HmacWithoutSecret_400NamingTheSecret()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var applicationId = await AdminApiClient.CreateApplicationAsync(admin);

        using var response = await admin.PostAsJsonAsync($"/api/admin/v1/applications/{applicationId}/connectors", new { kind = "rest", name = "x", preset = "expense", settings = Valid() });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").TryGetProperty("secret", out _));
    }

    [Fact]
    public async Task CreateConnector_ValidPresetAndSecret_CreatedWithTheMergedSettingsAndNoSecretReturned()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var applicationId = await AdminApiClient.CreateApplicationAsync(admin);

        using var response = await admin.PostAsJsonAsync($"/api/admin/v1/applications/{applicationId}/connectors", new { kind = "rest", name = "x", preset = "expense", settings = Valid(), secret = "app-secret-never-returned" });

        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var connector = JsonDocument.Parse(body).RootElement;
        Assert.Equal("rest", connector.GetProperty("kind").GetString());
        Assert.True(connector.GetProperty("hasSecret").GetBoolean());
        Assert.DoesNotContain("app-secret-never-returned", body, StringComparison.Ordinal);
        Assert.Equal("https://open.vendor.example/api/v1", connector.GetProperty("settings").GetProperty("baseUrl").GetString());
        Assert.Equal("data.id", connector.GetProperty("settings").GetProperty("responses").GetProperty("vendorIdPath").GetString());
    }

    private static JsonObject Valid() => new() { ["baseUrl"] = "https://open.vendor.example/api/v1", ["auth"] = new JsonObject { ["appKey"] = "k" } };

    private static JsonObject Overlay(JsonObject under, JsonObject over)
    {
        foreach (var (name, value) in over)
        {
            under[name] = under[name] is JsonObject inner && value is JsonObject deeper ? Overlay(inner, deeper) : value?.DeepClone();
        }

        return under;
    }
}
