using System.Text.RegularExpressions;
using IdentityHub.Testing;
using Microsoft.Playwright;
using static IdentityHub.Browser.Tests.ConsoleSteps;

namespace IdentityHub.Browser.Tests;

/// <summary>
/// Issue 14 §5 through the real console in Debian's Chromium: a SCIM source created with a department subtree chosen in the
/// department picker shows its bearer token and the SCIM base URL once (reloading the page shows it no more), is listed with
/// its health, and the sources pages never scroll sideways on a 390 px phone.
/// </summary>
[Requires(Prerequisite.Browser)]
public sealed class SourceConsoleTests(ServerAndBrowser fixture) : IClassFixture<ServerAndBrowser>
{
    [PrerequisiteFact]
    public async Task ScimSource_CreatedWithASubtree_ShowsItsTokenOnceIsListedAndFitsA390PixelPhone()
    {
        var t = ThemeTexts.Of("en");
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var code = $"OA-{suffix}";
        var department = $"Operations {suffix}";
        var name = $"OA push {suffix}";
        await using var admin = await fixture.SignInAsync();
        var page = admin.Page;
        await page.GotoAsync("/admin/departments");
        var departments = page.GetByTestId("create-department");
        await departments.Locator("#dept-code").FillAsync(code);
        await departments.Locator("#dept-name").FillAsync(department);
        await departments.GetByRole(AriaRole.Button, new() { Name = t["admin.departments.create"] }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("department-tree")).ToContainTextAsync(department);

        // From the menu: a new SCIM source writing into the department's subtree.
        await page.GetByTestId("nav-Sources").ClickAsync();
        await page.GetByTestId("new-source").ClickAsync();
        var form = page.GetByTestId("source-create");
        await form.GetByTestId("kind-scim").CheckAsync();
        await form.GetByLabel(t["admin.sources.name"], new() { Exact = true }).FillAsync(name);
        await ConsolePicker.PickAsync(form.Locator("#new-source-subtree-0"), code, $"{department} · {code}");
        await form.GetByRole(AriaRole.Button, new() { Name = t["admin.sources.create"], Exact = true }).ClickAsync();

        await Assertions.Expect(page.GetByTestId("source-token-issued")).ToContainTextAsync(t["admin.sources.tokenIssuedHint"]);
        await Assertions.Expect(page.GetByTestId("form-notice")).ToContainTextAsync(name);
        var token = await page.GetByTestId("source-token").InputValueAsync();
        Assert.StartsWith("ihsrc_", token, StringComparison.Ordinal);
        Assert.EndsWith("/scim/v2", await page.GetByTestId("source-scim-url").InputValueAsync(), StringComparison.Ordinal);
        await ShotAsync(page, "sources-1-scim-token-shown-once-en");

        // Loading the address again shows the empty form: the token is gone for good.
        await page.GotoAsync(page.Url);
        await Assertions.Expect(page.GetByTestId("source-create")).ToBeVisibleAsync();
        Assert.DoesNotContain(token, await page.ContentAsync(), StringComparison.Ordinal);

        await page.GotoAsync("/admin/sources");
        var row = page.GetByTestId("source-row").Filter(new() { HasText = name });
        await Assertions.Expect(row.GetByTestId("health")).ToHaveAttributeAsync("data-health", "never-run");
        await row.GetByTestId("source-link").ClickAsync();
        await page.WaitForURLAsync(new Regex("/admin/sources/[0-9a-f-]{36}$"));
        var sourceUrl = new Uri(page.Url).AbsolutePath;
        await Assertions.Expect(page.GetByTestId("source-subtree-list")).ToContainTextAsync($"{department} · {code}");
        await Assertions.Expect(page.GetByTestId("token-hint")).ToContainTextAsync(token[..10]);
        Assert.DoesNotContain(token, await page.ContentAsync(), StringComparison.Ordinal);
        await ShotAsync(page, "sources-2-source-page-en");

        await page.SetViewportSizeAsync(390, 844);
        var failures = new List<string>();
        foreach (var path in new[] { "/admin/sources", sourceUrl, "/admin/sources/new", $"{sourceUrl}/conflicts", $"{sourceUrl}/report" })
        {
            await page.GotoAsync(path);
            var width = await page.EvaluateAsync<int>("document.documentElement.scrollWidth");
            if (width > 390)
            {
                failures.Add($"{path}: {width} px wide");
            }
        }

        await page.GotoAsync("/admin/sources");
        await ShotAsync(page, "sources-3-list-390");
        await page.GotoAsync(sourceUrl);
        // Each fact's value stays in sight on the phone (under its label), not pushed beyond the card's edge.
        var subtrees = await page.GetByTestId("source-subtree-list").BoundingBoxAsync();
        Assert.True(subtrees is { } box && box.X + box.Width <= 390, $"The subtrees reach {subtrees?.X + subtrees?.Width} px on a 390 px phone.");
        await ShotAsync(page, "sources-4-source-page-390");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }
}
