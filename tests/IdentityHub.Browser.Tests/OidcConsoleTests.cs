using System.Text.Json;
using IdentityHub.Testing;
using Microsoft.Playwright;
using static IdentityHub.Browser.Tests.ConsoleSteps;

namespace IdentityHub.Browser.Tests;

/// <summary>
/// Issue 17 §3 and §6 through the real console in Debian's Chromium, once in English and once in Chinese: an
/// administrator registers a confidential OIDC client, copies its secret from the page (shown once), grants a role, and
/// a real relying party (ASP.NET Core's OpenID Connect handler) signs the employee in through the real sign-in page and
/// receives who they are and that role; and an administrator edits a permission's amount limit and a role's display
/// name and sees both wherever they are shown.
/// </summary>
[Requires(Prerequisite.Browser)]
public sealed class OidcConsoleTests(ServerAndBrowser fixture) : IClassFixture<ServerAndBrowser>
{
    private const string Password = "Oidc-Console-Password-1";
    private static readonly string[] Scopes = ["openid", "profile", "email", "roles"];

    /// <summary>A generous deadline for every wait (the machine may be busy): a test waits for a state, never for a speed.</summary>
    private const float Deadline = 120_000;

    [PrerequisiteTheory]
    [InlineData("en")]
    [InlineData("zh-CN")]
    public async Task OidcClient_RegisteredInTheConsole_ARealRelyingPartySignsTheEmployeeInAndReceivesTheirRole(string language)
    {
        var t = ThemeTexts.Of(language);
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var userName = $"rp.user.{suffix}";
        var roleKey = $"expense-approver-{suffix}";
        var roleName = language == "en" ? $"Finance approver {suffix}" : $"财务审批人 {suffix}";
        var port = ServerProcess.FreePort();
        await using var admin = await fixture.SignInAsync();
        var page = admin.Page;
        var userUrl = await CreateEmployeeAsync(page, userName);
        await SwitchLanguageAsync(page, language);

        var applicationUrl = await CreateApplicationAsync(page, t, $"Expenses {suffix}");
        await CreatePermissionAsync(page, t, "expense.approve", "amountLimit=5000");
        await CreateRoleAsync(page, t, roleKey, roleName, "expense.approve");

        // Register the client: a confidential web application with the form's defaults and the relying party's addresses.
        // The secret, read from the page once; the next visit shows it no more.
        var (clientId, secret) = await RegisterRelyingPartyClientAsync(page, t, port);
        Assert.Equal(43, secret.Length);
        Assert.Contains($"{fixture.BaseAddress}.well-known/openid-configuration", await page.GetByTestId("oidc-endpoints").InnerTextAsync(), StringComparison.Ordinal);
        await page.GetByTestId("oidc-section").ScreenshotAsync(new() { Path = Path.Combine(TestEnvironment.ArtifactsDirectory, $"oidc-1-secret-shown-once-{language}.png") });
        await page.GotoAsync(applicationUrl);
        await Assertions.Expect(page.GetByTestId("oidc-client-id")).ToHaveTextAsync(clientId);
        await Assertions.Expect(page.GetByTestId("oidc-secret")).ToHaveCountAsync(0);
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);

