using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using IdentityHub.Server.Hosting;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Server.IntegrationTests.Oidc;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IdentityHub.Server.IntegrationTests.Themes;

/// <summary>
/// A server whose themes folder holds a copy of default, <c>liquid</c> (only a <c>login/login.liquid</c>),
/// <c>broken</c> (a <c>login/login.liquid</c> that does not parse) and the global theme <c>portal</c> (only an
/// <c>account/portal.liquid</c>); the template engine's errors are kept.
/// </summary>
public sealed class LoginTemplateFactory : SqliteFactory
{
    public const string Marker = "LIQUID-SIGN-IN-MARKER";

    /// <summary>A whole sign-in document written with the documented model only.</summary>
    public const string Template = """
        <!DOCTYPE html>
        <html lang="{{ lang }}">
        <head><title>{{ messages["login.title"] }}</title><link rel="stylesheet" href="{{ theme_url }}login/site.css"></head>
        <body>
        <p id="marker">LIQUID-SIGN-IN-MARKER for {{ application }}</p>
        <h1>{{ messages["login.title"] }}</h1>
        {% for error in errors %}<p class="error" data-testid="login-error">{{ error }}</p>{% endfor %}
        <form method="post" action="{{ form.action }}">
        <input name="{{ antiforgery.field_name }}" type="hidden" value="{{ antiforgery.token }}">
        <input type="hidden" name="{{ form.return_url_field }}" value="{{ form.return_url }}">
        <label for="u">{{ messages["login.username"] }}</label><input id="u" name="{{ form.username_field }}" value="{{ form.username }}">
        <label for="p">{{ messages["login.password"] }}</label><input id="p" type="password" name="{{ form.password_field }}">
        <button type="submit">{{ messages["login.submit"] }}</button>
        </form>
        {% if links.forgot_password %}<a href="{{ links.forgot_password }}">{{ messages["reset.forgot.link"] }}</a>{% endif %}
        <form method="post" action="{{ links.passkey.action }}" data-passkey="get" data-options="{{ links.passkey.options_url }}">
        <input name="{{ antiforgery.field_name }}" type="hidden" value="{{ antiforgery.token }}">
        <input type="hidden" name="{{ form.return_url_field }}" value="{{ form.return_url }}">
        <input type="hidden" name="credential" data-credential><button type="submit">{{ messages["login.passkey"] }}</button>
        </form>
        <script src="{{ links.passkey.script }}" defer></script>
        </body>
        </html>
        """;

    public const string PortalMarker = "LIQUID-PORTAL-MARKER";

    /// <summary>The global theme, whose only file is the portal's template.</summary>
    public const string PortalTheme = "portal";

    /// <summary>A whole portal document written with the documented model only.</summary>
    public const string PortalTemplate = """
        <!DOCTYPE html><html lang="{{ lang }}"><link rel="stylesheet" href="{{ theme_url }}login/site.css">
        <title>{{ messages["portal.title"] }}</title><p id="marker">LIQUID-PORTAL-MARKER</p>
        <h1 id="greeting">{{ user.display_name }} ({{ user.user_name }})</h1>
        <ul>{% for app in applications %}<li><a class="app" href="{{ app.launch_url }}">{% if app.icon_url %}<img src="{{ app.icon_url }}" alt="">{% else %}<span class="initials">{{ app.initials }}</span>{% endif %}<span class="name">{{ app.name }}</span></a></li>{% endfor %}</ul>
        <nav><a href="{{ links.profile }}">{{ messages["account.nav.profile"] }}</a> <a href="{{ links.password }}">{{ messages["account.nav.password"] }}</a>
        <a href="{{ links.sessions }}">{{ messages["account.nav.sessions"] }}</a> <a href="{{ links.activity }}">{{ messages["account.nav.activity"] }}</a></nav>
        <form id="signout" method="post" action="{{ links.sign_out }}">
        <input name="{{ antiforgery.field_name }}" type="hidden" value="{{ antiforgery.token }}">
        <button type="submit">{{ messages["login.signout"] }}</button>
        </form>
        """;

    private int _portalVersion;

    public string Root { get; } = Directory.CreateTempSubdirectory("identityhub-login-templates-").FullName;

    public ConcurrentQueue<string> Errors { get; } = new();

