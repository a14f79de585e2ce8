using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using IdentityHub.Core.Directory;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Admin;

/// <summary>
/// The console's connector forms, posted as a browser posts them: the same refusal as the admin API for the same bad input,
/// on the same field with the same words; a post without the antiforgery token refused; an auditor reading settings (never a
/// secret) without forms and refused when posting.
/// </summary>
public abstract partial class ConnectorConsoleTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private const string NewPage = "/admin/provisioning/new";
    private const string Secret = "console-test-app-secret-4b1d";

    private readonly ConsoleDriver _console = new(factory);

    /// <summary>One set of rules: the console's new-connector form and the admin API refuse the same input on the same field with the same words.</summary>
    [PrerequisiteTheory]
    [InlineData("rest", "expense", """{"baseUrl": "http://vendor.example.com/open/api/v1", "auth": {"appKey": "k"}}""", "settings.baseUrl")]
    [InlineData("rest", "expense", """{"baseUrl": "https://vendor.example.com/open/api/v1", "operations": {"upsertUser": {"method": "PUT", "url": "/employees/{{ user.vendorId }}", "body": "{\"name\": {{ user.displayName | json }"}}}""", "settings.operations.upsertUser.body")]
    [InlineData("rest", "no-such-preset", """{"baseUrl": "https://vendor.example.com/open/api/v1"}""", "preset")]
    [InlineData("webhook", null, """{"url": "http://hooks.example.com/identityhub"}""", "settings.url")]
    public async Task NewConnectorForm_BadInput_IsRefusedLikeTheApiOnTheSameFieldWithTheSameMessage(string kind, string? preset, string settings, string field)
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var apiApplication = await AdminApiClient.CreateApplicationAsync(admin);
        var consoleApplication = await AdminApiClient.CreateApplicationAsync(admin);
        var browser = await _console.AdminAsync();
        var secret = kind == "webhook" ? null : Secret;

        var api = await admin.PostAsJsonAsync($"{AdminApiClient.Applications}/{apiApplication}/connectors", new
        {
            kind, name = "vendor", preset, secret, settings = JsonNode.Parse(settings),
        });
        var console = await ConsoleDriver.PostAsync(browser, FormPage(consoleApplication, kind, preset), $"{NewPage}?application={consoleApplication}", new Dictionary<string, string>
        {
            ["Input.Kind"] = kind,
            ["Input.Preset"] = preset ?? "",
            ["Input.Name"] = "vendor",
            ["Input.Settings"] = settings,
            ["Input.Secret"] = secret ?? "",
        });

        Assert.Equal(HttpStatusCode.BadRequest, api.StatusCode);
        Assert.Equal(api.StatusCode, console.StatusCode);
        var apiMessages = (await AdminApiClient.ProblemAsync(api)).GetProperty("errors").GetProperty(field).EnumerateArray().Select(m => m.GetString()!).ToList();
        var body = await console.Content.ReadAsStringAsync();
        Assert.NotEmpty(apiMessages);
        Assert.Equal(apiMessages, FieldErrors(body, field));
        Assert.Contains("The connector was not saved.", body, StringComparison.Ordinal);
        Assert.Empty(await ConnectorsOfAsync(consoleApplication));
    }

    [PrerequisiteFact]
    public async Task NewConnectorForm_PostedWithoutAntiforgeryToken_IsRefusedAndCreatesNothing()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var application = await AdminApiClient.CreateApplicationAsync(admin);
        var browser = await _console.AdminAsync();
        await browser.GetStringAsync(FormPage(application, "webhook", null));

        var response = await browser.PostAsync($"{NewPage}?application={application}", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.Kind"] = "webhook",
            ["Input.Name"] = "hooks",
            ["Input.Settings"] = """{"url": "https://hooks.example.com/identityhub"}""",
        }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(await ConnectorsOfAsync(application));
    }

    [PrerequisiteFact]
    public async Task NewConnectorForm_Webhook_IsCreatedAndItsSecretShownOnThisResponseOnly()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var application = await AdminApiClient.CreateApplicationAsync(admin);
        var browser = await _console.AdminAsync();

        var created = await ConsoleDriver.PostAsync(browser, FormPage(application, "webhook", null), $"{NewPage}?application={application}", new Dictionary<string, string>
        {
            ["Input.Kind"] = "webhook",
            ["Input.Preset"] = "",
            ["Input.Name"] = "hooks",
            ["Input.Settings"] = """{"url": "https://hooks.example.com/identityhub"}""",
        });

        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.True(created.Headers.CacheControl?.NoStore, "A page that shows a secret must not be stored by the browser.");
        var html = await created.Content.ReadAsStringAsync();
        var secret = WebUtility.HtmlDecode(SecretField().Match(html).Groups[1].Value);
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        var connector = Assert.Single(await ConnectorsOfAsync(application));
        var page = await browser.GetStringAsync($"/admin/provisioning/{connector}");
        Assert.Contains("https://hooks.example.com/identityhub", page, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, page, StringComparison.Ordinal);
        Assert.DoesNotContain(secret["whsec_".Length..], page, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task NewConnectorForm_ApplicationWhoseUsersHoldRoles_OpensTheConnectorPageWithItsInitialSync()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var application = await AdminApiClient.CreateApplicationAsync(admin);
        var driver = new IdentityHub.Server.IntegrationTests.Oidc.OidcDriver(factory);
        await driver.GrantApplicationRoleAsync(await driver.CreateUserAsync(), application, "member");
        var browser = await _console.AdminAsync();

        var created = await ConsoleDriver.PostAsync(browser, FormPage(application, "rest", "expense"), $"{NewPage}?application={application}", new Dictionary<string, string>
        {
            ["Input.Kind"] = "rest",
            ["Input.Preset"] = "expense",
            ["Input.Name"] = "expense",
            // Nobody listens there: the sync's deliveries wait and retry, which is all this test needs.
            ["Input.Settings"] = """{"baseUrl": "http://127.0.0.1:9/open/api/v1", "auth": {"appKey": "k"}}""",
            ["Input.Secret"] = Secret,
        });

        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        var connector = Assert.Single(await ConnectorsOfAsync(application));
        Assert.Equal($"/admin/provisioning/{connector}", created.Headers.Location?.OriginalString);
        var page = await browser.GetStringAsync(created.Headers.Location);
        Assert.Contains("Connector &#x27;expense&#x27; created; initial sync of 1 person(s) started", page, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"sync-progress\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, page, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task ConnectorPage_Auditor_SeesTheSettingsNeverTheSecretNoFormsAndCannotPost()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var application = await AdminApiClient.CreateApplicationAsync(admin);
        var created = await admin.PostAsJsonAsync($"{AdminApiClient.Applications}/{application}/connectors", new
        {
            kind = "rest", name = "expense", preset = "expense", secret = Secret,
            settings = new { baseUrl = "https://vendor.example.com/open/api/v1", auth = new { appKey = "visible-app-key" } },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var auditor = await _console.SignedInAsync(AdminRoles.Auditor);

        var page = await auditor.GetStringAsync($"/admin/provisioning/{id}");
        var edit = await auditor.PostAsync($"/admin/provisioning/{id}?handler=edit", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(page),
            ["Input.Name"] = "renamed by the auditor",
            ["Input.Settings"] = """{"baseUrl": "https://elsewhere.example.com/"}""",
        }));
        var newPage = await auditor.GetStringAsync($"{NewPage}?application={application}&kind=webhook");
        var create = await auditor.PostAsync($"{NewPage}?application={application}", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(page),
            ["Input.Kind"] = "webhook",
            ["Input.Name"] = "auditor's hooks",
            ["Input.Settings"] = """{"url": "https://hooks.example.com/identityhub"}""",
        }));

        Assert.Contains("visible-app-key", page, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, page, StringComparison.Ordinal);
        foreach (var form in new[] { "connector-edit", "preview-form", "delete-connector", "test-connection" })
        {
            Assert.DoesNotContain($"data-testid=\"{form}\"", page, StringComparison.Ordinal);
        }

        Assert.Contains("data-testid=\"connector-read-only\"", newPage, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"connector-create\"", newPage, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, edit.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, create.StatusCode);
        Assert.Equal(["expense"], await ConnectorNamesAsync(application));
    }

    private static string FormPage(Guid application, string kind, string? preset) =>
        $"{NewPage}?application={application}&kind={kind}&preset={Uri.EscapeDataString(preset ?? "")}";

    /// <summary>The messages the page shows next to <paramref name="field"/>, without the field name a nested setting's error starts with.</summary>
    private static List<string> FieldErrors(string html, string field) =>
        [.. Regex.Matches(html, $"<span class=\"field-error\" data-error-for=\"{Regex.Escape(field)}\">(.*?)</span>", RegexOptions.Singleline)
            .Select(m => WebUtility.HtmlDecode(Regex.Replace(m.Groups[1].Value, "^\\s*<code>[^<]*</code>: ", "")))];

    private async Task<List<Guid>> ConnectorsOfAsync(Guid application)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IdentityHub.Data.IdentityHubDbContext>().Connectors
            .Where(c => c.ApplicationId == application).Select(c => c.Id).ToListAsync();
    }

    private async Task<List<string>> ConnectorNamesAsync(Guid application)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IdentityHub.Data.IdentityHubDbContext>().Connectors
            .Where(c => c.ApplicationId == application).Select(c => c.Name).ToListAsync();
    }

    [GeneratedRegex("id=\"connector-secret\" class=\"mono\" readonly value=\"([^\"]+)\"")]
    private static partial Regex SecretField();
}

public sealed class SqliteConnectorConsoleTests(SqliteFactory factory) : ConnectorConsoleTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlConnectorConsoleTests(PostgreSqlFactory factory) : ConnectorConsoleTests<PostgreSqlFactory>(factory);
