using System.Globalization;
using IdentityHub.Testing;
using Microsoft.Playwright;
using static IdentityHub.Browser.Tests.ConsoleSteps;

namespace IdentityHub.Browser.Tests;

/// <summary>
/// Issue 6 §8 through the real console in Debian's Chromium: delegated administrators build a department, a
/// user, an application with a permission and roles, grant a role with a scope and an end date, see why the
/// user holds the permission, hit a separation-of-duty refusal, and an auditor can read but not change.
/// </summary>
[Requires(Prerequisite.Browser)]
public sealed class ConsoleTests(ServerAndBrowser fixture) : IClassFixture<ServerAndBrowser>
{
    private const string Password = "Console-Test-Password-1";

    [PrerequisiteFact]
    public async Task Console_DelegatedAdminsThroughTheRealPages_GrantExplainRefuseConflictAndStayReadOnlyForTheAuditor()
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        string Name(string name) => $"{name}-{suffix}";
        var company = Name("Company");
        var finance = Name("Finance");
        var until = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(30);

        // Arrange, as the bootstrap administrator (super-admin): a top-level department and the three
        // delegated administrators, each with a password and an admin role; the HR admin administers the company subtree.
        await using (var super = await fixture.SignInAsync("admin", ServerAndBrowser.AdminPassword))
        {
            await CreateDepartmentAsync(super.Page, Name("HQ"), company, parent: null);
            await CreateUserAsync(super.Page, Name("hr"), "HR Admin", Name("E-HR"), department: null);
            await SetAdminRoleAsync(super.Page, "hr-admin", administers: company);
            await CreateUserAsync(super.Page, Name("sec"), "Security Admin", Name("E-SEC"), department: null);
            await SetAdminRoleAsync(super.Page, "security-admin", administers: null);
            await CreateUserAsync(super.Page, Name("audit"), "Auditor", Name("E-AUD"), department: null);
            await SetAdminRoleAsync(super.Page, "auditor", administers: null);
        }

        // The HR admin creates a department under the company and a user in it.
        string userUrl;
        await using (var hr = await fixture.SignInAsync(Name("hr"), Password))
        {
            await CreateDepartmentAsync(hr.Page, Name("FIN"), finance, parent: company);
            await CreateUserAsync(hr.Page, Name("li.lei"), "Li Lei", Name("E-1001"), department: $"{company} / {finance}");
            userUrl = hr.Page.Url;
            Assert.Equal(finance, await hr.Page.GetByTestId("user-department").InnerTextAsync());
            await ShotAsync(hr.Page, "console-1-hr-created-user");
        }

        // The security admin creates the application, two permissions, two delegable roles, and a rule that they conflict.
        await using (var security = await fixture.SignInAsync(Name("sec"), Password))
        {
            var page = security.Page;
            await page.GotoAsync("/admin/applications");
            await page.GetByLabel("Application", new() { Exact = true }).FillAsync(Name("Expenses"));
            await page.GetByRole(AriaRole.Button, new() { Name = "Create application" }).ClickAsync();
            await page.WaitForURLAsync("**/admin/applications/*");
            Assert.Equal(Name("Expenses"), await page.GetByTestId("application-title").InnerTextAsync());

            await CreatePermissionAsync(page, "expense.approve", "amountLimit=5000");
            await CreatePermissionAsync(page, "expense.submit", "");
            await CreateRoleAsync(page, Name("expense-approver"), "expense.approve");
            await CreateRoleAsync(page, Name("expense-submitter"), "expense.submit");
            await ShotAsync(page, "console-2-security-application");

            await page.GotoAsync("/admin/separation-of-duty");
            await page.GetByLabel("Rule name").FillAsync(Name("submit-vs-approve"));
            await page.GetByLabel("First role").SelectOptionAsync(new SelectOptionValue { Label = $"{Name("expense-approver")} ({Name("Expenses")})" });
            await page.GetByLabel("Second role").SelectOptionAsync(new SelectOptionValue { Label = $"{Name("expense-submitter")} ({Name("Expenses")})" });
            await page.GetByRole(AriaRole.Button, new() { Name = "Create rule" }).ClickAsync();
            await page.WaitForURLAsync("**/admin/separation-of-duty");
            Assert.Contains(Name("submit-vs-approve"), await page.GetByTestId("sod-rules").InnerTextAsync(), StringComparison.Ordinal);
        }

