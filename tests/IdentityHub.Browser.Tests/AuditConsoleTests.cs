using System.Text.RegularExpressions;
using IdentityHub.Testing;
using Microsoft.Playwright;
using static IdentityHub.Browser.Tests.ConsoleSteps;

namespace IdentityHub.Browser.Tests;

/// <summary>
/// Issue 17 §4 through the real console in Debian's Chromium: an auditor searches the audit trail by a person's display
/// name and by a role's display name, sees targets and actors by name (never a bare GUID), and follows a target's link;
/// in English, then in Chinese after the language switch.
/// </summary>
[Requires(Prerequisite.Browser)]
public sealed partial class AuditConsoleTests(ServerAndBrowser fixture) : IClassFixture<ServerAndBrowser>
{
    private const string Password = "Audit-Console-Password-1";

    [PrerequisiteFact]
    public async Task AuditTrail_AuditorSearchesByAPersonsAndARolesDisplayName_SeesNamesAndFollowsTheLinksInEnglishAndChinese()
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var person = $"Chen Jing {suffix}";
        var roleName = $"Finance approver {suffix}";
        var application = $"Expenses {suffix}";

        // Arrange, as the bootstrap administrator: an auditor, a person, an application whose role has a display name, and a grant.
        await using (var admin = await fixture.SignInAsync("admin", ServerAndBrowser.AdminPassword))
        {
            var page = admin.Page;
            await CreateUserAsync(page, $"auditor-{suffix}", $"Auditor {suffix}", $"E-A-{suffix}");
            var form = page.GetByTestId("admin-roles-form");
            await form.GetByLabel("auditor", new() { Exact = true }).CheckAsync();
            var auditorUrl = page.Url;
            await form.GetByRole(AriaRole.Button, new() { Name = "Save administrator roles" }).ClickAsync();
            await page.WaitForURLAsync(auditorUrl);
            await CreateUserAsync(page, $"chen.jing-{suffix}", person, $"E-C-{suffix}");
            var personUrl = page.Url;

            await page.GotoAsync("/admin/applications");
            await page.GetByLabel("Application", new() { Exact = true }).FillAsync(application);
            await page.GetByRole(AriaRole.Button, new() { Name = "Create application" }).ClickAsync();
            await page.WaitForURLAsync("**/admin/applications/*");
            var permissions = page.GetByTestId("create-permission");
            await permissions.GetByLabel("Permission").FillAsync("expense.approve");
            await permissions.GetByRole(AriaRole.Button, new() { Name = "Create permission" }).ClickAsync();
            await Assertions.Expect(page.GetByTestId("permission-list")).ToContainTextAsync("expense.approve");
            var roles = page.GetByTestId("create-role");
            await roles.GetByLabel("Role name").FillAsync($"finance-approver-{suffix}");
            await roles.GetByLabel("Display name").FillAsync(roleName);
            await roles.GetByLabel("expense.approve", new() { Exact = true }).CheckAsync();
            await roles.GetByRole(AriaRole.Button, new() { Name = "Create role" }).ClickAsync();
            await Assertions.Expect(page.GetByTestId($"role-finance-approver-{suffix}")).ToContainTextAsync(roleName);

            await page.GotoAsync(personUrl);
            await page.GetByTestId("assign-role").ClickAsync();
            await page.WaitForURLAsync("**/admin/assignments/new?*");
            await page.GetByLabel("Role", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = $"{roleName} · finance-approver-{suffix}" });
            await page.GetByLabel("Reason").FillAsync("Approves expenses");
            await page.GetByRole(AriaRole.Button, new() { Name = "Grant the role" }).ClickAsync();
            await page.WaitForURLAsync(personUrl);
            // The person's assignments name the role, its application and who granted it (the administrator, by name).
            var assignments = await page.GetByTestId("assignments").InnerTextAsync();
            Assert.Contains(roleName, assignments, StringComparison.Ordinal);
            Assert.Contains("admin", assignments, StringComparison.Ordinal);
            Assert.DoesNotMatch(GuidPattern(), assignments);
        }

        await using var auditor = await fixture.SignInAsync($"auditor-{suffix}", Password);
        var audit = auditor.Page;

        // English: by the person's display name, then by the role's display name in the free-text search.
        await SearchAsync(audit, "Target", "Filter", person);
        var table = audit.GetByTestId("audit-events");
        await Assertions.Expect(table).ToContainTextAsync("user.created");
        await Assertions.Expect(table).ToContainTextAsync("assignment.granted");
        await NoGuidAsync(table);
        await ShotAsync(audit, "audit-1-by-person-en");
        await table.GetByTestId("audit-target").First.GetByRole(AriaRole.Link, new() { Name = person }).ClickAsync();
        await audit.WaitForURLAsync(new Regex("/admin/users/[^/?]+$"));
        Assert.StartsWith(person, await audit.GetByTestId("user-title").InnerTextAsync(), StringComparison.Ordinal);

        await SearchAsync(audit, "Search", "Filter", roleName);
        await Assertions.Expect(table).ToContainTextAsync("role.created");
        await NoGuidAsync(table);
        await ShotAsync(audit, "audit-2-by-role-en");
        await table.GetByTestId("audit-target").GetByRole(AriaRole.Link, new() { Name = roleName }).ClickAsync();
        await audit.WaitForURLAsync("**/admin/roles/*");
        Assert.Contains(roleName, await audit.GetByTestId("role-title").InnerTextAsync(), StringComparison.Ordinal);

        // Chinese, switched with the console's language switch: the same searches, the same names and links.
        await audit.GotoAsync("/admin/audit");
        await audit.GetByTestId("language-zh-CN").ClickAsync();
        await audit.WaitForURLAsync("**/admin/audit");
        Assert.Equal("zh-CN", await audit.Locator("html").GetAttributeAsync("lang"));
        await SearchAsync(audit, "对象", "筛选", person);
        await Assertions.Expect(table).ToContainTextAsync("assignment.granted");
        await Assertions.Expect(table.GetByTestId("audit-target").First).ToContainTextAsync("用户");
        await NoGuidAsync(table);
        await ShotAsync(audit, "audit-3-by-person-zh");

        await SearchAsync(audit, "搜索", "筛选", roleName);
        await Assertions.Expect(table).ToContainTextAsync("角色");
        await NoGuidAsync(table);
        await ShotAsync(audit, "audit-4-by-role-zh");
        await table.GetByTestId("audit-target").GetByRole(AriaRole.Link, new() { Name = person }).First.ClickAsync();
        await audit.WaitForURLAsync(new Regex("/admin/users/[^/?]+$"));
        Assert.StartsWith(person, await audit.GetByTestId("user-title").InnerTextAsync(), StringComparison.Ordinal);
    }

    /// <summary>Clears every filter, types <paramref name="text"/> into the field labelled <paramref name="field"/> and submits.</summary>
    private static async Task SearchAsync(IPage page, string field, string submit, string text)
    {
        await page.GotoAsync("/admin/audit");
        await page.GetByLabel(field, new() { Exact = true }).FillAsync(text);
        await page.GetByRole(AriaRole.Button, new() { Name = submit, Exact = true }).ClickAsync();
        await page.WaitForURLAsync("**/admin/audit?*");
    }

    /// <summary>What the reader sees of the actors and targets holds no GUID (closed before/after details are not shown).</summary>
    private static async Task NoGuidAsync(ILocator table)
    {
        foreach (var cell in await table.Locator("[data-testid=audit-target], [data-testid=audit-actor]").AllInnerTextsAsync())
        {
            Assert.DoesNotMatch(GuidPattern(), cell);
        }
    }

    /// <summary>Creates a person with <see cref="Password"/>; ends on their page.</summary>
    private static async Task CreateUserAsync(IPage page, string userName, string displayName, string employeeNumber)
    {
        await page.GotoAsync("/admin/users/edit");
        await page.GetByLabel("User name").FillAsync(userName);
        await page.GetByLabel("Display name").FillAsync(displayName);
        await page.GetByLabel("Employee number").FillAsync(employeeNumber);
        await page.GetByLabel("Email").FillAsync($"{userName}@example.com");
        await page.GetByLabel("Initial password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/admin/users/[^/]+$"));
    }

    [GeneratedRegex("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")]
    private static partial Regex GuidPattern();
}
