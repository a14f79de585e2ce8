using System.Net;
using System.Net.Sockets;
using System.Text;
using IdentityHub.Testing;
using Microsoft.Playwright;

namespace IdentityHub.Browser.Tests;

/// <summary>
/// Issue 15 points 3, 4 and 7 in a real browser: the portal shows exactly the applications a person holds rights in and a
/// tile opens its application; signing out another session from the sessions page leaves that browser's cookie useless;
/// changing the password; every page fits a 390 px phone in English and Chinese.
/// </summary>
[Requires(Prerequisite.Browser)]
public sealed class PortalAndAccountTests(ServerAndBrowser fixture) : IClassFixture<ServerAndBrowser>
{
    private const string Password = "Portal-Person-Password-1";

    private static readonly string[] AccountPages =
        ["/", "/account/profile", "/account/password", "/account/sessions", "/account/applications", "/account/security", "/account/passkeys", "/account/activity"];

    [PrerequisiteFact]
    public async Task Portal_ShowsExactlyTheApplicationsWithRights_AndATileOpensItsApplication()
    {
        using var expense = new StandInApplication("Expense stand-in");
        var person = await ArrangePersonAsync(new()
        {
            ["Expense " + Suffix()] = (expense.Address, true),
            ["Travel " + Suffix()] = ("https://travel.example.com/", false),
            ["Archive " + Suffix()] = (null, true),
        });
        await using var signedIn = await SignInAsPersonAsync(person.UserName, "en-US", 1280);
        var page = signedIn.Page;

        var tiles = await page.GetByTestId("portal-tile").Locator(".tile-name").AllInnerTextsAsync();
        Assert.Equal([person.Applications.Single(a => a.Value.Launch == expense.Address).Key], tiles);
        await page.GetByTestId("portal-tile").First.ClickAsync();

        await page.WaitForURLAsync(expense.Address);
        Assert.Contains("Expense stand-in", await page.InnerTextAsync("body"), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Sessions_SignOutTheOtherBrowser_ItsCookieOpensNothing()
    {
        var person = await ArrangePersonAsync([]);
        await using var other = await SignInAsPersonAsync(person.UserName, "en-US", 1280);
        await using var mine = await SignInAsPersonAsync(person.UserName, "en-US", 1280);
        var page = mine.Page;

        await page.GotoAsync("/account/sessions");
        Assert.Equal(2, await page.GetByTestId("session").CountAsync());
        Assert.Equal(1, await page.GetByTestId("this-device").CountAsync());
        await page.Locator("[data-testid=session][data-current=false]").GetByTestId("end-session").ClickAsync();
        await page.GetByTestId("sessions-message").WaitForAsync();
        Assert.Equal(1, await page.GetByTestId("session").CountAsync());

        foreach (var path in new[] { "/account", "/account/sessions", "/" })
        {
            await other.Page.GotoAsync(path);
            Assert.Contains("/account/login", other.Page.Url, StringComparison.Ordinal);
        }

        await page.GotoAsync("/account/sessions");
        Assert.EndsWith("/account/sessions", page.Url, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task ChangePassword_PolicyShownFirst_NewPasswordSignsIn()
    {
        var person = await ArrangePersonAsync([]);
        await using var signedIn = await SignInAsPersonAsync(person.UserName, "en-US", 1280);
        var page = signedIn.Page;
        await page.GotoAsync("/account/password");
        Assert.Equal(["length", "lower", "upper", "digit", "symbol"],
            await page.Locator("[data-testid=password-rules] li").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.rule)"));

        await page.GetByLabel("Current password").FillAsync("Not-The-Password-1");
        await page.GetByLabel("New password", new() { Exact = true }).FillAsync("Another-Password-2");
        await page.GetByLabel("New password again").FillAsync("Another-Password-2");
        await page.GetByTestId("password-save").ClickAsync();
        await page.Locator("[data-error-for=currentPassword]").WaitForAsync();

        await page.GetByLabel("Current password").FillAsync(Password);
        await page.GetByLabel("New password", new() { Exact = true }).FillAsync("Another-Password-2");
        await page.GetByLabel("New password again").FillAsync("Another-Password-2");
        await page.GetByTestId("password-save").ClickAsync();
        await page.GetByTestId("password-message").WaitForAsync();

        await using var again = await SignInAsPersonAsync(person.UserName, "en-US", 1280, "Another-Password-2");
        Assert.Equal(HttpStatusCode.OK, (HttpStatusCode)(await again.Page.GotoAsync("/account/profile"))!.Status);
    }

    [PrerequisiteTheory]
    [InlineData("en-US")]
    [InlineData("zh-CN")]
    public async Task SignInPortalAndAccountPages_At390Pixels_DoNotScrollSideways(string locale)
    {
        var person = await ArrangePersonAsync(new()
        {
            ["Expense Reimbursement and Travel Approval " + Suffix()] = ("https://expense-reimbursement.internal.example.com/start/with/a/long/path", true),
            ["考勤系统 " + Suffix()] = ("https://attendance.example.com/", true),
        });
        await using var signedIn = await SignInAsPersonAsync(person.UserName, locale, 390, signInShot: $"account-signin-{locale}");
        var page = signedIn.Page;

        foreach (var path in AccountPages)
        {
            await page.GotoAsync(path);
            await page.GetByTestId("account-nav").WaitForAsync();
            await ConsoleSteps.AssertNoSidewaysScrollAsync(page, $"account-{(path == "/" ? "portal" : path.Split('/')[^1])}-{locale}");
        }
    }

    private static string Suffix() => Guid.NewGuid().ToString("N")[..6];

    private sealed record Person(string UserName, Dictionary<string, (string? Launch, bool Rights)> Applications);

    /// <summary>A person with a password, and applications (name → launch URL, whether the person gets a role there).</summary>
    private async Task<Person> ArrangePersonAsync(Dictionary<string, (string? Launch, bool Rights)> applications)
    {
        await using var admin = await fixture.SignInAsync();
        var userName = "portal." + Suffix();
        var user = await ConsoleSteps.AdminApiAsync(admin.Page, "POST", "/api/admin/v1/users",
            new { userName, displayName = "Portal Person " + userName[^6..], employeeNumber = "P-" + userName[^6..], initialPassword = Password });
        foreach (var (name, (launch, rights)) in applications)
        {
            var application = await ConsoleSteps.AdminApiAsync(admin.Page, "POST", "/api/admin/v1/applications", new { name, launchUrl = launch });
            if (rights)
            {
                var role = await ConsoleSteps.AdminApiAsync(admin.Page, "POST", "/api/admin/v1/roles",
                    new { applicationId = application.GetProperty("id").GetString(), name = "user-" + Suffix() });
                await ConsoleSteps.AdminApiAsync(admin.Page, "POST", "/api/admin/v1/assignments",
                    new { userId = user.GetProperty("id").GetString(), roleId = role.GetProperty("id").GetString(), reason = "portal browser test" });
            }
        }

        return new Person(userName, applications);
    }

    /// <summary>Signs in through the real page; with <paramref name="signInShot"/>, first checks that page for sideways scrolling.</summary>
    private async Task<SignedIn> SignInAsPersonAsync(string userName, string locale, int width, string password = Password, string? signInShot = null)
    {
        var context = await fixture.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = fixture.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = 844 },
            Locale = locale,
        });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        if (signInShot is not null)
        {
            await page.Locator("#Input_UserName").WaitForAsync();
            await ConsoleSteps.AssertNoSidewaysScrollAsync(page, signInShot);
        }

        await page.Locator("#Input_UserName").FillAsync(userName);
        await page.Locator("#Input_Password").FillAsync(password);
        await page.Locator("button.primary").ClickAsync();
        await page.GetByTestId("portal-greeting").WaitForAsync();
        return new SignedIn(context, page);
    }

    /// <summary>An application's start page on a loopback port: answers every request with its name.</summary>
    private sealed class StandInApplication : IDisposable
    {
        private readonly HttpListener _listener = new();

        public StandInApplication(string name)
        {
            var port = FreePort();
            Address = $"http://127.0.0.1:{port}/start";
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            _ = ServeAsync(Encoding.UTF8.GetBytes($"<!DOCTYPE html><html><body><h1>{name}</h1></body></html>"));
        }

        public string Address { get; }

        public void Dispose() => _listener.Close();

        private async Task ServeAsync(byte[] page)
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                context.Response.ContentType = "text/html; charset=utf-8";
                await context.Response.OutputStream.WriteAsync(page);
                context.Response.Close();
            }
        }

        private static int FreePort()
        {
            using var socket = new TcpListener(IPAddress.Loopback, 0);
            socket.Start();
            return ((IPEndPoint)socket.LocalEndpoint).Port;
        }
    }
}