        // The HR admin grants the delegable approver role, scoped to Finance, with an end date; the user's page says why.
        await using (var hr = await fixture.SignInAsync(Name("hr"), Password))
        {
            var page = hr.Page;
            await GrantAsync(page, userUrl, Name("expense-approver"), $"{company} / {finance}", until, "Approves Finance expenses");
            await page.WaitForURLAsync(userUrl);
            var reason = await page.GetByTestId("grant-expense.approve").GetByTestId("grant-reason").InnerTextAsync();
            Assert.Contains($"role '{Name("expense-approver")}'", reason, StringComparison.Ordinal);
            Assert.Contains($"scoped to department '{finance}'", reason, StringComparison.Ordinal);
            // The end date as it was entered, last day included (stored as the next midnight, UTC).
            Assert.Contains($"until {until:yyyy-MM-dd} (last day included)", reason, StringComparison.Ordinal);
            Assert.Contains("amountLimit=5000", await page.GetByTestId("grant-expense.approve").InnerTextAsync(), StringComparison.Ordinal);
            await ShotAsync(page, "console-3-effective-permission-with-reason");

            // The conflicting role is refused with the Core's separation-of-duty message, and nothing is granted.
            await GrantAsync(page, userUrl, Name("expense-submitter"), $"{company} / {finance}", until, "Also submits");
            var error = page.GetByRole(AriaRole.Alert);
            Assert.Contains("Separation of duty", await error.InnerTextAsync(), StringComparison.Ordinal);
            Assert.Contains(Name("submit-vs-approve"), await error.InnerTextAsync(), StringComparison.Ordinal);
            await ShotAsync(page, "console-4-separation-of-duty-refused");
            await page.GotoAsync(userUrl);
            Assert.Equal(0, await page.GetByTestId($"assignment-{Name("expense-submitter")}").CountAsync());
        }

