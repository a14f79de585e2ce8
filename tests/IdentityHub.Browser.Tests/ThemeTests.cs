using System.Text.Json;
using IdentityHub.Testing;
using Microsoft.Playwright;

namespace IdentityHub.Browser.Tests;

/// <summary>The server of <see cref="ThemeTests"/>: its <c>Themes:Path</c> is a folder of its own holding a copy of default.</summary>
public sealed class ThemedServerAndBrowser : ServerAndBrowser
{
    public string ThemesRoot => Path.Combine(WorkDirectory, "themes");

    protected override void Configure(Dictionary<string, string> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var from = Path.Combine(TestEnvironment.SolutionRoot, "themes", "default");
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(ThemesRoot, "default", Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        settings["Themes:Path"] = ThemesRoot;
        // The lockout, not the per-address failure limit, is what answers the sixth attempt of the Chinese sign-in test.
        settings["RateLimits:SignInFailuresPerAccountAndIp:PermitLimit"] = "1000";
    }
}

[Requires(Prerequisite.Browser)]
public sealed class ThemeTests(ThemedServerAndBrowser fixture) : IClassFixture<ThemedServerAndBrowser>
{
    private const string Password = "Theme-Employee-Password-1";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [PrerequisiteFact]
    public async Task ThemeAddedWhileRunning_SetOnOneApplication_BrandsOnlyThatApplicationsSignInPage()
    {
        var t = ThemeTexts.Of("en");
        var login = ThemeTexts.Of("en", "login");
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var theme = $"brand-{suffix}";
        var title = $"Brand {suffix} sign-in";
        await using var admin = await fixture.SignInAsync();
        var page = admin.Page;
        var themedUrl = await ConsoleSteps.CreateApplicationAsync(page, t, $"Themed {suffix}");
        var (themedClient, _) = await ConsoleSteps.RegisterRelyingPartyClientAsync(page, t, ServerProcess.FreePort());
        await ConsoleSteps.CreateApplicationAsync(page, t, $"Plain {suffix}");
        var (plainClient, _) = await ConsoleSteps.RegisterRelyingPartyClientAsync(page, t, ServerProcess.FreePort());

        // The theme arrives while the server runs: a logo and two texts, everything else from default.
        var folder = Directory.CreateDirectory(Path.Combine(fixture.ThemesRoot, theme, "login")).FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "logo.svg"),
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\" width=\"40\" height=\"40\"><rect width=\"10\" height=\"10\" fill=\"#c0392b\"/></svg>");
        await File.WriteAllTextAsync(Path.Combine(folder, "messages.en.json"),
            JsonSerializer.Serialize(new Dictionary<string, string> { ["login.title"] = title, ["theme.product"] = $"Brand {suffix}" }));
        await page.GotoAsync(themedUrl);
        var select = page.GetByLabel(t["admin.applications.theme"], new() { Exact = true });
        var deadline = DateTime.UtcNow + Deadline;
        while (await select.Locator($"option[value='{theme}']").CountAsync() == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
            await page.ReloadAsync();
        }

