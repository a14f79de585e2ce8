using IdentityHub.Testing;
using Microsoft.Playwright;

namespace IdentityHub.Browser.Tests;

[Requires(Prerequisite.Browser)]
public sealed class SignInTests(ServerAndBrowser fixture) : IClassFixture<ServerAndBrowser>
{
    [PrerequisiteFact]
    public async Task SignIn_SeededAdminThroughTheRealPage_SeesTheConsoleHome()
    {
        await using var context = await fixture.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.BaseAddress.ToString() });
        var page = await context.NewPageAsync();

        await page.GotoAsync("/");
        Assert.Contains("/account/login", page.Url, StringComparison.Ordinal);
        await page.GetByLabel("User name").FillAsync("admin");
        await page.GetByLabel("Password").FillAsync(ServerAndBrowser.AdminPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await page.WaitForURLAsync("**/admin");
        Assert.Equal("Administration console", await page.GetByTestId("console-title").InnerTextAsync());
        Assert.Equal("admin", await page.GetByTestId("signed-in-as").InnerTextAsync());
        Assert.Equal("1", await page.GetByTestId("count-users").InnerTextAsync());
        await page.ScreenshotAsync(new() { Path = Path.Combine(TestEnvironment.ArtifactsDirectory, "console-home.png"), FullPage = true });
    }

    [PrerequisiteFact]
    public async Task SignInAndConsolePages_UnderTheContentSecurityPolicy_ReportNoViolation()
    {
        await using var context = await fixture.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.BaseAddress.ToString() });
        // Each page records its violations; the console catches those of pages already left.
        await context.AddInitScriptAsync("window.__csp=[];document.addEventListener('securitypolicyviolation',e=>window.__csp.push(e.violatedDirective+' '+e.blockedURI));");
        var page = await context.NewPageAsync();
        var reported = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                reported.Add(message.Text);
            }
        };

        await page.GotoAsync("/account/login");
        var violations = await page.EvaluateAsync<string[]>("window.__csp");
        await page.GetByLabel("User name").FillAsync("admin");
        await page.GetByLabel("Password").FillAsync(ServerAndBrowser.AdminPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync("**/admin");
        violations = [.. violations, .. await page.EvaluateAsync<string[]>("window.__csp")];
        foreach (var path in new[] { "/admin/users", "/admin/departments", "/api/docs" })
        {
            await page.GotoAsync(path);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            violations = [.. violations, .. (await page.EvaluateAsync<string[]>("window.__csp")).Select(v => path + ": " + v)];
        }

        Assert.True(violations.Length == 0 && reported.Count == 0, string.Join("\n", violations.Concat(reported)));
    }

    [PrerequisiteFact]
    public async Task SignIn_WrongPasswordThroughTheRealPage_ShowsTheErrorAndStaysOnTheForm()
    {
        await using var context = await fixture.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.BaseAddress.ToString() });
        var page = await context.NewPageAsync();

        await page.GotoAsync("/account/login");
        await page.GetByLabel("User name").FillAsync("admin");
        await page.GetByLabel("Password").FillAsync("not-the-password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        Assert.Equal("The user name or password is incorrect.", await page.GetByTestId("login-error").InnerTextAsync());
        Assert.Contains("/account/login", page.Url, StringComparison.Ordinal);
        await page.ScreenshotAsync(new() { Path = Path.Combine(TestEnvironment.ArtifactsDirectory, "login-error.png") });
    }
}