    public LoginTemplateFactory()
    {
        foreach (var file in Directory.EnumerateFiles(ThemesFactory.DefaultFolder, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(Root, "default", Path.GetRelativePath(ThemesFactory.DefaultFolder, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        WriteTemplate("liquid", Template);
        WriteTemplate("broken", "<html><body>LIQUID-SIGN-IN-MARKER {% if errors %}never closed</body></html>");
        WritePortalTemplate(PortalTemplate);
    }

    public string WriteTemplate(string theme, string source) => Write(Path.Combine(Root, theme, ThemeTemplates.Login), source);

    /// <summary>Writes the global theme's portal template, dated later than any version before it (the cache compares dates and sizes).</summary>
    public string WritePortalTemplate(string source)
    {
        var file = Write(Path.Combine(Root, PortalTheme, ThemeTemplates.Portal), source);
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddSeconds(Interlocked.Increment(ref _portalVersion)));
        return file;
    }

    private static string Write(string file, string source)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, source);
        return file;
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
        builder.UseSetting("Themes:Name", PortalTheme);
        builder.ConfigureServices(services => services.AddSingleton<ILogger<ThemeTemplates>>(new ErrorLog(Errors)));
    }

    private sealed class ErrorLog(ConcurrentQueue<string> errors) : ILogger<ThemeTemplates>
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error)
            {
                errors.Enqueue(formatter(state, exception));
            }
        }
    }
}

