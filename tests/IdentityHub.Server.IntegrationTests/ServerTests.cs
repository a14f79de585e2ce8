using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using IdentityHub.Core.Access;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Data.Keys;
using IdentityHub.Server.Account;
using IdentityHub.Server.Oidc.Clients;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace IdentityHub.Server.IntegrationTests;

/// <summary>The foundation's behaviour, run once per database provider by the subclasses below.</summary>
public abstract class ServerTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    [PrerequisiteFact]
    public async Task HealthLive_Always_ReportsHealthy()
    {
        var response = await factory.CreateClient().GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [PrerequisiteFact]
    public async Task HealthReady_DatabaseReachable_ReportsHealthy()
    {
        var response = await factory.CreateClient().GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [PrerequisiteFact]
    public async Task Discovery_Served_AdvertisesEndpointsAndS256Only()
    {
        using var discovery = JsonDocument.Parse(await factory.CreateClient().GetStringAsync("/.well-known/openid-configuration"));
        var root = discovery.RootElement;

        Assert.Equal("http://localhost/", root.GetProperty("issuer").GetString());
        Assert.Equal("http://localhost/.well-known/jwks", root.GetProperty("jwks_uri").GetString());
        Assert.Equal("http://localhost/connect/token", root.GetProperty("token_endpoint").GetString());
        Assert.Equal(["S256"], root.GetProperty("code_challenge_methods_supported").EnumerateArray().Select(e => e.GetString()));
    }

    [PrerequisiteFact]
    public async Task Jwks_Served_PublishesTheStoredRs256SigningKeyWithoutPrivateParts()
    {
        using var jwks = JsonDocument.Parse(await factory.CreateClient().GetStringAsync("/.well-known/jwks"));
        var key = Assert.Single(jwks.RootElement.GetProperty("keys").EnumerateArray());

        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var stored = await db.SigningKeys.SingleAsync(k => k.Use == KeyUses.Signing && k.RetiredAt == null);
        Assert.Equal(stored.Id, key.GetProperty("kid").GetString());
        Assert.Equal("RS256", key.GetProperty("alg").GetString());
        Assert.Equal("RSA", key.GetProperty("kty").GetString());
        Assert.False(key.TryGetProperty("d", out _), "A private exponent must never be published.");
        Assert.DoesNotContain("PRIVATE KEY", stored.ProtectedKey, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Startup_FreshDatabase_PersistsDataProtectionKeysInTheDatabase()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();

        Assert.NotEmpty(await db.DataProtectionKeys.ToListAsync());
    }

    [PrerequisiteFact]
    public async Task Root_Anonymous_RedirectsToTheSignInPage()
    {
        var response = await factory.CreateBrowserLikeClient().GetAsync("/");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("http://localhost/account/login", response.Headers.Location?.ToString(), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task SignIn_SeededAdmin_LandsOnTheConsoleHome()
    {
        var client = factory.CreateBrowserLikeClient();

        var signIn = await BrowserSession.SignInAsync(client, FirstAdministrator.UserName, IdentityHubFactory.AdminPassword);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal("/", signIn.Headers.Location?.ToString());
        var root = await client.GetAsync("/");
        Assert.Equal("/admin", root.Headers.Location?.ToString());
        var console = await client.GetStringAsync("/admin");

        Assert.Contains("Administration console", console, StringComparison.Ordinal);
        Assert.Contains(AdminRoles.SuperAdmin, console, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task SignIn_WrongPassword_ShowsOneGenericErrorAndNoSession()
    {
        var client = factory.CreateBrowserLikeClient();

        var response = await BrowserSession.SignInAsync(client, FirstAdministrator.UserName, "not-the-password");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(LoginModel.InvalidCredentials, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/admin")).StatusCode);
    }

    [PrerequisiteFact]
    public async Task SignIn_WithoutAntiforgeryToken_IsRejectedWith400()
    {
        var client = factory.CreateBrowserLikeClient();

        var response = await client.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.UserName"] = FirstAdministrator.UserName,
            ["Input.Password"] = IdentityHubFactory.AdminPassword,
        }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [PrerequisiteFact]
    public async Task SignIn_ForeignReturnUrl_RedirectsHomeInstead()
    {
        var client = factory.CreateBrowserLikeClient();

        var response = await BrowserSession.SignInAsync(
            client, FirstAdministrator.UserName, IdentityHubFactory.AdminPassword, returnUrl: "https://evil.example/phish");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location?.ToString());
    }

    [PrerequisiteFact]
    public async Task SignIn_SuspendedUser_IsRefusedWithTheSameMessage()
    {
        const string password = "Suspended-User-Password-1";
        await CreateUserAsync("suspended.user", password, UserStatus.Suspended);
        var client = factory.CreateBrowserLikeClient();

        var response = await BrowserSession.SignInAsync(client, "suspended.user", password);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(LoginModel.InvalidCredentials, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Session_UserSuspendedAfterSignIn_LosesTheConsole()
    {
        const string password = "Suspended-Later-Password-1";
        var user = await CreateUserAsync("suspended.later", password, UserStatus.Active);
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<UserAccount>>();
            Assert.True((await users.AddToRoleAsync((await users.FindByIdAsync(user))!, AdminRoles.Auditor)).Succeeded);
        }

        var client = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(client, "suspended.later", password);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/admin")).StatusCode);

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
            var stored = await db.Users.SingleAsync(u => u.Id == user);
            stored.Status = UserStatus.Suspended;
            await db.SaveChangesAsync();
        }

        var afterwards = await client.GetAsync("/admin");
        Assert.Equal(HttpStatusCode.Redirect, afterwards.StatusCode);
        Assert.StartsWith("http://localhost/account/login", afterwards.Headers.Location?.ToString(), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task SignIn_RepeatedWrongPasswords_LocksTheAccountWithoutSayingSo()
    {
        const string password = "Lockout-User-Password-1";
        await CreateUserAsync("lockout.user", password, UserStatus.Active);
        var client = factory.CreateBrowserLikeClient();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            await BrowserSession.SignInAsync(client, "lockout.user", "wrong-password");
        }

        var response = await BrowserSession.SignInAsync(client, "lockout.user", password);

        // The right password is refused, with the answer any failure gets: a lockout must not tell that the account exists.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(LoginModel.InvalidCredentials, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/admin")).StatusCode);
    }

    [PrerequisiteFact]
    public async Task Console_UserWithoutAdminRole_IsDenied()
    {
        const string password = "Plain-Employee-Password-1";
        await CreateUserAsync("plain.employee", password, UserStatus.Active);
        var client = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(client, "plain.employee", password);

        var console = await client.GetAsync("/admin");
        var home = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.Redirect, console.StatusCode);
        Assert.StartsWith("http://localhost/account/access-denied", console.Headers.Location?.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
    }

    [PrerequisiteFact]
    public async Task SignOut_AfterSignIn_EndsTheSession()
    {
        var client = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(client, FirstAdministrator.UserName, IdentityHubFactory.AdminPassword);
        var console = await client.GetStringAsync("/admin");

        var signOut = await client.PostAsync("/account/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(console),
        }));

        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/admin")).StatusCode);
    }

    [PrerequisiteFact]
    public async Task UnknownPage_Requested_Returns404WithTheErrorPage()
    {
        var response = await factory.CreateClient().GetAsync("/no-such-page");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Page not found", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task ClientCredentials_BootstrapAdminClient_IssuesJwtForItselfAndTheAdminApi()
    {
        var response = await RequestClientCredentialsTokenAsync(IdentityHubFactory.AdminClientSecret);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var token = new JsonWebToken(body.RootElement.GetProperty("access_token").GetString());
        Assert.Equal("at+jwt", token.Typ);
        Assert.Equal(AdminClientBootstrap.DefaultClientId, token.Subject);
        Assert.Equal([AdminClientBootstrap.DefaultClientId, IdentityHubScopes.AdminApiAudience], token.Audiences.Order(StringComparer.Ordinal));
        Assert.Equal(AdminRoles.SuperAdmin, token.GetClaim("role").Value);
    }

    [PrerequisiteFact]
    public async Task ClientCredentials_WrongSecret_IsRefusedAsInvalidClient()
    {
        var response = await RequestClientCredentialsTokenAsync("not-the-secret");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("invalid_client", body.RootElement.GetProperty("error").GetString());
    }

    private Task<HttpResponseMessage> RequestClientCredentialsTokenAsync(string secret)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["scope"] = IdentityHubScopes.AdminApi,
            }),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{AdminClientBootstrap.DefaultClientId}:{secret}")));
        return factory.CreateClient().SendAsync(request);
    }

    private Task<string> CreateUserAsync(string userName, string password, UserStatus status) =>
        TestUsers.CreateAsync(factory, userName, password, status);
}

public sealed class SqliteServerTests(SqliteFactory factory) : ServerTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlServerTests(PostgreSqlFactory factory) : ServerTests<PostgreSqlFactory>(factory);