        await select.SelectOptionAsync(theme);
        await page.GetByTestId("edit-application").GetByRole(AriaRole.Button, new() { Name = t["common.save"], Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("form-notice")).ToBeVisibleAsync(new() { Timeout = (float)Deadline.TotalMilliseconds });
        Assert.Equal(theme, await page.GetByLabel(t["admin.applications.theme"], new() { Exact = true }).InputValueAsync());

        await using var visitor = await fixture.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.BaseAddress.ToString(), Locale = "en-US" });
        var signIn = await visitor.NewPageAsync();
        await signIn.GotoAsync(SignInPageOf(themedClient));
        await Assertions.Expect(signIn.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(title);
        await Assertions.Expect(signIn.GetByTestId("product")).ToHaveTextAsync($"Brand {suffix}");
        var logo = signIn.GetByTestId("theme-logo");
        Assert.Contains($"theme={theme}", await logo.GetAttributeAsync("src"), StringComparison.Ordinal);
        Assert.True(await logo.EvaluateAsync<bool>("img => img.complete && img.naturalWidth > 0"), "The theme's logo did not load.");
        Assert.Equal(login["login.username"], (await signIn.Locator("label[for='Input_UserName']").InnerTextAsync()).Trim());
        await ConsoleSteps.ShotAsync(signIn, "theme-1-themed-application");

        await signIn.GotoAsync(SignInPageOf(plainClient));
        await Assertions.Expect(signIn.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(login["login.title"]);
        await Assertions.Expect(signIn.GetByTestId("product")).ToHaveTextAsync(login["theme.product"]);
        Assert.DoesNotContain(theme, await signIn.ContentAsync(), StringComparison.Ordinal);
        await ConsoleSteps.ShotAsync(signIn, "theme-2-other-application");
    }

    [PrerequisiteFact]
    public async Task SignInErrors_ChineseBrowser_WrongPasswordAndLockoutInChineseWithHtmlLang()
    {
        var zh = ThemeTexts.Of("zh-CN", "login");
        var en = ThemeTexts.Of("en", "login");
        var userName = $"theme.zh.{Guid.NewGuid().ToString("N")[..6]}";
        await using (var admin = await fixture.SignInAsync())
        {
            await CreateEmployeeAsync(admin.Page, userName);
        }

        await using var context = await fixture.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.BaseAddress.ToString(), Locale = "zh-CN" });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/account/login");
        Assert.Equal("zh-CN", await page.Locator("html").GetAttributeAsync("lang"));
        var shown = new List<string>();
        // Enough wrong passwords to lock the account, then the right one: refused while locked, in Chinese each time.
        for (var attempt = 0; attempt < 6; attempt++)
        {
            shown.Add(await TryAsync(page, userName, attempt < 5 ? "not-the-password" : Password, zh));
        }

        await ConsoleSteps.ShotAsync(page, "theme-3-zh-sign-in-error");
        Assert.Equal("zh-CN", await page.Locator("html").GetAttributeAsync("lang"));
        Assert.All(shown, text => Assert.NotEqual(en["login.error.invalid"], text));
        Assert.All(shown, text => Assert.True(
            text == zh["login.error.invalid"] || System.Text.RegularExpressions.Regex.IsMatch(text, "^" + System.Text.RegularExpressions.Regex.Escape(zh["login.error.throttled"]).Replace(@"\{0}", @"\d+", StringComparison.Ordinal) + "$"),
            $"Not a Chinese sign-in error: {text}"));
        Assert.Equal(zh["login.error.invalid"], shown[^1]);
        Assert.Contains("/account/login", page.Url, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task SignInPage_UiLocalesZhCn_WinsOverAnEnglishBrowser()
    {
        var zh = ThemeTexts.Of("zh-CN", "login");
        await using var context = await fixture.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.BaseAddress.ToString(), Locale = "en-US" });
        var page = await context.NewPageAsync();

        await page.GotoAsync(SignInPageOf("any-client", "zh-CN en"));

        Assert.Equal("zh-CN", await page.Locator("html").GetAttributeAsync("lang"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(zh["login.title"]);
        await page.GotoAsync("/account/login");
        Assert.Equal("en", await page.Locator("html").GetAttributeAsync("lang"));
    }

    [PrerequisiteFact]
    public async Task LoginLiquid_InTheApplicationsTheme_IsItsSignInPage_AndAPersonSignsInThroughIt()
    {
        var t = ThemeTexts.Of("en");
        var login = ThemeTexts.Of("en", "login");
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var theme = $"liquid-{suffix}";
        var userName = $"theme.liquid.{suffix}";
        var folder = Directory.CreateDirectory(Path.Combine(fixture.ThemesRoot, theme, "login")).FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "login.liquid"), """
            <!DOCTYPE html>
            <html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ messages["login.title"] }}</title>
            <link rel="stylesheet" href="{{ theme_url }}login/site.css"></head>
            <body><p data-testid="liquid-marker">Liquid sign-in for {{ application }}</p>
            <h1>{{ messages["login.title"] }}</h1>
            {% for error in errors %}<p data-testid="login-error">{{ error }}</p>{% endfor %}
            <form method="post" action="{{ form.action }}">
            <input name="{{ antiforgery.field_name }}" type="hidden" value="{{ antiforgery.token }}">
            <input type="hidden" name="{{ form.return_url_field }}" value="{{ form.return_url }}">
            <label for="u">{{ messages["login.username"] }}</label><input id="u" name="{{ form.username_field }}" value="{{ form.username }}">
            <label for="p">{{ messages["login.password"] }}</label><input id="p" type="password" name="{{ form.password_field }}">
            <button type="submit">{{ messages["login.submit"] }}</button></form></body></html>
            """);
        await using (var admin = await fixture.SignInAsync())
        {
            var page = admin.Page;
            await CreateEmployeeAsync(page, userName);
            var themedUrl = await ConsoleSteps.CreateApplicationAsync(page, t, $"Liquid {suffix}");
            var (themedClient, _) = await ConsoleSteps.RegisterRelyingPartyClientAsync(page, t, ServerProcess.FreePort());
            await page.GotoAsync(themedUrl);
            var select = page.GetByLabel(t["admin.applications.theme"], new() { Exact = true });
            var deadline = DateTime.UtcNow + Deadline;
            while (await select.Locator($"option[value='{theme}']").CountAsync() == 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
                await page.ReloadAsync();
            }

            await select.SelectOptionAsync(theme);
            await page.GetByTestId("edit-application").GetByRole(AriaRole.Button, new() { Name = t["common.save"], Exact = true }).ClickAsync();
            await Assertions.Expect(page.GetByTestId("form-notice")).ToBeVisibleAsync(new() { Timeout = (float)Deadline.TotalMilliseconds });

            await using var visitor = await fixture.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.BaseAddress.ToString(), Locale = "en-US" });
            var signIn = await visitor.NewPageAsync();
            await signIn.GotoAsync(SignInPageOf(themedClient));
            await Assertions.Expect(signIn.GetByTestId("liquid-marker")).ToHaveTextAsync($"Liquid sign-in for Liquid {suffix}");
            await Assertions.Expect(signIn.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(login["login.title"]);
            await ConsoleSteps.ShotAsync(signIn, "theme-4-liquid-sign-in");
            await signIn.GetByLabel(login["login.username"], new() { Exact = true }).FillAsync(userName);
            await signIn.GetByLabel(login["login.password"], new() { Exact = true }).FillAsync(Password);
            await signIn.GetByRole(AriaRole.Button, new() { Name = login["login.submit"], Exact = true }).ClickAsync();
            await signIn.WaitForURLAsync(url => !url.Contains("/account/login", StringComparison.Ordinal), new() { Timeout = (float)Deadline.TotalMilliseconds });

            await signIn.GotoAsync("/account/applications");
            await Assertions.Expect(signIn.GetByTestId("signed-in-as")).ToHaveTextAsync(userName);
        }
    }

    /// <summary>The sign-in page as an authorize request of <paramref name="clientId"/> sends the browser to it.</summary>
    private static string SignInPageOf(string clientId, string? uiLocales = null) =>
        "/account/login?ReturnUrl=" + Uri.EscapeDataString(
            $"/connect/authorize?client_id={Uri.EscapeDataString(clientId)}&response_type=code&scope=openid"
            + (uiLocales is null ? "" : "&ui_locales=" + Uri.EscapeDataString(uiLocales)));

    private static async Task<string> TryAsync(IPage page, string userName, string password, ThemeTexts zh)
    {
        await page.GetByLabel(zh["login.username"], new() { Exact = true }).FillAsync(userName);
        await page.GetByLabel(zh["login.password"], new() { Exact = true }).FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = zh["login.submit"], Exact = true }).ClickAsync();
        var error = page.GetByTestId("login-error");
        await error.WaitForAsync();
        return (await error.InnerTextAsync()).Trim();
    }

    private static async Task CreateEmployeeAsync(IPage page, string userName)
    {
        await page.GotoAsync("/admin/users");
        await page.GetByTestId("new-user").ClickAsync();
        await page.GetByLabel("User name").FillAsync(userName);
        await page.GetByLabel("Display name").FillAsync($"Theme user {userName[^6..]}");
        await page.GetByLabel("Employee number").FillAsync($"T-{userName[^6..]}");
        await page.GetByLabel("Email").FillAsync($"{userName}@example.com");
        await page.GetByLabel("Initial password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/admin/users/[^/]+$"));
    }
}
