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
        await page.WaitForURLAsync("**/admin", Committed);

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
        await again.WaitForURLAsync("**/account/login/mfa**", Committed);
        await again.GetByLabel("Code from your authenticator app").FillAsync(await app.NextCodeAsync());
        await again.ScreenshotAsync(new() { Path = Path.Combine(TestEnvironment.ArtifactsDirectory, "mfa-code.png") });
        await again.GetByRole(AriaRole.Button, new() { Name = "Verify" }).ClickAsync();

        await again.WaitForURLAsync("**/admin", Committed);
        await Assertions.Expect(again.GetByTestId("signed-in-as")).ToHaveTextAsync("admin");
    }

    /// <summary>
    /// The new address is committed; what the test reads next is found by locators, which wait for it. The page's load
    /// event proves nothing more, and CI once saw a code page whose address matched wait 120 s for it (network idle).
    /// </summary>
    private static readonly PageWaitForURLOptions Committed = new() { WaitUntil = WaitUntilState.Commit };

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
