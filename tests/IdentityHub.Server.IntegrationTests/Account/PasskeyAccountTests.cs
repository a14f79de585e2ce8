using System.Net;
using System.Security.Cryptography;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Audit;
using IdentityHub.Data.Directory;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Server.IntegrationTests.Oidc;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Account;

/// <summary>
/// Issue 16 §1, the parts a browser's authenticator is not needed for: the account page lists, renames and removes
/// passkeys (stored as Identity keeps them), each change is an audit event of the user, an administrator removes them
/// all through the admin API, and a passkey answer that does not verify is refused with one message (the rate limit's
/// counting of them is not proven here: this factory's limits are raised for every test). The WebAuthn ceremonies themselves are proven in the browser tests (PasskeyTests).
/// </summary>
public abstract class PasskeyAccountTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly OidcDriver _driver = new(factory);

    [PrerequisiteFact]
    public async Task AccountPage_ListRenameRemove_ShowsEachChangeAndAuditsItAgainstTheUser()
    {
        var user = await _driver.CreateUserAsync();
        var laptop = await SeedPasskeyAsync(user.Id, "Laptop");
        var phone = await SeedPasskeyAsync(user.Id, "Phone");
        var browser = await SignedInAsync(user);

        var page = await browser.GetStringAsync("/account/passkeys");
        Assert.Contains("value=\"Laptop\"", page, StringComparison.Ordinal);
        Assert.Contains("value=\"Phone\"", page, StringComparison.Ordinal);

        var renamed = await PostAsync(browser, "Rename", new() { ["id"] = phone, ["name"] = "  Old phone " });
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        Assert.Contains("value=\"Old phone\"", await renamed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var removed = await PostAsync(browser, "Remove", new() { ["id"] = phone });
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        page = await removed.Content.ReadAsStringAsync();
        Assert.DoesNotContain("Old phone", page, StringComparison.Ordinal);
        Assert.Contains($"data-passkey-id=\"{laptop}\"", page, StringComparison.Ordinal);

        var rename = await SingleEventAsync("mfa.passkey-renamed", user.Id);
        Assert.Equal(user.Id, rename.ActorId);
        Assert.Contains("\"name\":\"Phone\"", rename.Before, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"Old phone\"", rename.After, StringComparison.Ordinal);
        var removal = await SingleEventAsync("mfa.passkey-removed", user.Id);
        Assert.Contains(phone, removal.Before, StringComparison.Ordinal);
        Assert.Equal([laptop], (await ListAsync(user.Id)).Select(p => p.Id));
    }

    [PrerequisiteTheory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("x1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890")]
    public async Task AccountPage_RenameToAnInvalidName_IsRefusedAndChangesNothing(string name)
    {
        var user = await _driver.CreateUserAsync();
        var passkey = await SeedPasskeyAsync(user.Id, "Laptop");
        var browser = await SignedInAsync(user);

        var response = await PostAsync(browser, "Rename", new() { ["id"] = passkey, ["name"] = name });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("data-testid=\"form-error\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(["Laptop"], (await ListAsync(user.Id)).Select(p => p.Name));
    }

    [PrerequisiteFact]
    public async Task AccountPage_SomeoneElsesPasskey_IsNotFoundAndStays()
    {
        var owner = await _driver.CreateUserAsync();
        var theirs = await SeedPasskeyAsync(owner.Id, "Their laptop");
        var browser = await SignedInAsync(await _driver.CreateUserAsync());

        var response = await PostAsync(browser, "Remove", new() { ["id"] = theirs });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Single(await ListAsync(owner.Id));
    }

    [PrerequisiteFact]
    public async Task AdminApi_DeletePasskeys_RemovesEveryOneAndAuditsIt()
    {
        var user = await _driver.CreateUserAsync();
        await SeedPasskeyAsync(user.Id, "Laptop");
        await SeedPasskeyAsync(user.Id, "Phone");
        var (security, securityAdmin) = await AdminCallers.CreateAsync(factory, Core.Directory.AdminRoles.SecurityAdmin);

        var listed = await AdminCallers.JsonAsync(await security.GetAsync($"{AdminCallers.Users}/{user.Id}/passkeys"), HttpStatusCode.OK);
        Assert.Equal(["Laptop", "Phone"], listed.EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        await AdminCallers.JsonAsync(await security.DeleteAsync($"{AdminCallers.Users}/{user.Id}/passkeys"), HttpStatusCode.NoContent);

        Assert.Empty(await ListAsync(user.Id));
        var entry = await SingleEventAsync("mfa.passkeys-removed", user.Id);
        Assert.Equal(securityAdmin.Id, entry.ActorId);
        Assert.Contains("Laptop", entry.Before, StringComparison.Ordinal);
        Assert.Contains("Phone", entry.Before, StringComparison.Ordinal);
        await AdminCallers.JsonAsync(await security.DeleteAsync($"{AdminCallers.Users}/{OidcDriver.NewId("nobody")}/passkeys"), HttpStatusCode.NotFound);
    }

    [PrerequisiteFact]
    public async Task PasskeySignIn_AnswersThatDoNotVerify_GetOneMessageAndAreAudited()
    {
        var browser = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var options = await PostLoginAsync(browser, "PasskeyOptions", []);
        Assert.Equal(HttpStatusCode.OK, options.StatusCode);
        using (var json = await OidcDriver.JsonAsync(options))
        {
            Assert.True(json.RootElement.GetProperty("challenge").GetString()!.Length >= 16);
        }

        // A forged answer after the options, then answers with no options behind them: each the same refusal.
        string[] answers = ["{\"id\":\"AAAA\",\"rawId\":\"AAAA\",\"type\":\"public-key\",\"response\":{}}", "{}", "not json", "{\"id\":\"AAAA\"}", "[]"];
        foreach (var answer in answers)
        {
            var refused = await PostLoginAsync(browser, "Passkey", new() { ["credential"] = answer });
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
            Assert.Contains("That passkey could not sign you in.", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var failures = await AdminCallers.InDatabaseAsync(factory, db => db.AuditEvents.AsNoTracking()
            .Where(e => e.Type == "signin.failed" && e.ActorId == "anonymous" && e.After!.Contains("\"method\":\"passkey\"")).CountAsync());
        Assert.True(failures >= answers.Length, $"{failures} passkey failures audited.");
    }

    private async Task<HttpClient> SignedInAsync(UserAccount user)
    {
        var browser = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var response = await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return browser;
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient browser, string handler, Dictionary<string, string> fields)
    {
        fields["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(await browser.GetStringAsync("/account/passkeys"));
        return await browser.PostAsync($"/account/passkeys?handler={handler}", new FormUrlEncodedContent(fields));
    }

    private static async Task<HttpResponseMessage> PostLoginAsync(HttpClient browser, string handler, Dictionary<string, string> fields)
    {
        fields["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(await browser.GetStringAsync("/account/login"));
        return await browser.PostAsync($"/account/login?handler={handler}", new FormUrlEncodedContent(fields));
    }

    /// <summary>A passkey as Identity stores one after an attestation (the key material is never checked here); returns its id as pages show it.</summary>
    private async Task<string> SeedPasskeyAsync(string userId, string name)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<UserAccount>>();
        var user = (await users.FindByIdAsync(userId))!;
        var credentialId = RandomNumberGenerator.GetBytes(32);
        var passkey = new UserPasskeyInfo(credentialId, RandomNumberGenerator.GetBytes(77), DateTimeOffset.UtcNow, 0, ["internal"], true, false, false, [0xa0], [0x7b, 0x7d]) { Name = name };
        Assert.True((await users.AddOrUpdatePasskeyAsync(user, passkey)).Succeeded);
        await Task.Delay(10);
        return UserPasskeys.IdOf(credentialId);
    }

    private async Task<IReadOnlyList<PasskeySummary>> ListAsync(string userId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<UserPasskeys>().ListAsync(userId, CancellationToken.None);
    }

    private Task<AuditEvent> SingleEventAsync(string type, string userId) =>
        AdminCallers.InDatabaseAsync(factory, db => db.AuditEvents.AsNoTracking().SingleAsync(e => e.Type == type && e.TargetId == userId));
}

public sealed class SqlitePasskeyAccountTests(SqliteFactory factory) : PasskeyAccountTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlPasskeyAccountTests(PostgreSqlFactory factory) : PasskeyAccountTests<PostgreSqlFactory>(factory);
