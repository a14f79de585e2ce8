using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Sessions;
using IdentityHub.Data.Directory;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Server.IntegrationTests.Oidc;
using IdentityHub.Server.IntegrationTests.Saml;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.IntegrationTests.Account;

/// <summary>
/// Issue 15 points 3 and 4 on the server: the portal lists exactly the applications a person holds rights in that have a
/// launch address; launch addresses are checked; the account pages refuse what the person may not do and end sessions
/// on the server.
/// </summary>
public abstract partial class PortalAndAccountTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly OidcDriver _driver = new(factory);

    [PrerequisiteFact]
    public async Task Portal_ShowsExactlyTheApplicationsWithRightsAndALaunchAddress()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var user = await _driver.CreateUserAsync();
        var launched = await ApplicationAsync(admin, launchUrl: "https://expense.example.com/start");
        var noRights = await ApplicationAsync(admin, launchUrl: "https://travel.example.com/");
        var noAddress = await ApplicationAsync(admin, launchUrl: null);
        var oidc = await ApplicationAsync(admin, launchUrl: null);
        await RegisterClientAsync(admin, oidc, initiateLoginUri: "https://oa.example.com/login");
        var samlAllowed = await ApplicationAsync(admin, launchUrl: null);
        await RegisterSpAsync(admin, samlAllowed, allowIdpInitiated: true);
        var samlRefused = await ApplicationAsync(admin, launchUrl: null);
        await RegisterSpAsync(admin, samlRefused, allowIdpInitiated: false);
        foreach (var application in new[] { launched, noAddress, oidc, samlAllowed, samlRefused })
        {
            await GrantAsync(admin, user, application);
        }

        var browser = await SignedInAsync(user);
        var portal = await browser.GetStringAsync("/");

        var tiles = TileLinks(portal);
        Assert.Equal(new[] { launched, oidc, samlAllowed }.Order(), tiles.Keys.Order());
        Assert.Equal("https://expense.example.com/start", tiles[launched]);
        Assert.Equal("https://oa.example.com/login", tiles[oidc]);
        Assert.Equal($"/saml/idp-initiated?sp={samlAllowed}", tiles[samlAllowed]);
        Assert.DoesNotContain(noRights, tiles.Keys);
        Assert.Contains($"Welcome, {user.DisplayName}", portal, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Portal_SignedOutVisitor_GoesToSignInAndComesBack()
    {
        var user = await _driver.CreateUserAsync();
        var browser = factory.CreateBrowserLikeClient();

        var root = await browser.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
        Assert.StartsWith("/account/login?ReturnUrl=%2F", root.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        var signIn = await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password, returnUrl: "/");

        Assert.Equal("/", signIn.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/")).StatusCode);
    }

    [PrerequisiteTheory]
    [InlineData("launchUrl", "ftp://expense.example.com/")]
    [InlineData("launchUrl", "javascript:alert(1)")]
    [InlineData("launchUrl", "/start")]
    [InlineData("launchUrl", "expense.example.com")]
    [InlineData("initiateLoginUri", "javascript:alert(1)")]
    [InlineData("initiateLoginUri", "/login")]
    public async Task LaunchAddress_NotAnAbsoluteWebAddress_Is400OnItsField(string field, string value)
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var application = await ApplicationAsync(admin, launchUrl: null);

        var response = field == "launchUrl"
            ? await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{application}", new { name = "Launch " + Guid.NewGuid().ToString("N")[..8], launchUrl = value })
            : await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{application}/oidc", Client(value));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await AdminApiClient.ProblemAsync(response);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    /// <summary>These servers run with Oidc:RequireHttps=false (no TLS in tests): a plain http launch URL is then allowed anywhere.</summary>
    [PrerequisiteFact]
    public async Task LaunchUrl_PlainHttpWhenTheServerRunsWithoutTls_IsAccepted()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);

        var response = await admin.PostAsJsonAsync(AdminApiClient.Applications, new { name = "Lab " + Guid.NewGuid().ToString("N")[..8], launchUrl = "http://lab.example.internal/" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [PrerequisiteTheory]
    [InlineData("Input.Email", "someone.else@example.com")]
    [InlineData("Input.DisplayName", "")]
    public async Task Profile_RefusedEdit_Is400AndChangesNothing(string field, string value)
    {
        var user = await _driver.CreateUserAsync(configure: u => u.Email = "own@example.com");
        var browser = await SignedInAsync(user);

        var response = await PostFormAsync(browser, "/account/profile", new() { [field] = value, ["Input.PhoneNumber"] = "+86 10 1234 5678" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var stored = await UserAsync(user.Id);
        Assert.Equal("own@example.com", stored.Email);
        Assert.Equal(user.DisplayName, stored.DisplayName);
        Assert.Null(stored.PhoneNumber);
    }

    [PrerequisiteFact]
    public async Task Profile_EditableFields_AreSavedAndAuditedAsAUserChange()
    {
        var user = await _driver.CreateUserAsync();
        var browser = await SignedInAsync(user);

        var response = await PostFormAsync(browser, "/account/profile", new() { ["Input.DisplayName"] = "Li Lei", ["Input.PhoneNumber"] = "+86 10 1234 5678" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stored = await UserAsync(user.Id);
        Assert.Equal(("Li Lei", "+86 10 1234 5678"), (stored.DisplayName, stored.PhoneNumber));
        var audited = await AdminCallers.InDatabaseAsync(factory, db => db.AuditEvents.AsNoTracking()
            .Where(e => e.Type == "user.updated" && e.TargetId == user.Id).Select(e => e.ActorId).ToListAsync());
        Assert.Equal([user.Id], audited);
    }

    [PrerequisiteFact]
    public async Task ChangePassword_WrongCurrentPassword_ShowsTheErrorAndChangesNothing()
    {
        var user = await _driver.CreateUserAsync();
        var browser = await SignedInAsync(user);
        var hash = (await UserAsync(user.Id)).PasswordHash;

        var response = await PostFormAsync(browser, "/account/password",
            new() { ["CurrentPassword"] = "Not-The-Password-1", ["NewPassword"] = "Brand-New-Password-2", ["ConfirmPassword"] = "Brand-New-Password-2" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("data-error-for=\"currentPassword\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(hash, (await UserAsync(user.Id)).PasswordHash);
        Assert.Equal(HttpStatusCode.Redirect, (await BrowserSession.SignInAsync(factory.CreateBrowserLikeClient(), user.UserName!, OidcDriver.Password)).StatusCode);
    }

    [PrerequisiteFact]
    public async Task ChangePassword_NewPasswordBreakingRules_NamesEachRuleOnce()
    {
        var user = await _driver.CreateUserAsync();
        var browser = await SignedInAsync(user);

        var response = await PostFormAsync(browser, "/account/password",
            new() { ["CurrentPassword"] = OidcDriver.Password, ["NewPassword"] = "short", ["ConfirmPassword"] = "short" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Equal(["length", "upper", "digit", "symbol"], BrokenRules().Matches(page).Select(m => m.Groups[1].Value));
        Assert.True(await PasswordStillWorksAsync(user));
    }

    [PrerequisiteFact]
    public async Task ChangePassword_Right_EndsTheOtherSessionsAndKeepsThisOne()
    {
        var user = await _driver.CreateUserAsync();
        var (other, otherCookie) = await SignedInWithCookieAsync(user);
        var browser = await SignedInAsync(user);

        var response = await PostFormAsync(browser, "/account/password",
            new() { ["CurrentPassword"] = OidcDriver.Password, ["NewPassword"] = "Brand-New-Password-2", ["ConfirmPassword"] = "Brand-New-Password-2" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/account/sessions")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await ReplayAsync("/account/sessions", otherCookie)).StatusCode);
        var sessions = await SessionsOfAsync(user.Id);
        Assert.Single(sessions, s => s.EndedAt is null);
        Assert.Single(sessions, s => s.EndReason == UserSessionEndReasons.PasswordChanged);
        _ = other;
    }

    [PrerequisiteFact]
    public async Task EndSession_ItsCookie_OpensNeitherConsoleNorAdminApi()
    {
        var user = await _driver.CreateUserAsync();
        await _driver.AddRoleAsync(user, AdminRoles.SuperAdmin);
        var (_, otherCookie) = await SignedInWithCookieAsync(user);
        var browser = await SignedInAsync(user);
        Assert.Equal(HttpStatusCode.OK, (await ReplayAsync("/admin", otherCookie)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ReplayAsync(AdminCallers.Users, otherCookie)).StatusCode);
        var otherSid = (await SessionsOfAsync(user.Id)).OrderBy(s => s.CreatedAt).First().Id;

        var response = await PostFormAsync(browser, "/account/sessions?handler=End", new() { ["sid"] = otherSid });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var console = await ReplayAsync("/admin", otherCookie);
        Assert.Equal(HttpStatusCode.Redirect, console.StatusCode);
        Assert.StartsWith("/account/login", console.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await ReplayAsync(AdminCallers.Users, otherCookie)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/account/sessions")).StatusCode);
    }

    [PrerequisiteFact]
    public async Task EndSession_SomeoneElsesSession_IsNotFoundAndStaysLive()
    {
        var owner = await _driver.CreateUserAsync();
        await SignedInAsync(owner);
        var stranger = await SignedInAsync(await _driver.CreateUserAsync());
        var sid = (await SessionsOfAsync(owner.Id)).Single().Id;

        var response = await PostFormAsync(stranger, "/account/sessions?handler=End", new() { ["sid"] = sid });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Null((await SessionsOfAsync(owner.Id)).Single().EndedAt);
    }

    [PrerequisiteFact]
    public async Task Activity_ListsOwnSignInsAndRefusals_NewestFirst()
    {
        var user = await _driver.CreateUserAsync();
        await BrowserSession.SignInAsync(factory.CreateBrowserLikeClient(), user.UserName!, "Wrong-Password-1");
        var browser = await SignedInAsync(user);

        var page = await browser.GetStringAsync("/account/activity");

        Assert.Equal(["account.signed-in", "account.sign-in-failed"], ActivityEvents().Matches(page).Select(m => m.Groups[1].Value));
    }

    private async Task<bool> PasswordStillWorksAsync(UserAccount user) =>
        (await BrowserSession.SignInAsync(factory.CreateBrowserLikeClient(), user.UserName!, OidcDriver.Password)).StatusCode == HttpStatusCode.Redirect;

    private static object Client(string initiateLoginUri) => new
    {
        clientType = "confidential",
        redirectUris = new[] { "https://oa.example.com/callback" },
        grantTypes = new[] { "authorization_code" },
        scopes = new[] { "openid" },
        tokenEndpointAuthMethod = "client_secret_basic",
        initiateLoginUri,
    };

    private static async Task<Guid> ApplicationAsync(HttpClient admin, string? launchUrl)
    {
        var response = await admin.PostAsJsonAsync(AdminApiClient.Applications, new { name = "Portal " + Guid.NewGuid().ToString("N")[..8], launchUrl });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static async Task RegisterClientAsync(HttpClient admin, Guid application, string initiateLoginUri)
    {
        var response = await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{application}/oidc", Client(initiateLoginUri));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private static async Task RegisterSpAsync(HttpClient admin, Guid application, bool allowIdpInitiated)
    {
        var response = await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{application}/saml",
            new SamlTestSp().Registration(authnRequestsSigned: false, allowIdpInitiated: allowIdpInitiated));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    /// <summary>A role of the application (no permission needed: its own role counts there) granted to the user.</summary>
    private static async Task GrantAsync(HttpClient admin, UserAccount user, Guid application)
    {
        var role = await admin.PostAsJsonAsync(AdminCallers.Roles, new { applicationId = application, name = "user-" + Guid.NewGuid().ToString("N")[..8], delegable = false });
        Assert.True(role.StatusCode == HttpStatusCode.Created, await role.Content.ReadAsStringAsync());
        var roleId = (await role.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var grant = await admin.PostAsJsonAsync(AdminCallers.Assignments, new { userId = user.Id, roleId, reason = "portal test" });
        Assert.True(grant.StatusCode == HttpStatusCode.Created, await grant.Content.ReadAsStringAsync());
    }

    private async Task<HttpClient> SignedInAsync(UserAccount user) => (await SignedInWithCookieAsync(user)).Browser;

    private async Task<(HttpClient Browser, string Cookie)> SignedInWithCookieAsync(UserAccount user)
    {
        var browser = factory.CreateBrowserLikeClient();
        var response = await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("identityhub.session=", StringComparison.Ordinal)).Split(';')[0];
        return (browser, cookie);
    }

    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient browser, string path, Dictionary<string, string> fields)
    {
        var page = await browser.GetStringAsync(path.Split('?')[0]);
        fields["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(page);
        return await browser.PostAsync(path, new FormUrlEncodedContent(fields));
    }

    private async Task<HttpResponseMessage> ReplayAsync(string path, string cookie)
    {
        var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", cookie);
        return await client.SendAsync(request);
    }

    private Task<UserAccount> UserAsync(string id) => AdminCallers.InDatabaseAsync(factory, db => db.Users.AsNoTracking().SingleAsync(u => u.Id == id));

    private Task<List<Data.Sessions.UserSession>> SessionsOfAsync(string userId) =>
        AdminCallers.InDatabaseAsync(factory, db => db.UserSessions.AsNoTracking().Where(s => s.UserId == userId).ToListAsync());

    private static Dictionary<Guid, string> TileLinks(string html) =>
        TileLink().Matches(html).ToDictionary(m => Guid.Parse(m.Groups[2].Value), m => WebUtility.HtmlDecode(m.Groups[1].Value));

    [GeneratedRegex("<a class=\"tile\" href=\"([^\"]*)\" data-testid=\"portal-tile\" data-application=\"([^\"]+)\"")]
    private static partial Regex TileLink();

    [GeneratedRegex("<li data-rule=\"([a-z]+)\" class=\"broken\"")]
    private static partial Regex BrokenRules();

    [GeneratedRegex("<li data-event=\"([a-z.-]+)\"")]
    private static partial Regex ActivityEvents();
}

public sealed class SqlitePortalAndAccountTests(SqliteFactory factory) : PortalAndAccountTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlPortalAndAccountTests(PostgreSqlFactory factory) : PortalAndAccountTests<PostgreSqlFactory>(factory);
