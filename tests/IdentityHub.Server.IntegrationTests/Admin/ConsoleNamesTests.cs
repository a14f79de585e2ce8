using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using IdentityHub.Core.Directory;
using IdentityHub.Data.Provisioning;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using static IdentityHub.Server.IntegrationTests.AdminApi.AdminCallers;

namespace IdentityHub.Server.IntegrationTests.Admin;

/// <summary>
/// Issue 17 §4 in the console: people, roles, applications, departments, connectors and assignments are shown by name with a
/// link to them, never as a bare GUID; the audit viewer is searched by name; reasons and refusals name an assignment by its
/// role, scope and dates, in the reader's language.
/// </summary>
public abstract partial class ConsoleNamesTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    [PrerequisiteFact]
    public async Task AuditPage_SearchedByAUsersDisplayName_ShowsTargetsAndActorsByNameWithLinksAndNoGuid()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var world = await WorldAsync(admin);
        var browser = await ConsoleAsync();

        var html = await browser.GetStringAsync($"/admin/audit?target={Uri.EscapeDataString(world.PersonName)}");

        var targets = Cells(html, "audit-target");
        Assert.Equal(2, targets.Count);
        Assert.All(targets, cell =>
        {
            Assert.Contains(world.PersonName, Visible(cell), StringComparison.Ordinal);
            Assert.Contains($"href=\"/admin/users/{world.Person}\"", cell, StringComparison.Ordinal);
        });
        Assert.All(targets.Concat(Cells(html, "audit-actor")), cell => Assert.DoesNotMatch(GuidPattern(), Visible(cell)));
    }

    [PrerequisiteFact]
    public async Task AuditPage_SearchedByARolesDisplayName_LinksTheRoleToItsPage()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var world = await WorldAsync(admin);
        var browser = await ConsoleAsync();

        var html = await browser.GetStringAsync($"/admin/audit?q={Uri.EscapeDataString(world.RoleName)}");

        var targets = Cells(html, "audit-target");
        Assert.Contains(targets, cell => Visible(cell).Contains(world.RoleName, StringComparison.Ordinal)
            && cell.Contains($"href=\"/admin/roles/{world.Role}\"", StringComparison.Ordinal));
        Assert.Contains(targets, cell => cell.Contains($"href=\"/admin/users/{world.Person}\"", StringComparison.Ordinal));
        Assert.All(targets, cell => Assert.DoesNotMatch(GuidPattern(), Visible(cell)));
    }

    [PrerequisiteTheory]
    [InlineData("en", "deleted")]
    [InlineData("zh-CN", "已删除")]
    public async Task AuditPage_ADeletedDepartment_ShowsTheNameItsDeletionRecordedMarkedDeleted(string language, string deleted)
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var name = "Closed " + NewCode("C");
        var department = await CreateDepartmentAsync(admin, name: name);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{AdminCallers.Departments}/{department}")).StatusCode);
        var browser = await ConsoleAsync(language);

        var html = await browser.GetStringAsync($"/admin/audit?target={Uri.EscapeDataString(name)}");

        var targets = Cells(html, "audit-target");
        Assert.Equal(2, targets.Count);
        Assert.All(targets, cell =>
        {
            Assert.Contains(name, Visible(cell), StringComparison.Ordinal);
            Assert.Contains(deleted, Visible(cell), StringComparison.Ordinal);
            Assert.DoesNotContain("href=", cell, StringComparison.Ordinal);
            Assert.DoesNotMatch(GuidPattern(), Visible(cell));
        });
    }

    [PrerequisiteFact]
    public async Task Dashboard_RecentChanges_NameTheirTargetsWithoutGuids()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var world = await WorldAsync(admin);
        var browser = await ConsoleAsync();

        var html = await browser.GetStringAsync("/admin");

        var targets = Cells(html, "audit-target");
        Assert.Contains(targets, cell => cell.Contains($"href=\"/admin/users/{world.Person}\"", StringComparison.Ordinal) && Visible(cell).Contains(world.PersonName, StringComparison.Ordinal));
        Assert.All(targets.Concat(Cells(html, "audit-actor")), cell => Assert.DoesNotMatch(GuidPattern(), Visible(cell)));
    }

    [PrerequisiteTheory]
    [InlineData("en", "granted by role '{0}', scoped to department '{1}', from {2} until 2031-06-30 (last day included)")]
    [InlineData("zh-CN", "由角色“{0}”授予，范围为部门“{1}”，{2} 起至 2031-06-30（含当日）")]
    public async Task UserPage_PermissionReason_NamesRoleScopeAndDatesInTheReadersLanguage(string language, string expected)
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var world = await WorldAsync(admin);
        var browser = await ConsoleAsync(language);

        var html = await browser.GetStringAsync($"/admin/users/{world.Person}");

        var reason = Visible(Assert.Single(Cells(html, "grant-reason")));
        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, world.RoleLabel, world.DepartmentName, world.From), reason);
        Assert.Contains($"href=\"/admin/departments/{world.Department}\"", html, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task UserPage_ForAnHrAdministrator_LinksOnlyToTheSectionsTheyMayOpen()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var world = await WorldAsync(admin);
        var driver = new Oidc.OidcDriver(factory);
        var hr = await driver.CreateUserAsync();
        await driver.AddRoleAsync(hr, AdminRoles.HrAdmin);
        var browser = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(browser, hr.UserName!, Oidc.OidcDriver.Password);

        var html = await browser.GetStringAsync($"/admin/users/{world.Person}");

        // Departments are theirs to read; applications and roles are not, so those are names without links.
        Assert.Contains($"href=\"/admin/departments/{world.Department}\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain($"href=\"/admin/applications/{world.Application}\"", html, StringComparison.Ordinal);
        Assert.Contains(world.RoleName, Visible(Table(html, "assignments")), StringComparison.Ordinal);
    }

    /// <summary>One set of rules: the console's grant form and the admin API refuse the same conflicting grant with the same words.</summary>
    [PrerequisiteFact]
    public async Task GrantForm_SodConflict_IsRefusedLikeTheApiNamingTheOtherAssignmentNotItsId()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var world = await WorldAsync(admin);
        var other = await NamedRoleAsync(admin, "Approver " + NewCode("A"));
        await PostAsync(admin, SodRules, new { name = NewCode("rule"), firstRoleId = world.Role, secondRoleId = other.Id });
        var browser = await ConsoleAsync();

        var api = await admin.PostAsJsonAsync(Assignments, new { userId = world.Person, roleId = other.Id, reason = "Also approves" });
        var console = await PostFormAsync(browser, "/admin/assignments/new", new()
        {
            ["Input.UserId"] = world.Person,
            ["Input.RoleId"] = other.Id.ToString(),
            ["Input.Reason"] = "Also approves",
        });

        Assert.Equal(HttpStatusCode.Conflict, api.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, console.StatusCode);
        var title = (await AdminApiClient.ProblemAsync(api)).GetProperty("title").GetString()!;
        Assert.Equal(title, Alert(await console.Content.ReadAsStringAsync()));
        Assert.Contains($"already holds role '{world.RoleLabel}' (department '{world.DepartmentName}', from {world.From} until 2031-07-01 00:00 UTC)", title, StringComparison.Ordinal);
        Assert.DoesNotContain(world.Assignment.ToString(), title, StringComparison.OrdinalIgnoreCase);
    }

    [PrerequisiteFact]
    public async Task GrantForm_SodConflictInTheChineseConsole_NamesTheOtherAssignmentByRoleScopeAndDatesInChinese()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var world = await WorldAsync(admin);
        var other = await NamedRoleAsync(admin, "审批人 " + NewCode("A"));
        var rule = NewCode("rule");
        await PostAsync(admin, SodRules, new { name = rule, firstRoleId = world.Role, secondRoleId = other.Id });
        var browser = await ConsoleAsync("zh-CN");

        var refused = await PostFormAsync(browser, "/admin/assignments/new", new()
        {
            ["Input.UserId"] = world.Person,
            ["Input.RoleId"] = other.Id.ToString(),
            ["Input.Reason"] = "Also approves",
        });

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal(
            $"职责分离：规则“{rule}”禁止同时持有“{world.RoleLabel}”和“{other.Label}”；该用户已持有角色“{world.RoleLabel}”（部门“{world.DepartmentName}”，{world.From} 起至 2031-07-01 00:00（UTC）），"
            + $"与角色“{other.Label}”（所有部门，{DateTimeOffset.UtcNow:yyyy-MM-dd} 起，无结束日期）重叠。",
            Alert(await refused.Content.ReadAsStringAsync()));
    }

    [PrerequisiteFact]
    public async Task AssignmentsPage_ListsPeopleRolesApplicationsAndScopesByNameWithLinks()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var world = await WorldAsync(admin);
        var browser = await ConsoleAsync();

        var html = await browser.GetStringAsync($"/admin/assignments?role={Uri.EscapeDataString(world.RoleName)}");

        var user = Visible(Assert.Single(Cells(html, "assignment-user")));
        Assert.StartsWith(world.PersonName, user, StringComparison.Ordinal);
        Assert.Contains($"href=\"/admin/users/{world.Person}\"", html, StringComparison.Ordinal);
        Assert.Contains($"href=\"/admin/applications/{world.Application}\"", html, StringComparison.Ordinal);
        Assert.Contains($"href=\"/admin/departments/{world.Department}\"", html, StringComparison.Ordinal);
        Assert.DoesNotMatch(GuidPattern(), Visible(Table(html, "assignments")));
    }

    [PrerequisiteFact]
    public async Task SodPage_AHolderOfBothSides_IsNamedWithBothAssignmentsByRoleScopeAndDates()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var world = await WorldAsync(admin);
        var other = await NamedRoleAsync(admin, "Checker " + NewCode("K"));
        await PostAsync(admin, Assignments, new { userId = world.Person, roleId = other.Id, reason = "Before the rule" });
        await PostAsync(admin, SodRules, new { name = NewCode("rule"), firstRoleId = world.Role, secondRoleId = other.Id });
        var browser = await ConsoleAsync();

        var html = await browser.GetStringAsync("/admin/separation-of-duty");

        var violation = Regex.Matches(html, "<li>(.*?)</li>", RegexOptions.Singleline).Select(m => m.Groups[1].Value)
            .Single(li => li.Contains($"href=\"/admin/users/{world.Person}\"", StringComparison.Ordinal));
        Assert.Contains(world.PersonName, Visible(violation), StringComparison.Ordinal);
        Assert.Contains($"role '{world.RoleLabel}' (department '{world.DepartmentName}', from {world.From} until 2031-07-01 00:00 UTC)", Visible(violation), StringComparison.Ordinal);
        Assert.Contains($"role '{other.Label}' (everywhere, from ", Visible(violation), StringComparison.Ordinal);
        Assert.DoesNotMatch(GuidPattern(), Visible(violation));
        Assert.Contains($">{world.RoleLabel}</a>", Table(html, "sod-rules"), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task DeadLettersConnectorAndHistoryPages_NameThePersonWithALink()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var world = await WorldAsync(admin);
        var connector = Guid.NewGuid();
        await InDatabaseAsync(factory, async db =>
        {
            // A paused connector with one dead row and one failed attempt: what the pages show, without a target to call.
            db.Connectors.Add(new Connector { Id = connector, ApplicationId = world.Application, Name = "Payroll feed " + NewCode("F"), Kind = ConnectorKind.Webhook, Paused = true, CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow });
            db.Outbox.Add(new OutboxEntry { ConnectorId = connector, UserId = world.Person, Change = "assignment.granted", CreatedAt = DateTimeOffset.UtcNow, DueAt = DateTimeOffset.UtcNow, Attempts = 8, Status = OutboxStatus.Dead, LastError = "503" });
            db.DeliveryAttempts.Add(new DeliveryAttempt { ConnectorId = connector, UserId = world.Person, Version = 1, At = DateTimeOffset.UtcNow, Succeeded = false, StatusCode = 503, Error = "Service unavailable" });
            return await db.SaveChangesAsync();
        });
        var browser = await ConsoleAsync();

        var dead = await browser.GetStringAsync($"/admin/provisioning/{connector}/dead-letters");
        var page = await browser.GetStringAsync($"/admin/provisioning/{connector}");
        var history = await browser.GetStringAsync($"/admin/provisioning/history?user={Uri.EscapeDataString(world.EmployeeNumber)}");
        var api = await JsonAsync(await admin.GetAsync($"/api/admin/v1/connectors/{connector}/dead-letters"), HttpStatusCode.OK);

        foreach (var cell in Cells(dead, "dead-letter-user").Concat(Cells(page, "error-user")))
        {
            Assert.Contains($"href=\"/admin/users/{world.Person}\"", cell, StringComparison.Ordinal);
            Assert.Contains(world.PersonName, Visible(cell), StringComparison.Ordinal);
            Assert.DoesNotMatch(GuidPattern(), Visible(cell));
        }

        Assert.Single(Cells(dead, "dead-letter-user"));
        Assert.Single(Cells(page, "error-user"));
        Assert.Contains(world.PersonName, Visible(Assert.Single(Cells(history, "history-person"))), StringComparison.Ordinal);
        Assert.Contains("data-testid=\"user-history\"", history, StringComparison.Ordinal);
        Assert.Equal(world.PersonName, Assert.Single(api.GetProperty("items").EnumerateArray()).GetProperty("userDisplayName").GetString());
    }

    /// <summary>
    /// A department, a person in it, an application role with a display name granted to them in that department until
    /// 2031-06-30 (last day included), all through the admin API.
    /// </summary>
    private static async Task<World> WorldAsync(HttpClient admin)
    {
        var departmentName = "Payroll " + NewCode("P");
        var department = await CreateDepartmentAsync(admin, name: departmentName);
        var personName = "Zhao " + NewCode("Z");
        var person = await CreateUserAsync(admin, department, personName);
        var employeeNumber = (await JsonAsync(await admin.GetAsync($"{Users}/{person}"), HttpStatusCode.OK)).GetProperty("employeeNumber").GetString()!;
        var role = await NamedRoleAsync(admin, "Payroll clerk " + NewCode("R"));
        var granted = await PostAsync(admin, Assignments, new
        {
            userId = person, roleId = role.Id, departmentId = department, validUntil = new DateTimeOffset(2031, 7, 1, 0, 0, 0, TimeSpan.Zero), reason = "Payroll runs",
        });
        var from = granted.GetProperty("validFrom").GetDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        return new World(department, departmentName, person, personName, employeeNumber, role.Application, role.Id, role.DisplayName, role.Label,
            granted.GetProperty("id").GetGuid(), from);
    }

    private static async Task<NamedRole> NamedRoleAsync(HttpClient admin, string displayName)
    {
        var application = await AdminApiClient.CreateApplicationAsync(admin);
        var permission = await PostAsync(admin, $"{AdminApiClient.Applications}/{application}/permissions", new { name = "payroll." + NewCode("p").ToLowerInvariant() });
        var key = NewCode("role").ToLowerInvariant();
        var role = await PostAsync(admin, Roles, new { applicationId = application, name = key, displayName, permissions = new[] { new { permissionId = permission.GetProperty("id").GetGuid() } } });
        return new NamedRole(role.GetProperty("id").GetGuid(), application, displayName, $"{displayName} ({key})");
    }

    private async Task<HttpClient> ConsoleAsync(string language = "en")
    {
        var client = factory.CreateBrowserLikeClient();
        client.DefaultRequestHeaders.AcceptLanguage.ParseAdd(language);
        await BrowserSession.SignInAsync(client, FirstAdministrator.UserName, IdentityHubFactory.AdminPassword);
        return client;
    }

    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string path, Dictionary<string, string> fields)
    {
        fields["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(await client.GetStringAsync(path.Split('?')[0]));
        return await client.PostAsync(path, new FormUrlEncodedContent(fields));
    }

    /// <summary>The inner HTML of every cell marked <c>data-testid="<paramref name="testId"/>"</c>.</summary>
    private static List<string> Cells(string html, string testId) =>
        [.. Regex.Matches(html, $"<(td|dd|p)[^>]*data-testid=\"{Regex.Escape(testId)}\"[^>]*>(.*?)</\\1>", RegexOptions.Singleline).Select(m => m.Groups[2].Value)];

    private static string Table(string html, string testId)
    {
        var match = Regex.Match(html, $"<table data-testid=\"{Regex.Escape(testId)}\".*?</table>", RegexOptions.Singleline);
        Assert.True(match.Success, $"No table {testId}");
        return match.Value;
    }

    /// <summary>What a reader sees of some HTML: the text without tags, entities decoded, spaces collapsed.</summary>
    private static string Visible(string html) =>
        Regex.Replace(WebUtility.HtmlDecode(Regex.Replace(html, "<[^>]+>", " ")), "\\s+", " ").Trim();

    private static string Alert(string html)
    {
        var match = Regex.Match(html, "data-testid=\"form-error\">\\s*<strong>(.*?)</strong>", RegexOptions.Singleline);
        Assert.True(match.Success, "The page shows no refusal.");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    [GeneratedRegex("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")]
    private static partial Regex GuidPattern();

    private sealed record World(
        Guid Department, string DepartmentName, string Person, string PersonName, string EmployeeNumber, Guid Application, Guid Role, string RoleName,
        string RoleLabel, Guid Assignment, string From);

    private sealed record NamedRole(Guid Id, Guid Application, string DisplayName, string Label);
}

public sealed class SqliteConsoleNamesTests(SqliteFactory factory) : ConsoleNamesTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlConsoleNamesTests(PostgreSqlFactory factory) : ConsoleNamesTests<PostgreSqlFactory>(factory);
