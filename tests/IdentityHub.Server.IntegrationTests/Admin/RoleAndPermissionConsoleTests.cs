using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Server.IntegrationTests.Oidc;
using IdentityHub.Testing;

namespace IdentityHub.Server.IntegrationTests.Admin;

/// <summary>
/// The console's permission and role pages, posted as a browser posts them: edits saved through the same services as
/// the admin API, refusals by field in its words, stale forms refused with an explanation and what was typed kept,
/// and deletion asked first, then reported by name, or refused saying why.
/// </summary>
public abstract partial class RoleAndPermissionConsoleTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly OidcDriver _driver = new(factory);

    [PrerequisiteFact]
    public async Task PermissionForm_AmountLimitRaised_IsSavedAndShownOnTheApplicationPage()
    {
        var (admin, app) = await NewApplicationAsync();
        var permission = await CreatePermissionAsync(admin, app, "expense.approve", new() { ["amountLimit"] = "5000" });
        var browser = await SignedInAdminAsync();
        var page = await browser.GetStringAsync(PermissionPage(app, permission));
        Assert.Contains(">amountLimit=5000</textarea>", page, StringComparison.Ordinal);

        var saved = await PostAsync(browser, PermissionPage(app, permission), page, PermissionForm(page, parameters: "amountLimit=20000\ncurrency=CNY"));

        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        var read = await admin.GetFromJsonAsync<JsonElement>($"{AdminApiClient.Applications}/{app}/permissions/{permission}");
        Assert.Equal("20000", read.GetProperty("parameters").GetProperty("amountLimit").GetString());
        Assert.Equal("CNY", read.GetProperty("parameters").GetProperty("currency").GetString());
        var shown = await browser.GetStringAsync($"/admin/applications/{app}");
        Assert.Contains("Saved: expense.approve", shown, StringComparison.Ordinal);
        Assert.Contains("amountLimit=20000, currency=CNY", shown, StringComparison.Ordinal);
    }

    /// <summary>One set of rules: the console's permission form and the admin API refuse the same bad input on the same field with the same words.</summary>
    [PrerequisiteTheory]
    [InlineData("name", "Expense Approve", "amountLimit=5000")]
    [InlineData("parameters", "expense.approve", "1limit=5000")]
    [InlineData("parameters", "expense.approve", "amount-limit=5000")]
    public async Task PermissionForm_BadInput_IsRefusedLikeTheApiOnTheSameFieldWithTheSameMessage(string field, string name, string parameters)
    {
        var (admin, app) = await NewApplicationAsync();
        var permission = await CreatePermissionAsync(admin, app, "expense.approve", new() { ["amountLimit"] = "5000" });
        var browser = await SignedInAdminAsync();
        var page = await browser.GetStringAsync(PermissionPage(app, permission));

        var api = await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{app}/permissions/{permission}", new
        {
            name, parameters = IdentityHub.Server.Admin.ConsoleForms.ParseParameters(parameters),
        });
        var console = await PostAsync(browser, PermissionPage(app, permission), page, PermissionForm(page, name: name, parameters: parameters));

        Assert.Equal(HttpStatusCode.BadRequest, api.StatusCode);
        Assert.Equal(api.StatusCode, console.StatusCode);
        var apiMessage = Assert.Single((await AdminApiClient.ProblemAsync(api)).GetProperty("errors").GetProperty(field).EnumerateArray()).GetString();
        var body = await console.Content.ReadAsStringAsync();
        Assert.Equal(apiMessage, FieldError(body, "Input." + char.ToUpperInvariant(field[0]) + field[1..]));
        Assert.Contains($">{parameters}</textarea>", body, StringComparison.Ordinal);
        var read = await admin.GetFromJsonAsync<JsonElement>($"{AdminApiClient.Applications}/{app}/permissions/{permission}");
        Assert.Equal("5000", read.GetProperty("parameters").GetProperty("amountLimit").GetString());
    }

    [PrerequisiteFact]
    public async Task PermissionForm_SomeoneSavedMeanwhile_IsRefusedWithTheExplanationAndKeepsWhatWasTyped()
    {
        var (admin, app) = await NewApplicationAsync();
        var permission = await CreatePermissionAsync(admin, app, "expense.approve", new() { ["amountLimit"] = "5000" });
        var browser = await SignedInAdminAsync();
        var page = await browser.GetStringAsync(PermissionPage(app, permission));
        var theirs = await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{app}/permissions/{permission}",
            new { name = "expense.approve", parameters = new Dictionary<string, string> { ["amountLimit"] = "8000" } });
        Assert.Equal(HttpStatusCode.OK, theirs.StatusCode);

        var mine = await PostAsync(browser, PermissionPage(app, permission), page, PermissionForm(page, parameters: "amountLimit=9000"));

        var body = await mine.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.PreconditionFailed, mine.StatusCode);
        Assert.Contains("Someone else changed this permission after you opened the page, so nothing was saved.", body, StringComparison.Ordinal);
        Assert.Contains(">amountLimit=9000</textarea>", body, StringComparison.Ordinal);
        var read = await admin.GetFromJsonAsync<JsonElement>($"{AdminApiClient.Applications}/{app}/permissions/{permission}");
        Assert.Equal("8000", read.GetProperty("parameters").GetProperty("amountLimit").GetString());
    }

    [PrerequisiteFact]
    public async Task PermissionDelete_PartOfARole_IsRefusedSayingWhichRole()
    {
        var (admin, app) = await NewApplicationAsync();
        var permission = await CreatePermissionAsync(admin, app, "expense.approve", []);
        await CreateRoleAsync(admin, app, "expense-approver", permission);
        var browser = await SignedInAdminAsync();

        var refused = await DeleteAsync(browser, PermissionPage(app, permission), "delete-permission");

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var body = await refused.Content.ReadAsStringAsync();
        Assert.Contains("Permission &#x27;expense.approve&#x27; is part of role(s) &#x27;expense-approver&#x27;; remove it from them first.", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"{AdminApiClient.Applications}/{app}/permissions/{permission}")).StatusCode);
    }

    [PrerequisiteFact]
    public async Task PermissionDelete_AfterTheConfirmation_DeletesAndSaysWhichPermission()
    {
        var (admin, app) = await NewApplicationAsync();
        var permission = await CreatePermissionAsync(admin, app, "expense.view", []);
        var browser = await SignedInAdminAsync();
        Assert.DoesNotContain("data-testid=\"confirm-delete-permission\"", await browser.GetStringAsync(PermissionPage(app, permission)), StringComparison.Ordinal);

        var deleted = await DeleteAsync(browser, PermissionPage(app, permission), "delete-permission");

        Assert.Equal(HttpStatusCode.Redirect, deleted.StatusCode);
        var after = await browser.GetStringAsync($"/admin/applications/{app}");
        Assert.Contains("Permission &#x27;expense.view&#x27; deleted", after, StringComparison.Ordinal);
        Assert.DoesNotContain(">Saved<", after, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{AdminApiClient.Applications}/{app}/permissions/{permission}")).StatusCode);
    }

    [PrerequisiteFact]
    public async Task RoleForm_DisplayNameDelegableAndAHigherAmountLimit_AreSavedAndTheRoleShowsThem()
    {
        var (admin, app) = await NewApplicationAsync();
        var approve = await CreatePermissionAsync(admin, app, "expense.approve", new() { ["amountLimit"] = "5000" });
        var submit = await CreatePermissionAsync(admin, app, "expense.submit", []);
        var role = await CreateRoleAsync(admin, app, "expense-approver", approve);
        var browser = await SignedInAdminAsync();
        var page = await browser.GetStringAsync(RolePage(role));
        Assert.Contains("placeholder=\"5000\"", page, StringComparison.Ordinal);

        var form = RoleForm(page, "expense-approver", displayName: "Finance approver", delegable: true);
        Include(form, page, approve, ("amountLimit", "20000"));
        Include(form, page, submit);
        var saved = await PostAsync(browser, RolePage(role), page, form);

        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        var read = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/v1/roles/{role}");
        Assert.Equal("Finance approver", read.GetProperty("displayName").GetString());
        Assert.True(read.GetProperty("delegable").GetBoolean());
        var permissions = read.GetProperty("permissions").EnumerateArray().ToDictionary(p => p.GetProperty("permissionId").GetGuid(), p => p.GetProperty("parameters"));
        Assert.Equal([approve, submit], permissions.Keys.Order());
        Assert.Equal("20000", permissions[approve].GetProperty("amountLimit").GetString());
        Assert.Empty(permissions[submit].EnumerateObject());
        var shown = await browser.GetStringAsync(RolePage(role));
        Assert.Contains("Saved: Finance approver · expense-approver", shown, StringComparison.Ordinal);
        Assert.Contains("<span class=\"role-name\">Finance approver</span>", await browser.GetStringAsync($"/admin/applications/{app}"), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task RoleForm_BadKey_IsRefusedOnTheNameFieldLikeTheApi()
    {
        var (admin, app) = await NewApplicationAsync();
        var approve = await CreatePermissionAsync(admin, app, "expense.approve", []);
        var role = await CreateRoleAsync(admin, app, "expense-approver", approve);
        var browser = await SignedInAdminAsync();
        var page = await browser.GetStringAsync(RolePage(role));

        var api = await admin.PutAsJsonAsync($"/api/admin/v1/roles/{role}", new { applicationId = app, name = "Finance approver" });
        var form = RoleForm(page, "Finance approver", displayName: "Finance approver", delegable: false);
        Include(form, page, approve);
        var console = await PostAsync(browser, RolePage(role), page, form);

        Assert.Equal(HttpStatusCode.BadRequest, console.StatusCode);
        var apiMessage = Assert.Single((await AdminApiClient.ProblemAsync(api)).GetProperty("errors").GetProperty("name").EnumerateArray()).GetString();
        var body = await console.Content.ReadAsStringAsync();
        Assert.Equal(apiMessage, FieldError(body, "Input.Name"));
        Assert.Contains("name=\"Input.DisplayName\" value=\"Finance approver\"", body, StringComparison.Ordinal);
        Assert.Equal("expense-approver", (await admin.GetFromJsonAsync<JsonElement>($"/api/admin/v1/roles/{role}")).GetProperty("name").GetString());
    }

    [PrerequisiteFact]
    public async Task RoleForm_BadKeyInTheChineseConsole_IsRefusedInChinese()
    {
        var (admin, app) = await NewApplicationAsync();
        var role = await CreateRoleAsync(admin, app, "expense-approver");
        var browser = factory.CreateBrowserLikeClient();
        browser.DefaultRequestHeaders.AcceptLanguage.ParseAdd("zh-CN");
        await BrowserSession.SignInAsync(browser, "admin", IdentityHubFactory.AdminPassword);
        var page = await browser.GetStringAsync(RolePage(role));
        Assert.Contains("编辑角色", page, StringComparison.Ordinal);

        var refused = await PostAsync(browser, RolePage(role), page, RoleForm(page, "财务 审批", displayName: null, delegable: false));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("名称最多 100 个字符，只能用字母、数字、“.”、“_”或“-”，并以字母或数字开头。", FieldError(await refused.Content.ReadAsStringAsync(), "Input.Name"));
    }

    [PrerequisiteFact]
    public async Task RoleForm_SomeoneSavedMeanwhile_IsRefusedWithTheExplanationAndKeepsWhatWasTyped()
    {
        var (admin, app) = await NewApplicationAsync();
        var approve = await CreatePermissionAsync(admin, app, "expense.approve", new() { ["amountLimit"] = "5000" });
        var role = await CreateRoleAsync(admin, app, "expense-approver", approve);
        var browser = await SignedInAdminAsync();
        var page = await browser.GetStringAsync(RolePage(role));
        var theirs = await admin.PutAsJsonAsync($"/api/admin/v1/roles/{role}", new
        {
            applicationId = app, name = "expense-approver", displayName = "Theirs", permissions = new[] { new { permissionId = approve } },
        });
        Assert.Equal(HttpStatusCode.OK, theirs.StatusCode);
        var form = RoleForm(page, "expense-approver", displayName: "Mine", delegable: true);
        Include(form, page, approve, ("amountLimit", "7500"));

        var mine = await PostAsync(browser, RolePage(role), page, form);

        var body = await mine.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.PreconditionFailed, mine.StatusCode);
        Assert.Contains("Someone else changed this role after you opened the page, so nothing was saved.", body, StringComparison.Ordinal);
        Assert.Contains("name=\"Input.DisplayName\" value=\"Mine\"", body, StringComparison.Ordinal);
        Assert.Matches("name=\"Input.Permissions\\[\\d+\\].Parameters\\[amountLimit\\]\" value=\"7500\"", body);
        Assert.Equal("Theirs", (await admin.GetFromJsonAsync<JsonElement>($"/api/admin/v1/roles/{role}")).GetProperty("displayName").GetString());
    }

    [PrerequisiteFact]
    public async Task RoleDelete_WithAnAssignment_IsRefusedSayingWhy()
    {
        var (admin, app) = await NewApplicationAsync();
        var role = await CreateRoleAsync(admin, app, "expense-approver");
        var user = await _driver.CreateUserAsync();
        await _driver.GrantApplicationRoleAsync(user, app, "expense-approver");
        var browser = await SignedInAdminAsync();

        var refused = await DeleteAsync(browser, RolePage(role), "delete-role");

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("Role &#x27;expense-approver&#x27; has 1 assignment(s), kept as history; it cannot be deleted.", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/admin/v1/roles/{role}")).StatusCode);
    }

    [PrerequisiteFact]
    public async Task RoleDelete_AfterTheConfirmation_DeletesAndSaysWhichRole()
    {
        var (admin, app) = await NewApplicationAsync();
        var role = await CreateRoleAsync(admin, app, "expense-viewer", displayName: "Expense viewer");
        var browser = await SignedInAdminAsync();
        var list = await browser.GetStringAsync($"/admin/applications/{app}");
        Assert.Contains($"href=\"/admin/roles/{role}?confirm=delete\"", list, StringComparison.Ordinal);

        var deleted = await DeleteAsync(browser, RolePage(role), "delete-role");

        Assert.Equal(HttpStatusCode.Redirect, deleted.StatusCode);
        Assert.Equal($"/admin/applications/{app}", deleted.Headers.Location?.ToString());
        var after = await browser.GetStringAsync($"/admin/applications/{app}");
        Assert.Contains("Role &#x27;Expense viewer · expense-viewer&#x27; deleted", after, StringComparison.Ordinal);
        Assert.DoesNotContain(">Saved<", after, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/admin/v1/roles/{role}")).StatusCode);
    }

    /// <summary>A deletion confirmed on a page someone else changed since is refused with the explanation, and the record stays.</summary>
    [PrerequisiteTheory]
    [InlineData("permission")]
    [InlineData("role")]
    public async Task Delete_SomeoneSavedMeanwhile_IsRefusedWithTheExplanationAndKeepsTheRecord(string what)
    {
        var (admin, app) = await NewApplicationAsync();
        var permission = await CreatePermissionAsync(admin, app, "expense.approve", []);
        var role = await CreateRoleAsync(admin, app, "expense-approver");
        var (url, api, change) = what == "permission"
            ? (PermissionPage(app, permission), $"{AdminApiClient.Applications}/{app}/permissions/{permission}", (object)new { name = "expense.approve", description = "Changed" })
            : (RolePage(role), $"/api/admin/v1/roles/{role}", new { applicationId = app, name = "expense-approver", displayName = "Changed" });
        var browser = await SignedInAdminAsync();
        var confirm = await browser.GetStringAsync($"{url}?confirm=delete");
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync(api, change)).StatusCode);

        var refused = await browser.PostAsync($"{url}?handler=delete", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(confirm),
            ["revision"] = Regex.Match(confirm, "name=\"revision\" value=\"(-?\\d+)\"").Groups[1].Value,
        }));

        Assert.Equal(HttpStatusCode.PreconditionFailed, refused.StatusCode);
        Assert.Contains($"Someone else changed this {what} after you opened the page, so nothing was saved.", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(api)).StatusCode);
    }

    private static string PermissionPage(Guid app, Guid permission) => $"/admin/applications/{app}/permissions/{permission}";

    private static string RolePage(Guid role) => $"/admin/roles/{role}";

    private async Task<(HttpClient Admin, Guid Application)> NewApplicationAsync()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        return (admin, await AdminApiClient.CreateApplicationAsync(admin));
    }

    private static async Task<Guid> CreatePermissionAsync(HttpClient admin, Guid app, string name, Dictionary<string, string> parameters)
    {
        var response = await admin.PostAsJsonAsync($"{AdminApiClient.Applications}/{app}/permissions", new { name, parameters });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static async Task<Guid> CreateRoleAsync(HttpClient admin, Guid app, string name, Guid? permission = null, string? displayName = null)
    {
        var response = await admin.PostAsJsonAsync("/api/admin/v1/roles", new
        {
            applicationId = app, name, displayName, permissions = permission is { } p ? new[] { new { permissionId = p } } : [],
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private async Task<HttpClient> SignedInAdminAsync()
    {
        var browser = factory.CreateBrowserLikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await BrowserSession.SignInAsync(browser, "admin", IdentityHubFactory.AdminPassword)).StatusCode);
        return browser;
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient browser, string url, string page, Dictionary<string, string> form)
    {
        form["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(page);
        return browser.PostAsync(url, new FormUrlEncodedContent(form));
    }

    /// <summary>Opens the page's confirmation step <paramref name="key"/> and posts its form as it is (with the revision it carries).</summary>
    private static Task<HttpResponseMessage> DeleteAsync(HttpClient browser, string url, string key) =>
        ConsoleDriver.ConfirmAsync(browser, $"{url}?confirm=delete", key);

    private static Dictionary<string, string> PermissionForm(string page, string name = "expense.approve", string parameters = "") => new()
    {
        ["Input.Revision"] = Revision().Match(page).Groups[1].Value,
        ["Input.Name"] = name,
        ["Input.Description"] = "",
        ["Input.Parameters"] = parameters,
    };

    /// <summary>The role form with no permission ticked; <see cref="Include"/> ticks one.</summary>
    private static Dictionary<string, string> RoleForm(string page, string name, string? displayName, bool delegable)
    {
        var form = new Dictionary<string, string>
        {
            ["Input.Revision"] = Revision().Match(page).Groups[1].Value,
            ["Input.Name"] = name,
            ["Input.DisplayName"] = displayName ?? "",
            ["Input.Description"] = "",
        };
        if (delegable)
        {
            form["Input.Delegable"] = "true";
        }

        foreach (Match row in PermissionRow().Matches(page))
        {
            form[$"Input.Permissions[{row.Groups[1].Value}].PermissionId"] = row.Groups[2].Value;
        }

        return form;
    }

    /// <summary>Ticks the row of <paramref name="permission"/> and types the role's parameter values into it.</summary>
    private static void Include(Dictionary<string, string> form, string page, Guid permission, params (string Key, string Value)[] values)
    {
        var row = PermissionRow().Matches(page).Single(m => m.Groups[2].Value == permission.ToString()).Groups[1].Value;
        form[$"Input.Permissions[{row}].Included"] = "true";
        foreach (var (key, value) in values)
        {
            form[$"Input.Permissions[{row}].Parameters[{key}]"] = value;
        }
    }

    /// <summary>The text the page shows next to the input named <paramref name="field"/>.</summary>
    private static string FieldError(string html, string field)
    {
        var match = Regex.Match(html, $"data-valmsg-for=\"{Regex.Escape(field)}\"[^>]*>([^<]*)</span>");
        Assert.True(match.Success, $"No field error for {field}");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    [GeneratedRegex("name=\"Input.Revision\" value=\"(-?\\d+)\"")]
    private static partial Regex Revision();

    [GeneratedRegex("name=\"Input.Permissions\\[(\\d+)\\].PermissionId\" value=\"([0-9a-f-]{36})\"")]
    private static partial Regex PermissionRow();
}

public sealed class SqliteRoleAndPermissionConsoleTests(SqliteFactory factory) : RoleAndPermissionConsoleTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlRoleAndPermissionConsoleTests(PostgreSqlFactory factory) : RoleAndPermissionConsoleTests<PostgreSqlFactory>(factory);
