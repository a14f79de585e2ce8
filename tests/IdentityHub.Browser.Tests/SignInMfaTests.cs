using System.Text.RegularExpressions;
using IdentityHub.Testing;
using Microsoft.Playwright;

namespace IdentityHub.Browser.Tests;

/// <summary>Issue 16 point 1 in a real browser: the authenticator set up from the QR page, then a sign-in with a code.</summary>
[Requires(Prerequisite.Browser)]
public sealed partial class SignInMfaTests(ServerAndBrowser fixture) : IClassFixture<ServerAndBrowser>
{
    [PrerequisiteFact]
    public async Task SignIn_AfterEnrollingTheAuthenticator_AsksForTheCodeAndOpensTheConsole()
    {
        var options = new BrowserNewContextOptions { BaseURL = fixture.BaseAddress.ToString() };
        await using var first = await fixture.NewContextAsync(options);
        var page = await first.NewPageAsync();
        await SignInWithPasswordAsync(page);
        await page.WaitForURLAsync("**/admin");

        await page.GotoAsync("/account/security");
        Assert.True(await page.GetByTestId("totp-qr").IsVisibleAsync());
        Assert.StartsWith("data:image/png;base64,", await page.GetByTestId("totp-qr").GetAttributeAsync("src"), StringComparison.Ordinal);
        var app = new TestAuthenticator(Spaces().Replace(await page.GetByTestId("totp-key").InnerTextAsync(), "").ToUpperInvariant());
        await page.ScreenshotAsync(new() { Path = Path.Combine(TestEnvironment.ArtifactsDirectory, "mfa-enrol.png"), FullPage = true });
        await page.GetByLabel("Code from your authenticator app").FillAsync(await app.NextCodeAsync());
        await page.GetByTestId("enable-totp").ClickAsync();
        await Assertions.Expect(page.GetByTestId("recovery-codes").Locator("li")).ToHaveCountAsync(10);

        await using var second = await fixture.NewContextAsync(options);
        var again = await second.NewPageAsync();
        await SignInWithPasswordAsync(again);
        await again.WaitForURLAsync("**/account/login/mfa**");
        await again.GetByLabel("Code from your authenticator app").FillAsync(await app.NextCodeAsync());
        await again.ScreenshotAsync(new() { Path = Path.Combine(TestEnvironment.ArtifactsDirectory, "mfa-code.png") });
        await again.GetByRole(AriaRole.Button, new() { Name = "Verify" }).ClickAsync();

        await again.WaitForURLAsync("**/admin");
        Assert.Equal("admin", await again.GetByTestId("signed-in-as").InnerTextAsync());
    }

    private static async Task SignInWithPasswordAsync(IPage page)
    {
        await page.GotoAsync("/admin");
        await page.GetByLabel("User name").FillAsync("admin");
        await page.GetByLabel("Password").FillAsync(ServerAndBrowser.AdminPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    [GeneratedRegex("\\s+")]
    private static partial Regex Spaces();
}
