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