        // The role, granted to the employee through the console.
        await page.GotoAsync(userUrl);
        await page.GetByTestId("assign-role").ClickAsync();
        await page.WaitForURLAsync("**/admin/assignments/new?*");
        await page.GetByLabel(t["admin.assignments.role"], new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = $"{roleName} · {roleKey}" });
        await page.GetByLabel(t["admin.assignments.reason"], new() { Exact = true }).FillAsync("Relying party test");
        await page.GetByRole(AriaRole.Button, new() { Name = t["admin.assignments.grant"], Exact = true }).ClickAsync();
        await page.WaitForURLAsync(userUrl);

        // The relying party, configured with what the page showed, signs the employee in through the real sign-in page.
        await using var relyingParty = await RelyingParty.StartAsync(port, fixture.BaseAddress, clientId, secret, Scopes);
        var employee = await fixture.NewContextAsync(new BrowserNewContextOptions { Locale = language });
        try
        {
            var login = ThemeTexts.Of(language, "login");
            var rp = await employee.NewPageAsync();
            await rp.GotoAsync(relyingParty.Address.ToString());
            await rp.WaitForURLAsync("**/account/login**");
            await rp.GetByLabel(login["login.username"]).FillAsync(userName);
            await rp.GetByLabel(login["login.password"]).FillAsync(Password);
            await rp.GetByRole(AriaRole.Button, new() { Name = login["login.submit"] }).ClickAsync();
            await rp.WaitForURLAsync(relyingParty.Address.ToString());

            using var seen = JsonDocument.Parse(await rp.Locator("body").InnerTextAsync());
            Assert.Equal(userName, seen.RootElement.GetProperty("preferredUserName").GetString());
            Assert.Equal($"RP User {suffix}", seen.RootElement.GetProperty("name").GetString());
            Assert.Equal([roleKey], seen.RootElement.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
            await ShotAsync(rp, $"oidc-2-relying-party-signed-in-{language}");
        }
        finally
        {
            await employee.CloseAsync();
        }
    }

    [PrerequisiteTheory]
    [InlineData("en")]
    [InlineData("zh-CN")]
    public async Task PermissionAndRole_EditedInTheConsole_TheNewAmountLimitAndDisplayNameShowWhereverTheyAreShown(string language)
    {
        var t = ThemeTexts.Of(language);
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var roleKey = $"expense-approver-{suffix}";
        var (before, after) = language == "en" ? ($"Approver {suffix}", $"Finance approver {suffix}") : ($"审批员 {suffix}", $"财务审批人 {suffix}");
        await using var admin = await fixture.SignInAsync();
        var page = admin.Page;
        await SwitchLanguageAsync(page, language);
        var applicationUrl = await CreateApplicationAsync(page, t, $"Expenses {suffix}");
        await CreatePermissionAsync(page, t, "expense.approve", "amountLimit=5000");
        await CreateRoleAsync(page, t, roleKey, before, "expense.approve");

        // The permission's default amount limit, raised on its own page.
        await page.GetByRole(AriaRole.Link, new() { Name = $"{t["common.edit"]} expense.approve", Exact = true }).ClickAsync();
        await page.WaitForURLAsync("**/permissions/*");
        await Assertions.Expect(page.GetByLabel(t["admin.permissions.parameters"], new() { Exact = true })).ToHaveValueAsync("amountLimit=5000");
        await page.GetByLabel(t["admin.permissions.parameters"], new() { Exact = true }).FillAsync("amountLimit=20000");
        await page.GetByRole(AriaRole.Button, new() { Name = t["common.save"], Exact = true }).ClickAsync();
        await page.WaitForURLAsync(applicationUrl + "#permissions-heading");
        await Assertions.Expect(page.GetByTestId("form-notice")).ToContainTextAsync("expense.approve");
        await Assertions.Expect(page.GetByTestId("permission-expense.approve").GetByTestId("permission-parameters")).ToHaveTextAsync("amountLimit=20000");

        // The role: a new display name, and its own amount limit above the permission's default.
        await page.GetByRole(AriaRole.Link, new() { Name = $"{t["common.edit"]} {before} · {roleKey}", Exact = true }).ClickAsync();
        await page.WaitForURLAsync("**/admin/roles/*");
        var roleUrl = page.Url;
        await page.GetByLabel(t["admin.roles.displayName"], new() { Exact = true }).FillAsync(after);
        var row = page.GetByTestId("role-permission-expense.approve");
        await Assertions.Expect(row.GetByLabel("amountLimit", new() { Exact = true })).ToHaveAttributeAsync("placeholder", "20000");
        await row.GetByLabel("amountLimit", new() { Exact = true }).FillAsync("30000");
        await page.GetByRole(AriaRole.Button, new() { Name = t["common.save"], Exact = true }).ClickAsync();
        await page.WaitForURLAsync(roleUrl);
        await Assertions.Expect(page.GetByTestId("form-notice")).ToContainTextAsync($"{after} · {roleKey}");
        await Assertions.Expect(page.GetByTestId("role-title")).ToContainTextAsync(after);
        await ShotAsync(page, $"oidc-3-role-edited-{language}");

        // Where roles are shown: the application's page, the roles list, the assignment form.
        await page.GotoAsync(applicationUrl);
        var onApplication = page.GetByTestId($"role-{roleKey}");
        await Assertions.Expect(onApplication).ToContainTextAsync(after);
        await Assertions.Expect(onApplication).ToContainTextAsync("expense.approve (amountLimit=30000)");
        await page.GotoAsync("/admin/roles");
        await Assertions.Expect(page.GetByTestId($"role-{roleKey}")).ToContainTextAsync(after);
        Assert.DoesNotContain(before, await page.GetByTestId($"role-{roleKey}").InnerTextAsync(), StringComparison.Ordinal);
        await page.GotoAsync("/admin/assignments/new");
        await Assertions.Expect(page.GetByLabel(t["admin.assignments.role"], new() { Exact = true }).Locator("option", new() { HasText = roleKey })).ToHaveTextAsync($"{after} · {roleKey}");
        await ShotAsync(page, $"oidc-4-role-display-name-in-assignment-form-{language}");
    }

    /// <summary>
    /// Issue 17 §5, one mechanism: rotating the secret, deleting a role, a permission and the OIDC client each open the same
    /// modal confirmation that says what will happen; Escape changes nothing, confirming does it and the notice names it.
    /// </summary>
    [PrerequisiteTheory]
    [InlineData("en")]
    [InlineData("zh-CN")]
    public async Task DestructiveActions_ThroughTheConfirmationDialog_EscapeKeepsAndConfirmingDoesItAndNamesIt(string language)
    {
        var t = ThemeTexts.Of(language);
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var roleKey = $"expense-viewer-{suffix}";
        var roleName = language == "en" ? $"Expense viewer {suffix}" : $"费用查看员 {suffix}";
        await using var admin = await fixture.SignInAsync();
        var page = admin.Page;
        await SwitchLanguageAsync(page, language);
        var applicationUrl = await CreateApplicationAsync(page, t, $"Travel {suffix}");
        await CreatePermissionAsync(page, t, "travel.view", "");
        await CreateRoleAsync(page, t, roleKey, roleName, "travel.view");
        var form = page.GetByTestId("oidc-edit");
        await form.GetByLabel(t["admin.oidc.redirectUris"], new() { Exact = true }).FillAsync($"https://travel-{suffix}.example.com/signin-oidc");
        await form.GetByRole(AriaRole.Button, new() { Name = t["admin.oidc.register"], Exact = true }).ClickAsync();
        var firstSecret = await page.GetByTestId("oidc-secret").InputValueAsync();
        var clientId = await page.GetByTestId("oidc-client-id").InnerTextAsync();
        await page.GotoAsync(applicationUrl);

        // Rotation: the modal dialog says the old secret stops working; Escape leaves everything as it was.
        await page.GetByTestId("oidc-rotate").ClickAsync();
        var rotate = page.GetByTestId("confirm-rotate-secret");
        await Assertions.Expect(rotate).ToBeVisibleAsync(new() { Timeout = Deadline });
        Assert.True(await rotate.EvaluateAsync<bool>("d => d.matches(':modal')"), "With JavaScript the confirmation is a modal dialog.");
        await Assertions.Expect(rotate.GetByTestId("confirm-consequences")).ToContainTextAsync(t["admin.confirm.rotate.oldSecret"]);
        await ShotAsync(page, $"oidc-5-confirm-rotate-secret-{language}");
        await page.Keyboard.PressAsync("Escape");
        await page.WaitForURLAsync(url => !url.Contains("confirm=", StringComparison.Ordinal), new() { Timeout = Deadline });
        await Assertions.Expect(page.GetByTestId("oidc-secret")).ToHaveCountAsync(0);

        // Confirmed: the notice says so and the new secret is shown once.
        await page.GetByTestId("oidc-rotate").ClickAsync();
        await page.GetByTestId("confirm-rotate-secret").GetByTestId("confirm-yes").ClickAsync();
        await Assertions.Expect(page.GetByTestId("form-notice")).ToHaveTextAsync(Format(t["admin.done.secretRotated"], clientId), new() { Timeout = Deadline });
        var secondSecret = await page.GetByTestId("oidc-secret").InputValueAsync();
        Assert.Equal(43, secondSecret.Length);
        Assert.NotEqual(firstSecret, secondSecret);

        // The role, deleted from the application's list through the role's own page, named back on the list.
        await page.GotoAsync(applicationUrl);
        await page.GetByTestId($"role-{roleKey}").GetByRole(AriaRole.Link, new() { Name = $"{t["common.delete"]} {roleName} · {roleKey}", Exact = true }).ClickAsync();
        var deleteRole = page.GetByTestId("confirm-delete-role");
        await Assertions.Expect(deleteRole.GetByTestId("confirm-consequences")).ToContainTextAsync(t["admin.confirm.role.noAssignments"], new() { Timeout = Deadline });
        await deleteRole.GetByTestId("confirm-yes").ClickAsync();
        await Assertions.Expect(page.GetByTestId("form-notice")).ToHaveTextAsync(Format(t["admin.done.roleDeleted"], $"{roleName} · {roleKey}"), new() { Timeout = Deadline });
        Assert.Equal(applicationUrl, page.Url);
        await Assertions.Expect(page.GetByTestId($"role-{roleKey}")).ToHaveCountAsync(0);

        // The permission, no longer in any role, likewise through its own page.
        await page.GetByTestId("permission-travel.view").GetByRole(AriaRole.Link, new() { Name = $"{t["common.delete"]} travel.view", Exact = true }).ClickAsync();
        var deletePermission = page.GetByTestId("confirm-delete-permission");
        await Assertions.Expect(deletePermission.GetByTestId("confirm-consequences")).ToContainTextAsync(t["admin.confirm.permission.noRoles"], new() { Timeout = Deadline });
        await deletePermission.GetByTestId("confirm-yes").ClickAsync();
        await Assertions.Expect(page.GetByTestId("form-notice")).ToHaveTextAsync(Format(t["admin.done.permissionDeleted"], "travel.view"), new() { Timeout = Deadline });
        await Assertions.Expect(page.GetByTestId("permission-travel.view")).ToHaveCountAsync(0);

        // The client itself.
        await page.GetByTestId("oidc-delete").ClickAsync();
        var deleteClient = page.GetByTestId("confirm-delete-oidc");
        await Assertions.Expect(deleteClient.GetByTestId("confirm-consequences")).ToContainTextAsync(t["admin.confirm.oidc.again"], new() { Timeout = Deadline });
        await deleteClient.GetByTestId("confirm-yes").ClickAsync();
        await Assertions.Expect(page.GetByTestId("form-notice")).ToHaveTextAsync(Format(t["admin.done.oidcDeleted"], clientId), new() { Timeout = Deadline });
        await Assertions.Expect(page.GetByTestId("oidc-none")).ToBeVisibleAsync();
        await ShotAsync(page, $"oidc-6-client-deleted-{language}");
    }

    private static string Format(string text, string name) => string.Format(System.Globalization.CultureInfo.InvariantCulture, text, name);

    /// <summary>Switches the console to <paramref name="language"/> with the language switch, as a person does.</summary>
    private static async Task SwitchLanguageAsync(IPage page, string language)
    {
        if (language == "en")
        {
            return;
        }

        var url = page.Url;
        await page.GetByTestId($"language-{language}").ClickAsync();
        await page.WaitForURLAsync(url);
        Assert.Equal(language, await page.Locator("html").GetAttributeAsync("lang"));
    }

    /// <summary>An employee with a password, created in the (English) console; returns their page's address.</summary>
    private static async Task<string> CreateEmployeeAsync(IPage page, string userName)
    {
        await page.GotoAsync("/admin/users");
        await page.GetByTestId("new-user").ClickAsync();
        await page.GetByLabel("User name").FillAsync(userName);
        await page.GetByLabel("Display name").FillAsync($"RP User {userName[^6..]}");
        await page.GetByLabel("Employee number").FillAsync($"E-{userName[^6..]}");
        await page.GetByLabel("Email").FillAsync($"{userName}@example.com");
        await page.GetByLabel("Initial password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/admin/users/[^/]+$"));
        return page.Url;
    }
}
