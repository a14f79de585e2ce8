using IdentityHub.Testing;
using Microsoft.Playwright;
using static IdentityHub.Browser.Tests.ConsoleSteps;

namespace IdentityHub.Browser.Tests;

/// <summary>
/// Issue 17 §5: a new installation's dashboard lists the next steps (first application, its first connected system,
/// people) with links, in English and Chinese. A server of its own with this one test: it must start empty.
/// </summary>
[Requires(Prerequisite.Browser)]
public sealed class EmptyInstallationTests(ServerAndBrowser fixture) : IClassFixture<ServerAndBrowser>
{
    private const float Deadline = 120_000;

    [PrerequisiteFact]
    public async Task Dashboard_EmptyInstallation_ShowsTheNextStepsWithLinksInEnglishAndInChinese()
    {
        var context = await fixture.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = fixture.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            Locale = "en-US",
        });
        try
        {
            var page = await context.NewPageAsync();
            await page.GotoAsync("/account/login");
            await page.GetByLabel("User name").FillAsync("admin");
            await page.GetByLabel("Password").FillAsync(ServerAndBrowser.AdminPassword);
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            // A sign-in that does not reach the console says where it stopped, not only that it timed out.
            try
            {
                // The dashboard's title in the DOM, not a navigation event (see ConsoleSignIn).
                await page.GetByTestId("console-title").WaitForAsync();
            }
            catch (TimeoutException)
            {
                Assert.Fail($"Sign-in stopped at {page.Url}: {await page.InnerTextAsync("body")}");
            }

            var steps = page.GetByTestId("next-steps");
            await Assertions.Expect(steps.GetByRole(AriaRole.Heading)).ToHaveTextAsync("Next steps", new() { Timeout = Deadline });
            await Assertions.Expect(steps.GetByRole(AriaRole.Link, new() { Name = "Create the first application" })).ToHaveAttributeAsync(
                "href", "/admin/applications#create-heading", new() { Timeout = Deadline });
            await Assertions.Expect(steps.GetByRole(AriaRole.Link, new() { Name = "Connect its first system" })).ToHaveAttributeAsync(
                "href", "/admin/provisioning", new() { Timeout = Deadline });
            await Assertions.Expect(steps.GetByRole(AriaRole.Link, new() { Name = "Add people or import a CSV" })).ToHaveAttributeAsync(
                "href", "/admin/users/edit", new() { Timeout = Deadline });
            Assert.Equal("1", await page.GetByTestId("count-users").InnerTextAsync());
            await Assertions.Expect(page.GetByTestId("count-users").GetByRole(AriaRole.Link)).ToHaveAttributeAsync("href", "/admin/users", new() { Timeout = Deadline });
            await ShotAsync(page, "console-ux-6-empty-dashboard-english");

            await page.GetByTestId("language-zh-CN").ClickAsync();
            await page.WaitForURLAsync("**/admin");
            await Assertions.Expect(steps.GetByRole(AriaRole.Heading)).ToHaveTextAsync("下一步", new() { Timeout = Deadline });
            await Assertions.Expect(steps.GetByRole(AriaRole.Link, new() { Name = "创建第一个应用" })).ToBeVisibleAsync(new() { Timeout = Deadline });
            await Assertions.Expect(steps.GetByRole(AriaRole.Link, new() { Name = "连接它的第一个系统" })).ToBeVisibleAsync(new() { Timeout = Deadline });
            await Assertions.Expect(steps.GetByRole(AriaRole.Link, new() { Name = "添加人员或导入 CSV" })).ToBeVisibleAsync(new() { Timeout = Deadline });
            await ShotAsync(page, "console-ux-7-empty-dashboard-chinese");

            // The first step leads to the form that does it.
            await steps.GetByRole(AriaRole.Link, new() { Name = "创建第一个应用" }).ClickAsync();
            await page.WaitForURLAsync("**/admin/applications#create-heading");
            await Assertions.Expect(page.GetByTestId("create-application")).ToBeVisibleAsync(new() { Timeout = Deadline });
        }
        finally
        {
            await context.CloseAsync();
        }
    }
}
