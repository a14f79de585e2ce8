using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Sessions;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Data.Sessions;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Server.IntegrationTests.Oidc;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.IntegrationTests.Account;

/// <summary>
/// Issue 16 points 2, 8 and 9: sessions live on the server (a cookie replayed after its session ended opens nothing),
/// admin API tokens follow their client's state, and administrator actions send back-channel logout.
/// </summary>
public abstract class ServerSessionTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private const string Console = "/admin";
    private const string Portal = "/account/applications";
    private readonly OidcDriver _rp = new(factory);

    [PrerequisiteFact]
    public async Task SignOut_ReplayedCookie_ConsoleRedirectsToLoginAndAdminApiRefuses()
    {
        var (browser, cookie, user) = await SignedInAsync(AdminRoles.SuperAdmin);
        Assert.Equal(HttpStatusCode.OK, (await ReplayAsync(Console, cookie)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ReplayAsync(AdminCallers.Users, cookie)).StatusCode);

        await BrowserSession.SignOutAsync(browser);

        var console = await ReplayAsync(Console, cookie);
        Assert.Equal(HttpStatusCode.Redirect, console.StatusCode);
        Assert.StartsWith("/account/login", console.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await ReplayAsync(AdminCallers.Users, cookie)).StatusCode);
        Assert.Equal(UserSessionEndReasons.SignedOut, (await SessionsOfAsync(user.Id)).Single().EndReason);
    }

    [PrerequisiteTheory]
    [InlineData("end-sessions", UserSessionEndReasons.EndedByAdministrator)]
    [InlineData("suspend", UserSessionEndReasons.Suspended)]
    [InlineData("leave", UserSessionEndReasons.Left)]
    [InlineData("password-reset", UserSessionEndReasons.Revalidation)]
    public async Task EndedOnTheServer_ReplayedCookie_IsRefused(string action, string reason)
    {
        var (_, cookie, user) = await SignedInAsync(role: null);
        Assert.Equal(HttpStatusCode.OK, (await ReplayAsync(Portal, cookie)).StatusCode);

        await EndAsync(action, user);

        var replayed = await ReplayAsync(Portal, cookie);
        Assert.Equal(HttpStatusCode.Redirect, replayed.StatusCode);
        Assert.StartsWith("/account/login", replayed.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        var session = (await SessionsOfAsync(user.Id)).Single();
        Assert.NotNull(session.EndedAt);
        Assert.Equal(reason, session.EndReason);
    }

    /// <summary>
    /// Anyone can lock an account by guessing its password; that must not sign its owner out. The lockout is a change
    /// of the user every node hears of, so the replay below is checked against the database at once, not at the interval.
    /// </summary>
    [PrerequisiteFact]
    public async Task LockedOut_OpenSession_StaysLive()
    {
        var (_, cookie, user) = await SignedInAsync(role: null);
        Assert.Equal(HttpStatusCode.OK, (await ReplayAsync(Portal, cookie)).StatusCode);

        await _rp.LockOutAsync(user.Id);

        Assert.Equal(HttpStatusCode.OK, (await ReplayAsync(Portal, cookie)).StatusCode);
        Assert.Null((await SessionsOfAsync(user.Id)).Single().EndedAt);
    }

    [PrerequisiteFact]
    public async Task EndOthers_KeepsTheCurrentSessionAndEndsTheOthers()
    {
        var (_, kept, user) = await SignedInAsync(role: null);
        var (_, other, _) = await SignedInAsync(role: null, user);
        var keptSid = (await SessionsOfAsync(user.Id)).OrderBy(s => s.CreatedAt).First().Id;

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            Assert.Equal(1, await scope.ServiceProvider.GetRequiredService<BrowserSessions>().EndOthersAsync(user.Id, keptSid, CancellationToken.None));
        }

        Assert.Equal(HttpStatusCode.OK, (await ReplayAsync(Portal, kept)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await ReplayAsync(Portal, other)).StatusCode);
        var sessions = await SessionsOfAsync(user.Id);
        Assert.Null(sessions.Single(s => s.Id == keptSid).EndedAt);
        Assert.Equal(UserSessionEndReasons.SignedOutElsewhere, sessions.Single(s => s.Id != keptSid).EndReason);
    }

    [PrerequisiteFact]
    public async Task SignIn_RecordsTheSessionWithAddressAndBrowser()
    {
        var (_, _, user) = await SignedInAsync(role: null);

        var session = (await SessionsOfAsync(user.Id)).Single();
        Assert.Null(session.EndedAt);
        Assert.False(string.IsNullOrEmpty(session.Id));
        Assert.Equal("http://localhost/", session.Issuer);
    }

    [PrerequisiteTheory]
    [InlineData("disable")]
    [InlineData("delete")]
    [InlineData("remove-roles")]
    public async Task AdminClientChanged_TokenItAlreadyHolds_IsRefusedOnTheNextCall(string change)
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var created = await AdminApiClient.CreateServiceClientAsync(admin, AdminApiClient.ServiceClient(adminRoles: [AdminRoles.SuperAdmin]));
        var applicationId = created.GetProperty("applicationId").GetGuid();
        var registration = created.GetProperty("registration");
        var token = await AdminApiClient.TokenAsync(factory.CreateClient(), registration.GetProperty("clientId").GetString()!,
            registration.GetProperty("clientSecret").GetString()!, Core.Access.IdentityHubScopes.AdminApi);
        var automation = factory.CreateClient();
        automation.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await automation.GetAsync(AdminCallers.Users)).StatusCode);

        var oidc = $"{AdminApiClient.Applications}/{applicationId}/oidc";
        var changed = change switch
        {
            "disable" => await admin.PutAsJsonAsync(oidc,
                System.Text.Json.JsonSerializer.SerializeToNode(AdminApiClient.ServiceClient(adminRoles: [AdminRoles.SuperAdmin]), AdminApiClient.Json)!
                    .AsObject().With("enabled", false)),
            "delete" => await admin.DeleteAsync(oidc),
            // Stripped of the role the token carries; the one it keeps is not enough for the token to stay.
            _ => await admin.PutAsJsonAsync(oidc, AdminApiClient.ServiceClient(adminRoles: [AdminRoles.Auditor])),
        };
        Assert.True(changed.IsSuccessStatusCode, await changed.Content.ReadAsStringAsync());

        var refused = await automation.GetAsync(AdminCallers.Users);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains(Errors.InvalidToken, refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [PrerequisiteTheory]
    [InlineData("end-sessions")]
    [InlineData("suspend")]
    [InlineData("leave")]
    public async Task AdministratorEndsSessions_ParticipatingClient_ReceivesBackchannelLogout(string action)
    {
        await using var receiver = await BackchannelLogoutReceiver.StartAsync();
        var clientId = await _rp.RegisterClientAsync(configure: d =>
            d.Properties[Core.Access.ClientProperties.BackchannelLogoutUri] = System.Text.Json.JsonSerializer.SerializeToElement(receiver.Url));
        var (_, _, _, user) = await _rp.ObtainCodeAsync(clientId);
        var sid = (await SessionsOfAsync(user.Id)).Single().Id;

        await EndAsync(action, user);
        var logoutToken = new JsonWebToken(await receiver.NextTokenAsync());

        Assert.Equal(clientId, logoutToken.Audiences.Single());
        Assert.Equal(sid, logoutToken.GetClaim("sid").Value);
        Assert.Equal(user.Id, logoutToken.Subject);
    }

    private async Task EndAsync(string action, UserAccount user)
    {
        if (action == "password-reset")
        {
            await using var scope = factory.Services.CreateAsyncScope();
            var users = scope.ServiceProvider.GetRequiredService<UserManager<UserAccount>>();
            var stored = await users.FindByIdAsync(user.Id);
            var reset = await users.ResetPasswordAsync(stored!, await users.GeneratePasswordResetTokenAsync(stored!), "A-New-Password-For-The-Test-1");
            Assert.True(reset.Succeeded);
            return;
        }

        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var response = await admin.PostAsync($"{AdminCallers.Users}/{user.Id}/{action}", null);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Signs in through the form (as <paramref name="user"/>, or a new user holding <paramref name="role"/>); returns the session cookie.</summary>
    private async Task<(HttpClient Browser, string Cookie, UserAccount User)> SignedInAsync(string? role, UserAccount? user = null)
    {
        if (user is null)
        {
            user = await _rp.CreateUserAsync();
            if (role is not null)
            {
                await _rp.AddRoleAsync(user, role);
            }
        }

        var browser = factory.CreateBrowserLikeClient();
        var response = await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("identityhub.session=", StringComparison.Ordinal)).Split(';')[0];
        return (browser, cookie, user);
    }

    /// <summary>A request with exactly this cookie and nothing else, as curl replays it.</summary>
    private async Task<HttpResponseMessage> ReplayAsync(string path, string cookie)
    {
        var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", cookie);
        return await client.SendAsync(request);
    }

    private Task<List<UserSession>> SessionsOfAsync(string userId) =>
        AdminCallers.InDatabaseAsync(factory, db => db.UserSessions.AsNoTracking().Where(s => s.UserId == userId).ToListAsync());
}

public sealed class SqliteServerSessionTests(SqliteFactory<BackchannelFactorySettings> factory)
    : ServerSessionTests<SqliteFactory<BackchannelFactorySettings>>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlServerSessionTests(PostgreSqlFactory<BackchannelFactorySettings> factory)
    : ServerSessionTests<PostgreSqlFactory<BackchannelFactorySettings>>(factory);