public sealed partial class LoginTemplateTests(LoginTemplateFactory factory) : IClassFixture<LoginTemplateFactory>
{
    [Theory]
    [InlineData("en-US,en;q=0.9", ThemeMessages.English)]
    [InlineData("zh-CN,zh;q=0.9", ThemeMessages.Chinese)]
    public async Task LoginPage_ApplicationThemeHasLoginLiquid_IsTheTemplateInTheReadersLanguage(string acceptLanguage, string language)
    {
        var (clientId, name) = await CreateClientAsync("liquid");
        var http = factory.CreateClient();

        var response = await GetAsync(http, LoginFor(clientId), acceptLanguage);
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/html", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        Assert.Contains($"{LoginTemplateFactory.Marker} for {name}", page, StringComparison.Ordinal);
        Assert.Contains($"<html lang=\"{language}\">", page, StringComparison.Ordinal);
        Assert.Contains($"<h1>{ThemeMessages.Load(ThemesFactory.DefaultFolder, language)["login.title"]}</h1>", page, StringComparison.Ordinal);
        Assert.NotEmpty(BrowserSession.AntiforgeryToken(page));
        Assert.Contains("href=\"/theme/~liquid/login/site.css\"", page, StringComparison.Ordinal);
        Assert.Contains("class=\"topbar\"", await (await GetAsync(http, LoginFor((await CreateClientAsync(null)).ClientId), acceptLanguage)).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoginPage_AnotherApplicationsFlowOrNoFlow_IsTheRazorPage()
    {
        await CreateClientAsync("liquid");
        var (plain, _) = await CreateClientAsync(null);
        var http = factory.CreateClient();

        var plainPage = await http.GetStringAsync(LoginFor(plain));
        var globalPage = await http.GetStringAsync("/account/login");

        Assert.All(new[] { plainPage, globalPage }, page =>
        {
            Assert.DoesNotContain(LoginTemplateFactory.Marker, page, StringComparison.Ordinal);
            Assert.Contains("id=\"Input_UserName\"", page, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task LoginTemplateForm_PostedWithItsAntiforgeryToken_SignsIn_WithoutTheToken_IsRefused()
    {
        var (clientId, _) = await CreateClientAsync("liquid");
        var user = await new OidcDriver(factory).CreateUserAsync();
        var authorize = AuthorizeFor(clientId);
        var browser = factory.CreateBrowserLikeClient();
        var page = await browser.GetStringAsync(LoginFor(clientId));
        Assert.Contains(LoginTemplateFactory.Marker, page, StringComparison.Ordinal);

        var withoutToken = await browser.PostAsync("/account/login", Form(user.UserName!, OidcDriver.Password, authorize, token: null));
        var signedIn = await browser.PostAsync("/account/login", Form(user.UserName!, OidcDriver.Password, authorize, BrowserSession.AntiforgeryToken(page)));

        Assert.Equal(HttpStatusCode.BadRequest, withoutToken.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal(authorize, signedIn.Headers.Location?.OriginalString);
        Assert.Contains(signedIn.Headers.GetValues("Set-Cookie"), cookie => cookie.StartsWith("identityhub.session=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LoginTemplate_FailedSignInWithMarkupInTheUserName_EchoesItEncodedWithTheError()
    {
        var (clientId, _) = await CreateClientAsync("liquid");
        var browser = factory.CreateBrowserLikeClient();
        var page = await browser.GetStringAsync(LoginFor(clientId));
        const string hostile = "<script>alert(1)</script>\"><b>x";

        var response = await browser.PostAsync("/account/login", Form(hostile, "not-the-password", AuthorizeFor(clientId), BrowserSession.AntiforgeryToken(page)));
        var answer = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(LoginTemplateFactory.Marker, answer, StringComparison.Ordinal);
        Assert.Contains($"data-testid=\"login-error\">{ThemeMessages.Load(ThemesFactory.DefaultFolder, ThemeMessages.English)["login.error.invalid"]}</p>", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>alert", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>x", answer, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;b&gt;x", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoginTemplate_WithASyntaxError_RazorPageAnd200AndAnErrorNamingTheFile()
    {
        var (clientId, _) = await CreateClientAsync("broken");
        var http = factory.CreateClient();

        var response = await http.GetAsync(LoginFor(clientId));
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(LoginTemplateFactory.Marker, page, StringComparison.Ordinal);
        Assert.Contains("id=\"Input_UserName\"", page, StringComparison.Ordinal);
        var file = Path.Combine(factory.Root, "broken", "login", "login.liquid");
        Assert.Contains(factory.Errors, error => error.Contains(file, StringComparison.Ordinal));
    }

    [Fact]
    public async Task LoginTemplate_FileChanged_IsReadAgain()
    {
        var theme = "changing-" + Guid.NewGuid().ToString("N")[..6];
        factory.WriteTemplate(theme, "<p>first version</p>");
        var (clientId, _) = await CreateClientAsync(theme, waitForTheme: true);
        var http = factory.CreateClient();
        Assert.Contains("first version", await http.GetStringAsync(LoginFor(clientId)), StringComparison.Ordinal);

        var file = factory.WriteTemplate(theme, "<p>second, longer version for {{ application }}</p>");
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(1));

        Assert.Contains("second, longer version", await http.GetStringAsync(LoginFor(clientId)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Portal_GlobalThemeHasPortalLiquid_IsTheTemplateWithTheApplicationsWithRightsAndTheNameEncoded()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var user = await new OidcDriver(factory).CreateUserAsync(configure: u => u.DisplayName = "<b>x</b>");
        var (held, heldName) = await LaunchedApplicationAsync(admin, "https://expense.example.com/start");
        var (_, otherName) = await LaunchedApplicationAsync(admin, "https://travel.example.com/");
        await GrantAsync(admin, user.Id, held);
        var (browser, _) = await SignedInAsync(user.UserName!);

        var response = await browser.GetAsync("/");
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/html", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        Assert.Contains(LoginTemplateFactory.PortalMarker, page, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"portal-greeting\"", page, StringComparison.Ordinal);
        Assert.Contains($"<h1 id=\"greeting\">&lt;b&gt;x&lt;/b&gt; ({user.UserName})</h1>", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>x", page, StringComparison.Ordinal);
        var tile = Assert.Single(PortalTiles().Matches(page));
        Assert.Equal(("https://expense.example.com/start", heldName), (tile.Groups[1].Value, tile.Groups[2].Value));
        Assert.DoesNotContain(otherName, page, StringComparison.Ordinal);
        foreach (var link in new[] { "/account/profile", "/account/password", "/account/sessions", "/account/activity" })
        {
            Assert.Contains($"<a href=\"{link}\">", page, StringComparison.Ordinal);
        }

        Assert.Contains("<html lang=\"en\">", page, StringComparison.Ordinal);
        Assert.Contains("href=\"/theme/login/site.css\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PortalTemplateSignOutForm_PostedWithItsToken_EndsTheSession_WithoutTheToken_IsRefused()
    {
        var user = await new OidcDriver(factory).CreateUserAsync();
        var (browser, cookie) = await SignedInAsync(user.UserName!);
        var page = await browser.GetStringAsync("/");
        Assert.Contains(LoginTemplateFactory.PortalMarker, page, StringComparison.Ordinal);
        Assert.Contains("<form id=\"signout\" method=\"post\" action=\"/account/logout\">", page, StringComparison.Ordinal);

        var withoutToken = await browser.PostAsync("/account/logout", new FormUrlEncodedContent(new Dictionary<string, string>()));
        Assert.Equal(HttpStatusCode.BadRequest, withoutToken.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/")).StatusCode);
        var signedOut = await browser.PostAsync("/account/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(page),
        }));

        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        // The old cookie, replayed by another client, no longer opens the portal: the session ended on the server.
        var replay = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("Cookie", cookie);
        var replayed = await replay.SendAsync(request);
        Assert.Equal(HttpStatusCode.Redirect, replayed.StatusCode);
        Assert.Equal("/account/login", new Uri(replay.BaseAddress!, replayed.Headers.Location!).AbsolutePath);
    }

    [Fact]
    public async Task PortalTemplate_WithASyntaxError_RazorPortalAnd200AndAnErrorNamingTheFile()
    {
        var user = await new OidcDriver(factory).CreateUserAsync();
        var (browser, _) = await SignedInAsync(user.UserName!);
        var file = factory.WritePortalTemplate("<html><body>LIQUID-PORTAL-MARKER {% for app in applications %}never closed</body></html>");
        try
        {
            var response = await browser.GetAsync("/");
            var page = await response.Content.ReadAsStringAsync();

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.DoesNotContain(LoginTemplateFactory.PortalMarker, page, StringComparison.Ordinal);
            Assert.Contains("data-testid=\"portal-greeting\"", page, StringComparison.Ordinal);
            Assert.Contains(factory.Errors, error => error.Contains(file, StringComparison.Ordinal));
        }
        finally
        {
            factory.WritePortalTemplate(LoginTemplateFactory.PortalTemplate);
        }
    }

    private static async Task<HttpResponseMessage> GetAsync(HttpClient http, string path, string acceptLanguage)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.AcceptLanguage.ParseAdd(acceptLanguage);
        return await http.SendAsync(request);
    }

    private static FormUrlEncodedContent Form(string userName, string password, string returnUrl, string? token)
    {
        var fields = new Dictionary<string, string> { ["Input.UserName"] = userName, ["Input.Password"] = password, ["ReturnUrl"] = returnUrl };
        if (token is not null)
        {
            fields["__RequestVerificationToken"] = token;
        }

        return new FormUrlEncodedContent(fields);
    }

    private static string AuthorizeFor(string clientId) => $"/connect/authorize?client_id={Uri.EscapeDataString(clientId)}&response_type=code&scope=openid";

    private static string LoginFor(string clientId) => "/account/login?ReturnUrl=" + Uri.EscapeDataString(AuthorizeFor(clientId));

    /// <summary>An application with an OIDC client and <paramref name="theme"/>; a theme written just now may take a rescan to be seen.</summary>
    private async Task<(string ClientId, string Name)> CreateClientAsync(string? theme, bool waitForTheme = false)
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var name = "Templated " + Guid.NewGuid().ToString("N")[..8];
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var created = await admin.PostAsJsonAsync(AdminApiClient.Applications, new { name, theme });
        while (waitForTheme && created.StatusCode == HttpStatusCode.BadRequest && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
            created = await admin.PostAsJsonAsync(AdminApiClient.Applications, new { name, theme });
        }

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var registration = await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{id}/oidc", AdminApiClient.ServiceClient());
        Assert.Equal(HttpStatusCode.OK, registration.StatusCode);
        return ((await registration.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("clientId").GetString()!, name);
    }

    private static async Task<(Guid Id, string Name)> LaunchedApplicationAsync(HttpClient admin, string launchUrl)
    {
        var name = "Tile " + Guid.NewGuid().ToString("N")[..8];
        var created = await AdminCallers.PostAsync(admin, AdminApiClient.Applications, new { name, launchUrl });
        return (created.GetProperty("id").GetGuid(), name);
    }

    /// <summary>A role of the application granted to the user: rights in it, so its tile shows.</summary>
    private static async Task GrantAsync(HttpClient admin, string userId, Guid application)
    {
        var role = await AdminCallers.PostAsync(admin, AdminCallers.Roles, new { applicationId = application, name = "user-" + Guid.NewGuid().ToString("N")[..8], delegable = false });
        await AdminCallers.PostAsync(admin, AdminCallers.Assignments, new { userId, roleId = role.GetProperty("id").GetGuid(), reason = "portal template test" });
    }

    private async Task<(HttpClient Browser, string Cookie)> SignedInAsync(string userName)
    {
        var browser = factory.CreateBrowserLikeClient();
        var signedIn = await BrowserSession.SignInAsync(browser, userName, OidcDriver.Password);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        return (browser, signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("identityhub.session=", StringComparison.Ordinal)).Split(';')[0]);
    }

    [GeneratedRegex("<a class=\"app\" href=\"([^\"]*)\"><span class=\"initials\">[^<]*</span><span class=\"name\">([^<]*)</span></a>")]
    private static partial Regex PortalTiles();
}
