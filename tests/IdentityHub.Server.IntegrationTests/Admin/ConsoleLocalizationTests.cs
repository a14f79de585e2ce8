using System.Net;
using IdentityHub.Core.Directory;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using static IdentityHub.Server.IntegrationTests.AdminApi.AdminCallers;

namespace IdentityHub.Server.IntegrationTests.Admin;

/// <summary>
/// Issue 6: the Core's refusals reach the zh-CN console in Chinese (from the theme's messages, by the refusal's
/// code): a separation-of-duty conflict and the bad inputs of the issue.
/// </summary>
public abstract class ConsoleLocalizationTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    [PrerequisiteFact]
    public async Task GrantForm_SeparationOfDutyConflict_IsRefusedInChineseNamingTheRule()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var user = await CreateUserAsync(admin);
        var (_, _, submit) = await CreateRoleAsync(admin, permission: "expense.submit");
        var (_, _, approve) = await CreateRoleAsync(admin, permission: "expense.approve");
        var rule = NewCode("submit-vs-approve");
        await PostAsync(admin, SodRules, new { name = rule, firstRoleId = submit, secondRoleId = approve });
        await PostAsync(admin, Assignments, new { userId = user, roleId = submit, reason = "Employee" });
        var console = await ChineseConsoleAsync();

        var response = await PostFormAsync(console, "/admin/assignments/new", new()
        {
            ["Input.UserId"] = user,
            ["Input.RoleId"] = approve.ToString(),
            ["Input.Reason"] = "Also approves",
        });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains($"职责分离：规则“{rule}”禁止同时持有", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task GrantForm_UntilBeforeFrom_IsRefusedInChinese()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var user = await CreateUserAsync(admin);
        var (_, _, role) = await CreateRoleAsync(admin);
        var console = await ChineseConsoleAsync();

        var response = await PostFormAsync(console, "/admin/assignments/new", new()
        {
            ["Input.UserId"] = user,
            ["Input.RoleId"] = role.ToString(),
            ["Input.ValidFrom"] = "2030-01-10",
            ["Input.ValidUntil"] = "2030-01-05",
            ["Input.Reason"] = "Backwards",
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("“有效期至”必须晚于“生效日期”。", html, StringComparison.Ordinal);
        Assert.Contains("表单中有无效的字段。", html, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task UserForm_DuplicateEmployeeNumber_IsRefusedInChinese()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var existing = await JsonAsync(await admin.GetAsync($"{Users}/{await CreateUserAsync(admin)}"), HttpStatusCode.OK);
        var number = existing.GetProperty("employeeNumber").GetString()!;
        var console = await ChineseConsoleAsync();

        var response = await PostFormAsync(console, "/admin/users/edit", new()
        {
            ["Input.UserName"] = NewCode("copy"),
            ["Input.DisplayName"] = "Copy",
            ["Input.EmployeeNumber"] = number,
        });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains($"工号“{number}”已属于另一位用户。", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task DepartmentForms_CycleStaleRevisionAndDeleteWithUsers_AreRefusedInChinese()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var top = await JsonAsync(await admin.GetAsync($"{AdminCallers.Departments}/{await CreateDepartmentAsync(admin, name: "Top " + NewCode("x"))}"), HttpStatusCode.OK);
        var topId = top.GetProperty("id").GetGuid();
        var child = await CreateDepartmentAsync(admin, topId, name: "Child " + NewCode("x"));
        await CreateUserAsync(admin, topId);
        var console = await ChineseConsoleAsync();
        var revision = await RevisionAsync(console, $"/admin/departments/{topId}");
        var form = new Dictionary<string, string>
        {
            ["Input.Code"] = top.GetProperty("code").GetString()!,
            ["Input.Name"] = top.GetProperty("name").GetString()!,
            ["Revision"] = revision,
        };

        var cycle = await PostFormAsync(console, $"/admin/departments/{topId}", new(form) { ["Input.ParentId"] = child.ToString() });
        var stale = await PostFormAsync(console, $"/admin/departments/{topId}", new(form) { ["Revision"] = "1", ["Input.Name"] = "Renamed" });
        var delete = await PostFormAsync(console, "/admin/departments?handler=delete", new() { ["id"] = topId.ToString(), ["revision"] = revision });

        Assert.Equal(HttpStatusCode.Conflict, cycle.StatusCode);
        Assert.Contains("这会形成循环", await cycle.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Contains("此记录已被他人修改", await stale.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, delete.StatusCode);
        Assert.Contains("仍有 1 名用户", await delete.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task AssignmentForm_Refusal_StaysEnglishInTheEnglishConsole()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var user = await CreateUserAsync(admin);
        var (_, _, role) = await CreateRoleAsync(admin);
        var console = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(console, FirstAdministrator.UserName, IdentityHubFactory.AdminPassword);

        var response = await PostFormAsync(console, "/admin/assignments/new", new()
        {
            ["Input.UserId"] = user,
            ["Input.RoleId"] = role.ToString(),
            ["Input.ValidFrom"] = "2030-01-10",
            ["Input.ValidUntil"] = "2030-01-05",
            ["Input.Reason"] = "Backwards",
        });

        Assert.Contains("&#x27;Valid until&#x27; must be after &#x27;valid from&#x27;.", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>The super administrator's console with the browser asking for Chinese.</summary>
    private async Task<HttpClient> ChineseConsoleAsync()
    {
        var client = factory.CreateBrowserLikeClient();
        client.DefaultRequestHeaders.AcceptLanguage.ParseAdd("zh-CN");
        await BrowserSession.SignInAsync(client, FirstAdministrator.UserName, IdentityHubFactory.AdminPassword);
        Assert.Contains("lang=\"zh-CN\"", await client.GetStringAsync("/admin"), StringComparison.Ordinal);
        return client;
    }

    /// <summary>Posts a console form the way the page does: with the antiforgery token of the page it lives on.</summary>
    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string path, Dictionary<string, string> fields)
    {
        var page = path.Split('?')[0];
        fields["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(await client.GetStringAsync(page));
        return await client.PostAsync(path, new FormUrlEncodedContent(fields));
    }

    private static async Task<string> RevisionAsync(HttpClient client, string path)
    {
        var html = await client.GetStringAsync(path);
        var match = System.Text.RegularExpressions.Regex.Match(html, "name=\"Revision\"[^>]*value=\"([0-9]+)\"|value=\"([0-9]+)\"[^>]*name=\"Revision\"");
        Assert.True(match.Success, "The form has no revision field.");
        return match.Groups[1].Success ? match.Groups[1].Value : match.Groups[2].Value;
    }
}

public sealed class SqliteConsoleLocalizationTests(SqliteFactory factory) : ConsoleLocalizationTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlConsoleLocalizationTests(PostgreSqlFactory factory) : ConsoleLocalizationTests<PostgreSqlFactory>(factory);