        // The auditor reads everything, sees no write controls, and a forged write is refused by the console and by the API.
        await using (var auditor = await fixture.SignInAsync(Name("audit"), Password))
        {
            var page = auditor.Page;
            await page.GotoAsync(userUrl);
            Assert.Contains("expense.approve", await page.GetByTestId("effective-permissions").InnerTextAsync(), StringComparison.Ordinal);
            Assert.Equal(0, await page.GetByTestId("assign-role").CountAsync());
            Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "End", Exact = true }).CountAsync());
            Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "Suspend" }).CountAsync());
            await page.GotoAsync("/admin/users");
            Assert.Equal(0, await page.GetByTestId("new-user").CountAsync());
            await page.GotoAsync("/admin/departments");
            Assert.Contains(finance, await page.GetByTestId("department-tree").InnerTextAsync(), StringComparison.Ordinal);
            Assert.Equal(0, await page.GetByTestId("create-department").CountAsync());
            Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "Delete" }).CountAsync());
            await ShotAsync(page, "console-5-auditor-read-only");

            var token = await page.Locator("input[name=__RequestVerificationToken]").First.GetAttributeAsync("value");
            var form = page.APIRequest.CreateFormData();
            form.Set("__RequestVerificationToken", token!);
            form.Set("Input.Code", Name("FORGED"));
            form.Set("Input.Name", "Forged");
            var forged = await page.APIRequest.PostAsync("/admin/departments?handler=create", new() { Form = form, MaxRedirects = 0 });
            Assert.Equal(403, forged.Status);

            var api = await page.APIRequest.PostAsync("/api/admin/v1/applications", new()
            {
                DataObject = new { name = Name("Forged") },
                Headers = new Dictionary<string, string> { ["RequestVerificationToken"] = token! },
            });
            Assert.Equal(403, api.Status);

            await page.GotoAsync("/admin/departments");
            Assert.DoesNotContain(Name("FORGED"), await page.GetByTestId("department-tree").InnerTextAsync(), StringComparison.Ordinal);

            // Reading includes checking the audit chain.
            await page.GotoAsync("/admin/audit");
            await page.GetByTestId("verify-chain").ClickAsync();
            Assert.StartsWith("Intact", await page.GetByTestId("verify-result").InnerTextAsync(), StringComparison.Ordinal);
            await ShotAsync(page, "console-6-audit-verified");
        }
    }

    [PrerequisiteFact]
    public async Task LanguageSwitch_ChineseThenEnglish_ChangesTheConsoleLabels()
    {
        await using var admin = await fixture.SignInAsync("admin", ServerAndBrowser.AdminPassword);
        var page = admin.Page;
        await page.GotoAsync("/admin/users");
        Assert.Equal("Users", await page.GetByTestId("nav-Users").InnerTextAsync());

        await page.GetByTestId("language-zh-CN").ClickAsync();
        await page.WaitForURLAsync("**/admin/users");
        Assert.Equal("用户", await page.GetByTestId("nav-Users").InnerTextAsync());
        Assert.Equal("zh-CN", await page.Locator("html").GetAttributeAsync("lang"));
        await Assertions.Expect(page.GetByLabel("搜索")).ToBeVisibleAsync();
        await ShotAsync(page, "console-7-chinese");

        await page.GetByTestId("language-en").ClickAsync();
        await page.WaitForURLAsync("**/admin/users");
        Assert.Equal("Users", await page.GetByTestId("nav-Users").InnerTextAsync());
        await Assertions.Expect(page.GetByLabel("Search")).ToBeVisibleAsync();
    }

    [PrerequisiteFact]
    public async Task Dashboard_TabletWidthAfterAFailedAndAGoodSignIn_ChartsBothAndKeyboardReachesTheSkipLinkFirst()
    {
        await using (var failed = await NewContextAsync())
        {
            await failed.Page.GotoAsync("/account/login");
            await failed.Page.GetByLabel("User name").FillAsync("admin");
            await failed.Page.GetByLabel("Password").FillAsync("not-the-password");
            await failed.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await Assertions.Expect(failed.Page.GetByTestId("login-error")).ToBeVisibleAsync();
        }

        await using var admin = await fixture.SignInAsync("admin", ServerAndBrowser.AdminPassword);
        var page = admin.Page;
        await page.SetViewportSizeAsync(820, 1180);
        await page.GotoAsync("/admin");

        Assert.True(int.Parse(await page.GetByTestId("signins-succeeded").InnerTextAsync(), CultureInfo.InvariantCulture) >= 1);
        Assert.True(int.Parse(await page.GetByTestId("signins-failed").InnerTextAsync(), CultureInfo.InvariantCulture) >= 1);
        Assert.True(await page.Locator("[data-testid=signin-chart] rect.failed[height]:not([height='0'])").CountAsync() >= 1);
        Assert.Contains("signin.succeeded", await page.GetByTestId("recent-changes").InnerTextAsync(), StringComparison.Ordinal);
        await Assertions.Expect(page.GetByTestId("nav-Audit")).ToBeVisibleAsync();

        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("skip-link", await page.EvaluateAsync<string>("document.activeElement.className"));
        await page.Keyboard.PressAsync("Enter");
        Assert.Equal("main", await page.EvaluateAsync<string>("document.activeElement.id"));
        await ShotAsync(page, "console-8-dashboard-tablet");
    }

    private async Task<SignedIn> NewContextAsync()
    {
        var context = await fixture.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.BaseAddress.ToString(), Locale = "en-US" });
        return new SignedIn(context, await context.NewPageAsync());
    }

    private static async Task CreateDepartmentAsync(IPage page, string code, string name, string? parent)
    {
        await page.GotoAsync("/admin/departments");
        var form = page.GetByTestId("create-department");
        await form.GetByLabel("Code").FillAsync(code);
        await form.GetByLabel("Name").FillAsync(name);
        if (parent is not null)
        {
            await ConsolePicker.PickAsync(form.GetByLabel("Parent department"), parent, parent + " · ");
        }

        await form.GetByRole(AriaRole.Button, new() { Name = "Create department" }).ClickAsync();
        await page.WaitForURLAsync("**/admin/departments");
        Assert.Contains(name, await page.GetByTestId("department-tree").InnerTextAsync(), StringComparison.Ordinal);
    }

    private static async Task CreateUserAsync(IPage page, string userName, string displayName, string employeeNumber, string? department)
    {
        await page.GotoAsync("/admin/users");
        await page.GetByTestId("new-user").ClickAsync();
        await page.GetByLabel("User name").FillAsync(userName);
        await page.GetByLabel("Display name").FillAsync(displayName);
        await page.GetByLabel("Employee number").FillAsync(employeeNumber);
        await page.GetByLabel("Email").FillAsync($"{userName}@example.com");
        if (department is not null)
        {
            await ConsolePicker.PickAsync(page.GetByLabel("Department"), department, department + " · ");
        }

        await page.GetByLabel("Initial password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/admin/users/[^/]+$"));
        Assert.StartsWith(displayName, await page.GetByTestId("user-title").InnerTextAsync(), StringComparison.Ordinal);
    }

    /// <summary>On the user's page (where <see cref="CreateUserAsync"/> ends), as a super admin.</summary>
    private static async Task SetAdminRoleAsync(IPage page, string role, string? administers)
    {
        var form = page.GetByTestId("admin-roles-form");
        await form.GetByLabel(role, new() { Exact = true }).CheckAsync();
        if (administers is not null)
        {
            await form.GetByLabel(administers, new() { Exact = true }).CheckAsync();
        }

        var url = page.Url;
        await form.GetByRole(AriaRole.Button, new() { Name = "Save administrator roles" }).ClickAsync();
        await page.WaitForURLAsync(url);
        Assert.Contains(role, await page.Locator("dl.facts").First.InnerTextAsync(), StringComparison.Ordinal);
    }

    private static async Task CreatePermissionAsync(IPage page, string name, string parameters)
    {
        var form = page.GetByTestId("create-permission");
        await form.GetByLabel("Permission").FillAsync(name);
        await form.GetByLabel("Parameters").FillAsync(parameters);
        await form.GetByRole(AriaRole.Button, new() { Name = "Create permission" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("permission-list")).ToContainTextAsync(name);
    }

    private static async Task CreateRoleAsync(IPage page, string name, string permission)
    {
        var form = page.GetByTestId("create-role");
        await form.GetByLabel("Role name").FillAsync(name);
        await form.GetByLabel("Delegable").CheckAsync();
        await form.GetByLabel(permission, new() { Exact = true }).CheckAsync();
        await form.GetByRole(AriaRole.Button, new() { Name = "Create role" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId($"role-{name}")).ToContainTextAsync(permission);
        Assert.Contains("✓", await page.GetByTestId($"role-{name}").InnerTextAsync(), StringComparison.Ordinal);
    }

    private static async Task GrantAsync(IPage page, string userUrl, string role, string scope, DateOnly until, string reason)
    {
        await page.GotoAsync(userUrl);
        await page.GetByTestId("assign-role").ClickAsync();
        await page.WaitForURLAsync("**/admin/assignments/new?*");
        await page.GetByLabel("Role", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = $"{role} (delegable)" });
        await ConsolePicker.PickAsync(page.GetByLabel("Scope"), scope, scope + " · ");
        await page.GetByLabel("Valid until").FillAsync(until.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        await page.GetByLabel("Reason").FillAsync(reason);
        await page.GetByRole(AriaRole.Button, new() { Name = "Grant the role" }).ClickAsync();
        await page.WaitForLoadStateAsync();
    }
}
