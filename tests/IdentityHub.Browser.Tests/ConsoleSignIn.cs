using IdentityHub.Testing;
using Microsoft.Playwright;
using Xunit;

namespace IdentityHub.Browser.Tests;

/// <summary>A browser context of its own with its page; closing it ends only this person's session.</summary>
public sealed record SignedIn(IBrowserContext Context, IPage Page) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => new(Context.CloseAsync());
}

/// <summary>Signing in to the console through the English sign-in page, as a person would.</summary>
public static class ConsoleSignIn
{
    /// <summary>
    /// A new laptop-sized context signed in as <paramref name="userName"/> (the bootstrap administrator by default),
    /// on the console's dashboard (actions wait up to <see cref="HeadlessChromium.Patience"/>). A sign-in that does not reach
    /// the console says where it stopped, not only that it timed out.
    /// </summary>
    public static async Task<SignedIn> SignInAsync(this ServerAndBrowser fixture, string userName = "admin", string password = ServerAndBrowser.AdminPassword)
    {
        ArgumentNullException.ThrowIfNull(fixture);
        var context = await fixture.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = fixture.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            Locale = "en-US",
        });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/account/login");
        await page.GetByLabel("User name").FillAsync(userName);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        try
        {
            // The dashboard's title in the DOM is what proves the sign-in. No navigation event is waited for: on a machine
            // running two suites at once CI runs saw the dashboard's URL and text but neither its load nor its
            // DOMContentLoaded event within 120 s; a locator polls the page as it is.
            await page.GetByTestId("console-title").WaitForAsync();
            if (!new Uri(page.Url).AbsolutePath.EndsWith("/admin", StringComparison.Ordinal))
            {
                Assert.Fail($"Sign-in as {userName} reached a console title at {page.Url}, not the dashboard.");
            }
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Sign-in as {userName} stopped at {page.Url}: {await page.InnerTextAsync("body")}");
        }

        return new SignedIn(context, page);
    }
}
