using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using IdentityHub.Server.Hosting;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Themes;

/// <summary>
/// A server whose <c>Themes:Path</c> is a folder of its own: a copy of <c>default</c> and <c>acme</c>, a theme holding only
/// a logo and an English title (everything else falls back to default).
/// </summary>
public sealed class ThemesFactory : SqliteFactory
{
    public const string AcmeTitle = "Acme sign-in";

    public string Root { get; } = Directory.CreateTempSubdirectory("identityhub-themes-").FullName;

    public static string DefaultFolder => Path.Combine(TestEnvironment.SolutionRoot, "themes", "default");

    public ThemesFactory()
    {
        CopyFolder(DefaultFolder, Path.Combine(Root, "default"));
        WriteTheme(Root, "acme", AcmeTitle);
    }

    /// <summary>A theme with only <c>login/logo.svg</c> and an English <c>login.title</c>.</summary>
    public static void WriteTheme(string root, string name, string title)
    {
        var login = Directory.CreateDirectory(Path.Combine(root, name, "login")).FullName;
        File.WriteAllText(Path.Combine(login, "logo.svg"), $"<svg xmlns=\"http://www.w3.org/2000/svg\"><title>{name}</title></svg>");
        File.WriteAllText(Path.Combine(login, "messages.en.json"), JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["login.title"] = title,
            ["theme.product"] = title + " product",
        }));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(Root, recursive: true);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Themes:Path", Root);
    }

    internal static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}

public sealed class ThemeTests(ThemesFactory factory) : IClassFixture<ThemesFactory>
{
    [Fact]
    public async Task ThemeFile_PresentOrMissingInTheTheme_ComesFromTheThemeElseFromDefault()
    {
        var http = factory.CreateClient();

        var logo = await http.GetStringAsync("/theme/login/logo.svg?theme=acme");
        var css = await http.GetStringAsync("/theme/login/site.css?theme=acme");
        var globalLogo = await http.GetStringAsync("/theme/login/logo.svg");

        Assert.Contains("<title>acme</title>", logo, StringComparison.Ordinal);
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(ThemesFactory.DefaultFolder, "login", "site.css")), css);
        Assert.DoesNotContain("acme", globalLogo, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/theme/login/no-such-file.css?theme=acme")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/theme/..%2F..%2Fappsettings.json")).StatusCode);
    }

    [Fact]
    public void Messages_KeyMissingInTheTheme_ComesFromDefaultKeyByKey()
    {
        var messages = factory.Services.GetRequiredService<ThemeMessages>();

        var english = messages.Messages("acme", ThemeMessages.English);
        var chinese = messages.Messages("acme", ThemeMessages.Chinese);

        var defaultEnglish = ThemeMessages.Load(ThemesFactory.DefaultFolder, ThemeMessages.English);
        var defaultChinese = ThemeMessages.Load(ThemesFactory.DefaultFolder, ThemeMessages.Chinese);
        Assert.Equal(ThemesFactory.AcmeTitle, english["login.title"]);
        Assert.Equal(defaultEnglish["login.username"], english["login.username"]);
        Assert.Equal(defaultChinese["login.title"], chinese["login.title"]);
        Assert.Equal(defaultEnglish.Count, english.Count);
    }

    [Fact]
    public async Task LoginPage_OfTheThemedApplicationsFlow_ShowsItsTitleAndLogo_AnotherApplicationsDoesNot()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var themed = await CreateClientAsync(admin, "acme");
        var plain = await CreateClientAsync(admin, null);
        var http = factory.CreateClient();

        var themedPage = await http.GetStringAsync(LoginFor(themed));
        var plainPage = await http.GetStringAsync(LoginFor(plain));

        Assert.Contains(ThemesFactory.AcmeTitle, themedPage, StringComparison.Ordinal);
        Assert.Contains("/theme/login/logo.svg?theme=acme", themedPage, StringComparison.Ordinal);
        Assert.DoesNotContain(ThemesFactory.AcmeTitle, plainPage, StringComparison.Ordinal);
        Assert.DoesNotContain("theme=acme", plainPage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThemeFolder_AddedWhileTheServerRuns_CanBeChosenWithoutARestart()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var name = "late-" + Guid.NewGuid().ToString("N")[..6];
        var before = await admin.PostAsJsonAsync(AdminApiClient.Applications, new { name = "Before " + name, theme = name });
        Assert.Equal(HttpStatusCode.BadRequest, before.StatusCode);
        Assert.True((await AdminApiClient.ProblemAsync(before)).GetProperty("errors").TryGetProperty("theme", out _));

        ThemesFactory.WriteTheme(factory.Root, name, "Late theme");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        HttpResponseMessage after;
        do
        {
            await Task.Delay(500);
            after = await admin.PostAsJsonAsync(AdminApiClient.Applications, new { name = $"After {name} {Guid.NewGuid():N}", theme = name });
        }
        while (after.StatusCode != HttpStatusCode.Created && DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.Created, after.StatusCode);
    }

    [Theory]
    [InlineData("zh-CN", "en-US,en;q=0.9", "zh-CN")]
    [InlineData("fr zh", "en", "zh-CN")]
    [InlineData("en", "zh-CN", "en")]
    public async Task LoginPage_UiLocalesOfTheAuthorizeRequest_WinsOverAcceptLanguage(string uiLocales, string acceptLanguage, string expected)
    {
        var http = factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, LoginFor("any-client", uiLocales));
        request.Headers.AcceptLanguage.ParseAdd(acceptLanguage);

        var page = await (await http.SendAsync(request)).Content.ReadAsStringAsync();

        Assert.Contains($"<html lang=\"{expected}\">", page, StringComparison.Ordinal);
        var title = ThemeMessages.Load(ThemesFactory.DefaultFolder, expected)["login.title"];
        Assert.Contains($"<h1>{title}</h1>", page, StringComparison.Ordinal);
    }

    private static string LoginFor(string clientId, string? uiLocales = null)
    {
        var authorize = $"/connect/authorize?client_id={Uri.EscapeDataString(clientId)}&response_type=code&scope=openid"
            + (uiLocales is null ? "" : "&ui_locales=" + Uri.EscapeDataString(uiLocales));
        return "/account/login?ReturnUrl=" + Uri.EscapeDataString(authorize);
    }

    private static async Task<string> CreateClientAsync(HttpClient admin, string? theme)
    {
        var created = await admin.PostAsJsonAsync(AdminApiClient.Applications, new { name = "Themed " + Guid.NewGuid().ToString("N")[..8], theme });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var registration = await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{id}/oidc", AdminApiClient.ServiceClient());
        Assert.Equal(HttpStatusCode.OK, registration.StatusCode);
        return (await registration.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("clientId").GetString()!;
    }
}
