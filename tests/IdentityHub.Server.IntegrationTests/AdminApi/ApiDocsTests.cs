using System.Net;
using System.Text.Json;
using IdentityHub.Server.AdminApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.AdminApi;

/// <summary>The OpenAPI document and the Scalar reference UI at /api/docs (provider-independent: SQLite only).</summary>
public sealed class ApiDocsTests(SqliteFactory factory) : IClassFixture<SqliteFactory>
{
    [Fact]
    public async Task OpenApiDocument_Anonymous_ListsEveryAdminRoute()
    {
        var response = await factory.CreateClient().GetAsync("/api/docs/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var paths = document.RootElement.GetProperty("paths");
        var documented = paths.EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(m => $"{m.Name.ToUpperInvariant()} {Normalize(p.Name)}"))
            .ToHashSet(StringComparer.Ordinal);
        var routes = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => ("/" + e.RoutePattern.RawText?.TrimStart('/')).StartsWith(AdminApiSetup.BasePath + "/", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(m => $"{m} {Normalize(e.RoutePattern.RawText!)}"))
            .ToList();
        Assert.NotEmpty(routes);
        var undocumented = routes.Where(r => !documented.Contains(r)).ToList();
        Assert.True(undocumented.Count == 0, "Not in the OpenAPI document: " + string.Join(", ", undocumented));
        Assert.All(documented, d => Assert.Contains("/api/admin/v1/", d, StringComparison.Ordinal));
        Assert.Equal("bearer", document.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("scheme").GetString());
    }

    [Theory]
    [InlineData("ConnectorRequest")]
    [InlineData("ConnectorDto")]
    public async Task OpenApiDocument_ConnectorSettings_IsOneOfTheKindsTypedSettings(string carrier)
    {
        using var document = JsonDocument.Parse(await factory.CreateClient().GetStringAsync("/api/docs/openapi/v1.json"));
        var schemas = document.RootElement.GetProperty("components").GetProperty("schemas");

        var settings = schemas.GetProperty(carrier).GetProperty("properties").GetProperty("settings");

        var choices = settings.GetProperty("oneOf").EnumerateArray().Select(c => c.GetProperty("$ref").GetString()).Order(StringComparer.Ordinal);
        Assert.Equal(["#/components/schemas/RestConnectorSettings", "#/components/schemas/ScimSettings", "#/components/schemas/WebhookSettings"], choices);
        Assert.True(schemas.GetProperty("WebhookSettings").GetProperty("properties").TryGetProperty("url", out _));
        var scim = schemas.GetProperty("ScimSettings").GetProperty("properties");
        Assert.True(scim.TryGetProperty("baseUrl", out _));
        Assert.False(scim.TryGetProperty("timeout", out _), "timeout is computed from timeoutSeconds, never sent.");
        Assert.Contains("clientCredentials", scim.GetProperty("authentication").ToString(), StringComparison.Ordinal);
        var rest = schemas.GetProperty("RestConnectorSettings").GetProperty("properties");
        Assert.True(rest.TryGetProperty("operations", out _));
        Assert.True(rest.TryGetProperty("responses", out _));
        Assert.False(rest.TryGetProperty("timeout", out _), "timeout is computed from timeoutSeconds, never sent.");
    }

    [Fact]
    public async Task ScalarUi_Anonymous_AnswersHtmlPointingAtTheDocument()
    {
        var response = await factory.CreateClient().GetAsync("/api/docs");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("openapi/v1.json", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenApiDocument_EveryAdminOperation_HasASummary()
    {
        using var document = JsonDocument.Parse(await factory.CreateClient().GetStringAsync("/api/docs/openapi/v1.json"));

        var operations = document.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(m => (Key: $"{m.Name.ToUpperInvariant()} {p.Name}", Operation: m.Value)))
            .ToList();

        Assert.True(operations.Count >= 70, $"Expected the whole admin API, found {operations.Count} operations.");
        var without = operations
            .Where(o => !o.Operation.TryGetProperty("summary", out var summary) || string.IsNullOrWhiteSpace(summary.GetString()))
            .Select(o => o.Key).ToList();
        Assert.True(without.Count == 0, "Operations without a summary: " + string.Join(", ", without));
    }

    [Fact]
    public async Task ScalarUi_RenderedConfiguration_HidesTheDocsToolsOwnButtonsAndLinks()
    {
        var html = await factory.CreateClient().GetStringAsync("/api/docs/");

        var match = System.Text.RegularExpressions.Regex.Match(html, @"initialize\(\s*'[^']*',\s*(?:true|false),\s*(\{.*\}),\s*'[^']*'\)", System.Text.RegularExpressions.RegexOptions.Singleline);
        Assert.True(match.Success, "The Scalar page carries no configuration.");
        using var configuration = JsonDocument.Parse(match.Groups[1].Value);
        var root = configuration.RootElement;
        Assert.Equal("none", root.GetProperty("documentDownloadType").GetString());
        Assert.True(root.GetProperty("hideClientButton").GetBoolean());
        Assert.Equal("never", root.GetProperty("showDeveloperTools").GetString());
        Assert.True(root.GetProperty("agent").GetProperty("disabled").GetBoolean());
        Assert.True(root.GetProperty("mcp").GetProperty("disabled").GetBoolean());
        Assert.False(root.GetProperty("telemetry").GetBoolean());
        Assert.False(root.GetProperty("withDefaultFonts").GetBoolean());
        Assert.Contains("utm_source=powered-by", root.GetProperty("customCss").GetString(), StringComparison.Ordinal);
        Assert.Contains("display: none", root.GetProperty("customCss").GetString(), StringComparison.Ordinal);
    }

    /// <summary>"/api/admin/v1/users/{id:guid}/" and "/api/admin/v1/users/{id}" both become "/api/admin/v1/users/{id}".</summary>
    private static string Normalize(string route)
    {
        var path = "/" + route.Trim('/');
        return System.Text.RegularExpressions.Regex.Replace(path, @"\{([^}:?=]+)[^}]*\}", "{$1}");
    }
}
