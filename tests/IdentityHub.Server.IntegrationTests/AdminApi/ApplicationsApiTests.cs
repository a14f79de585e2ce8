using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using IdentityHub.Core.Access;
using IdentityHub.Core.Directory;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.IntegrationTests.AdminApi;

/// <summary>/api/admin/v1/applications: create, read, list, rename, delete, and who may do it.</summary>
public abstract class ApplicationsApiTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    [PrerequisiteFact]
    public async Task Create_ValidName_Returns201WithLocationAndTheApplication()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);

        var response = await admin.PostAsJsonAsync(AdminApiClient.Applications, new { name = "Expense system", description = "Claims and approvals" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = body.GetProperty("id").GetGuid();
        Assert.Equal($"http://localhost/api/admin/v1/applications/{id}", response.Headers.Location?.ToString());
        var read = await admin.GetFromJsonAsync<JsonElement>(response.Headers.Location);
        Assert.Equal("Expense system", read.GetProperty("name").GetString());
        Assert.Equal("Claims and approvals", read.GetProperty("description").GetString());
        Assert.Equal(JsonValueKind.Null, read.GetProperty("oidcClientId").ValueKind);
    }

    [PrerequisiteFact]
    public async Task Create_DuplicateName_Returns400NamingTheField()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        await AdminApiClient.CreateApplicationAsync(admin, "Attendance system");

        var response = await admin.PostAsJsonAsync(AdminApiClient.Applications, new { name = "Attendance system" });

        await AssertFieldProblemAsync(response, "name");
    }

    [PrerequisiteFact]
    public async Task Create_MissingOrLongName_Returns400NamingTheField()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);

        await AssertFieldProblemAsync(await admin.PostAsJsonAsync(AdminApiClient.Applications, new { description = "no name" }), "name");
        await AssertFieldProblemAsync(await admin.PostAsJsonAsync(AdminApiClient.Applications, new { name = new string('x', 201) }), "name");
    }

    [PrerequisiteFact]
    public async Task RevokeTokensOnAccessLoss_OnByDefaultSetOnCreateAndUpdateAndKeptWhenOmitted()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var byDefault = await AdminApiClient.CreateApplicationAsync(admin);
        var created = await admin.PostAsJsonAsync(AdminApiClient.Applications, new { name = "Kiosk " + Guid.NewGuid().ToString("N")[..6], revokeTokensOnAccessLoss = false });
        var off = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        Assert.True(await RevokesAsync(admin, byDefault));
        Assert.False(await RevokesAsync(admin, off));
        var name = (await admin.GetFromJsonAsync<JsonElement>($"{AdminApiClient.Applications}/{off}")).GetProperty("name").GetString();
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{off}", new { name, description = "renamed only" })).StatusCode);
        Assert.False(await RevokesAsync(admin, off));
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{off}", new { name, revokeTokensOnAccessLoss = true })).StatusCode);
        Assert.True(await RevokesAsync(admin, off));
    }

    [PrerequisiteFact]
    public async Task RevokeTokensOnAccessLoss_NotABoolean_Returns400AndChangesNothing()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await AdminApiClient.CreateApplicationAsync(admin);
        var name = (await admin.GetFromJsonAsync<JsonElement>($"{AdminApiClient.Applications}/{id}")).GetProperty("name").GetString();

        using var body = new StringContent($$"""{"name":"{{name}}","revokeTokensOnAccessLoss":"no"}""", System.Text.Encoding.UTF8, "application/json");
        var response = await admin.PutAsync($"{AdminApiClient.Applications}/{id}", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(await RevokesAsync(admin, id));
    }

    [PrerequisiteFact]
    public async Task LaunchUrlIconAndTheme_StoredOnCreateAndReplacedByPut()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        const string Icon = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
        var name = "Portal app " + Guid.NewGuid().ToString("N")[..8];

        var created = await admin.PostAsJsonAsync(AdminApiClient.Applications, new
        {
            name, launchUrl = "https://expense.example.com/start", iconUrl = Icon, theme = "default",
        });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var read = await admin.GetFromJsonAsync<JsonElement>($"{AdminApiClient.Applications}/{id}");
        Assert.Equal("https://expense.example.com/start", read.GetProperty("launchUrl").GetString());
        Assert.Equal(Icon, read.GetProperty("iconUrl").GetString());
        Assert.Equal("default", read.GetProperty("theme").GetString());
        var replaced = await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{id}", new { name, launchUrl = "http://localhost:5173/", iconUrl = "https://cdn.example.com/expense.png" });
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        var after = await admin.GetFromJsonAsync<JsonElement>($"{AdminApiClient.Applications}/{id}");
        Assert.Equal("http://localhost:5173/", after.GetProperty("launchUrl").GetString());
        Assert.Equal("https://cdn.example.com/expense.png", after.GetProperty("iconUrl").GetString());
        Assert.Equal(JsonValueKind.Null, after.GetProperty("theme").ValueKind);
    }

    [PrerequisiteTheory]
    [InlineData("launchUrl", "ftp://expense.example.com/")]
    [InlineData("launchUrl", "javascript:alert(document.cookie)")]
    [InlineData("launchUrl", "/relative/start")]
    [InlineData("iconUrl", "http://cdn.example.com/icon.png")]
    [InlineData("iconUrl", "data:image/png;base64,not base64!")]
    [InlineData("iconUrl", "data:image/svg+xml,<svg onload=alert(1)>")]
    [InlineData("theme", "../default")]
    [InlineData("theme", "Dark")]
    [InlineData("theme", "no-such-theme")]
    public async Task Create_BadLaunchUrlIconOrTheme_Returns400NamingTheFieldAndCreatesNothing(string field, string value)
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var name = "Refused " + Guid.NewGuid().ToString("N")[..8];

        var response = await admin.PostAsJsonAsync(AdminApiClient.Applications, new Dictionary<string, string> { ["name"] = name, [field] = value });

        await AssertFieldProblemAsync(response, field);
        Assert.False(await AdminCallers.InDatabaseAsync(factory, db => db.Applications.AnyAsync(a => a.Name == name)));
    }

    [PrerequisiteFact]
    public async Task Create_IconLongerThanTheBound_Returns400NamingTheField()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var icon = "data:image/png;base64," + Convert.ToBase64String(new byte[IdentityHub.Data.Access.Application.IconUrlMaxLength]);

        var response = await admin.PostAsJsonAsync(AdminApiClient.Applications, new { name = "Big icon " + Guid.NewGuid().ToString("N")[..8], iconUrl = icon });

        await AssertFieldProblemAsync(response, "iconUrl");
    }

    [PrerequisiteFact]
    public async Task List_Paged_ReturnsThePageAndTheTotal()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        for (var i = 0; i < 3; i++)
        {
            await AdminApiClient.CreateApplicationAsync(admin);
        }

        var page = await admin.GetFromJsonAsync<JsonElement>($"{AdminApiClient.Applications}?page=2&pageSize=2");

        var total = page.GetProperty("total").GetInt32();
        Assert.True(total >= 3);
        Assert.Equal(2, page.GetProperty("page").GetInt32());
        Assert.Equal(Math.Min(2, total - 2), page.GetProperty("items").GetArrayLength());
        await AssertFieldProblemAsync(await admin.GetAsync($"{AdminApiClient.Applications}?pageSize=1000"), "pageSize");
    }

    [PrerequisiteFact]
    public async Task Update_WithCurrentETag_RenamesAndStaleETagGets412()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await AdminApiClient.CreateApplicationAsync(admin);
        var read = await admin.GetAsync($"{AdminApiClient.Applications}/{id}");
        var etag = read.Headers.ETag!;

        var rename = new HttpRequestMessage(HttpMethod.Put, $"{AdminApiClient.Applications}/{id}") { Content = JsonContent.Create(new { name = "Renamed " + id }) };
        rename.Headers.IfMatch.Add(etag);
        var renamed = await admin.SendAsync(rename);
        var stale = new HttpRequestMessage(HttpMethod.Put, $"{AdminApiClient.Applications}/{id}") { Content = JsonContent.Create(new { name = "Again " + id }) };
        stale.Headers.IfMatch.Add(etag);
        var refused = await admin.SendAsync(stale);

        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        Assert.NotEqual(etag, renamed.Headers.ETag);
        Assert.Equal(HttpStatusCode.PreconditionFailed, refused.StatusCode);
        Assert.Equal("Renamed " + id, (await admin.GetFromJsonAsync<JsonElement>($"{AdminApiClient.Applications}/{id}")).GetProperty("name").GetString());
    }

    [PrerequisiteFact]
    public async Task Post_ConsoleCookieWithoutAntiforgeryHeader_IsRejectedEvenWithABearerToken()
    {
        var (console, _) = await ConsoleSessionAsync();
        console.DefaultRequestHeaders.Authorization = (await AdminApiClient.CreateAdminAsync(factory)).DefaultRequestHeaders.Authorization;

        var response = await console.PostAsJsonAsync(AdminApiClient.Applications, new { name = "Cross-site " + Guid.NewGuid().ToString("N")[..8] });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Antiforgery token missing or invalid", (await AdminApiClient.ProblemAsync(response)).GetProperty("title").GetString());
    }

    [PrerequisiteFact]
    public async Task Post_ConsoleCookieWithAntiforgeryHeader_Creates()
    {
        var (console, token) = await ConsoleSessionAsync();
        console.DefaultRequestHeaders.Add("RequestVerificationToken", token);

        var response = await console.PostAsJsonAsync(AdminApiClient.Applications, new { name = "Console " + Guid.NewGuid().ToString("N")[..8] });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    /// <summary>The super admin signed in to the console, and the antiforgery token its pages carry.</summary>
    private async Task<(HttpClient Console, string Token)> ConsoleSessionAsync()
    {
        var console = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(console, IdentityHub.Core.Directory.FirstAdministrator.UserName, IdentityHubFactory.AdminPassword);
        return (console, BrowserSession.AntiforgeryToken(await console.GetStringAsync("/admin")));
    }

    [PrerequisiteFact]
    public async Task Delete_WithOidcClient_RemovesBothAndTheClientStopsWorking()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var http = factory.CreateClient();
        var (id, clientId, secret) = await AdminApiClient.CreateWorkingServiceClientAsync(admin, http);

        var deleted = await admin.DeleteAsync($"{AdminApiClient.Applications}/{id}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{AdminApiClient.Applications}/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await AdminApiClient.ClientCredentialsBasicAsync(http, clientId, secret)).StatusCode);
    }

    [PrerequisiteFact]
    public async Task Delete_WithRolesASodRuleAndAConnector_Answers409NamingThemAndDeletesNothing()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (application, permission, role) = await AdminCallers.CreateRoleAsync(admin);
        var user = await AdminCallers.CreateUserAsync(admin);
        await AdminCallers.PostAsync(admin, AdminCallers.Assignments, new { userId = user, roleId = role, reason = "Approves" });
        var other = await AdminCallers.PostAsync(admin, $"{AdminApiClient.Applications}/{application}/permissions", new { name = "expense.submit" });
        var rule = AdminCallers.NewCode("submit-vs-approve");
        await AdminCallers.PostAsync(admin, AdminCallers.SodRules, new { name = rule, firstPermissionId = permission, secondPermissionId = other.GetProperty("id").GetGuid() });
        var connector = AdminCallers.NewCode("hooks");
        await AdminCallers.InDatabaseAsync(factory, async db =>
        {
            db.Connectors.Add(new IdentityHub.Data.Provisioning.Connector
            {
                Id = Guid.NewGuid(), ApplicationId = application, Name = connector, Kind = IdentityHub.Data.Provisioning.ConnectorKind.Webhook,
                Settings = """{"url":"http://127.0.0.1:9/hooks"}""", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
            });
            return await db.SaveChangesAsync();
        });
        var roleName = (await AdminCallers.JsonAsync(await admin.GetAsync($"{AdminCallers.Roles}/{role}"), HttpStatusCode.OK)).GetProperty("name").GetString()!;

        var response = await admin.DeleteAsync($"{AdminApiClient.Applications}/{application}");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = await AdminApiClient.ProblemAsync(response);
        var title = problem.GetProperty("title").GetString()!;
        Assert.Contains($"'{roleName}' (1 assignment(s))", title, StringComparison.Ordinal);
        Assert.Contains($"'{rule}'", title, StringComparison.Ordinal);
        Assert.Contains($"'{connector}'", title, StringComparison.Ordinal);
        Assert.Equal([roleName], problem.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal([rule], problem.GetProperty("sodRules").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal([connector], problem.GetProperty("connectors").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"{AdminApiClient.Applications}/{application}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"{AdminApiClient.Applications}/{application}/permissions/{permission}")).StatusCode);
    }

    [PrerequisiteFact]
    public async Task Delete_WithStaleIfMatch_Answers412AndWithTheCurrentOneDeletes()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await AdminApiClient.CreateApplicationAsync(admin);
        var etag = (await admin.GetAsync($"{AdminApiClient.Applications}/{id}")).Headers.ETag!.ToString();

        using var stale = new HttpRequestMessage(HttpMethod.Delete, $"{AdminApiClient.Applications}/{id}");
        stale.Headers.IfMatch.ParseAdd("\"1\"");
        var refused = await admin.SendAsync(stale);
        using var current = new HttpRequestMessage(HttpMethod.Delete, $"{AdminApiClient.Applications}/{id}");
        current.Headers.IfMatch.ParseAdd(etag);
        var deleted = await admin.SendAsync(current);

        Assert.Equal(HttpStatusCode.PreconditionFailed, refused.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{AdminApiClient.Applications}/{id}")).StatusCode);
    }

    [PrerequisiteFact]
    public async Task Get_UnknownApplication_Returns404()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);

        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{AdminApiClient.Applications}/{Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{AdminApiClient.Applications}/{Guid.NewGuid()}/oidc")).StatusCode);
    }

    [PrerequisiteFact]
    public async Task Create_WithoutToken_Returns401()
    {
        var response = await factory.CreateClient().PostAsJsonAsync(AdminApiClient.Applications, new { name = "Anonymous" });

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [PrerequisiteFact]
    public async Task Writes_AuditorClient_Get403ButReadsSucceed()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var created = await AdminApiClient.CreateServiceClientAsync(admin, AdminApiClient.ServiceClient(adminRoles: [AdminRoles.Auditor]));
        var registration = created.GetProperty("registration");
        var auditor = factory.CreateClient();
        auditor.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await AdminApiClient.TokenAsync(
            factory.CreateClient(), registration.GetProperty("clientId").GetString()!, registration.GetProperty("clientSecret").GetString()!, IdentityHubScopes.AdminApi));
        var id = created.GetProperty("applicationId").GetGuid();

        var read = await auditor.GetAsync($"{AdminApiClient.Applications}/{id}/oidc");
        var create = await auditor.PostAsJsonAsync(AdminApiClient.Applications, new { name = "Auditor's app" });
        var put = await auditor.PutAsJsonAsync($"{AdminApiClient.Applications}/{id}/oidc", AdminApiClient.ServiceClient());
        var rotate = await auditor.PostAsync($"{AdminApiClient.Applications}/{id}/oidc/secret", null);

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, create.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, rotate.StatusCode);
    }

    [PrerequisiteFact]
    public async Task Read_TokenWithoutAdminApiScope_Returns401()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var created = await AdminApiClient.CreateServiceClientAsync(admin);
        var registration = created.GetProperty("registration");
        var client = factory.CreateClient();
        // Its access token's audience is the client itself, not the admin API.
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await AdminApiClient.TokenAsync(
            factory.CreateClient(), registration.GetProperty("clientId").GetString()!, registration.GetProperty("clientSecret").GetString()!));

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(AdminApiClient.Applications)).StatusCode);
    }

    private static async Task<bool> RevokesAsync(HttpClient admin, Guid id) =>
        (await admin.GetFromJsonAsync<JsonElement>($"{AdminApiClient.Applications}/{id}")).GetProperty("revokeTokensOnAccessLoss").GetBoolean();

    internal static async Task AssertFieldProblemAsync(HttpResponseMessage response, string field)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await AdminApiClient.ProblemAsync(response);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"No error for \"{field}\": {problem}");
    }
}

public sealed class SqliteApplicationsApiTests(SqliteFactory factory) : ApplicationsApiTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlApplicationsApiTests(PostgreSqlFactory factory) : ApplicationsApiTests<PostgreSqlFactory>(factory);
