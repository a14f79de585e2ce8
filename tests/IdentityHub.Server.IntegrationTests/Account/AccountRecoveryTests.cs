using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Data.Mail;
using IdentityHub.Server.Hosting;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace IdentityHub.Server.IntegrationTests.Account;

/// <summary>
/// A server that sends its mail to a real SMTP server of the test (<see cref="SmtpSink"/>), retries quickly, lets reset links
/// live 4 s, answers forgot-password after 0.5 s, and trusts X-Forwarded-For from 127.0.0.1 with 3 sign-in failures per
/// address and name.
/// </summary>
public class MailServer : SqliteFactory
{
    private readonly int _port = new SmtpSink().Port;

    public SmtpSink Sink { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Sink = new SmtpSink(_port);
        await Sink.StartAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Sink.DisposeAsync();
    }

    /// <summary>Stops the SMTP server (mails fail and are retried) until <see cref="StartSinkAsync"/>.</summary>
    public async Task StopSinkAsync() => await Sink.DisposeAsync();

    public async Task StartSinkAsync()
    {
        Sink = new SmtpSink(_port);
        await Sink.StartAsync();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Mail:Smtp:Host", "127.0.0.1");
        builder.UseSetting("Mail:Smtp:Port", _port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Mail:Smtp:Security", "None");
        builder.UseSetting("Mail:From:Address", "identityhub@example.test");
        builder.UseSetting("Mail:PublicOrigin", "http://idp.example.test");
        builder.UseSetting("Mail:PollInterval", "00:00:00.200");
        builder.UseSetting("Mail:RetryDelay", "00:00:01");
        builder.UseSetting("Mail:MaxRetryDelay", "00:00:02");
        builder.UseSetting("Account:ResetLifetime", "00:00:04");
        builder.UseSetting("Account:ForgotResponseTime", "00:00:00.500");
        builder.UseSetting("Hosting:ForwardedHeaders:KnownProxies:0", "127.0.0.1");
        builder.UseSetting("RateLimits:SignInFailuresPerAccountAndIp:PermitLimit", "3");
        builder.UseSetting("RateLimits:SignInFailuresPerAccountAndIp:Window", "01:00:00");
    }
}

/// <summary>Invitation, forgot/reset, temporary password, unlock, and the mail queue, against a real SMTP server.</summary>
public sealed class AccountRecoveryTests(MailServer factory) : IClassFixture<MailServer>
{
    private const string Users = "/api/admin/v1/users";

    [PrerequisiteFact]
    public async Task Invitation_LinkFollowed_SetsPasswordSignsInAndIsSpent()
    {
        var (id, name, email) = await CreateInvitedAsync();
        var link = SmtpSink.LinkIn(await factory.Sink.WaitForAsync(email), "/account/invitation");
        Assert.Equal("idp.example.test", link.Host);

        using var browser = factory.CreateBrowserLikeClient();
        var set = await SetPasswordAsync(browser, link, "Invited-Password-123");
        Assert.Equal(HttpStatusCode.Redirect, set.StatusCode);
        Assert.Equal("/", set.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/account/security")).StatusCode);

        using var again = factory.CreateBrowserLikeClient();
        Assert.Equal(HttpStatusCode.BadRequest, (await again.GetAsync(link.PathAndQuery)).StatusCode);
        Assert.True(await AuditedAsync("account.invitation-accepted", id));
        Assert.True(await AuditedAsync("user.invited", id));
        _ = name;
    }

    [PrerequisiteFact]
    public async Task Invitation_AfterAdministratorSetsPassword_IsRefused()
    {
        var (id, _, email) = await CreateInvitedAsync();
        var link = SmtpSink.LinkIn(await factory.Sink.WaitForAsync(email), "/account/invitation");
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var set = await admin.PostAsJsonAsync($"{Users}/{id}/password", new { password = "Admin-Chosen-Password-1", mustChange = false });
        Assert.Equal(HttpStatusCode.NoContent, set.StatusCode);

        using var browser = factory.CreateBrowserLikeClient();
        var page = await browser.GetAsync(link.PathAndQuery);
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.Contains("link-invalid", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(await AuditedAsync("user.password-set", id));
    }

    [PrerequisiteFact]
    public async Task Reset_ExpiredLink_IsRefused()
    {
        var (_, name, email) = await CreateWithPasswordAsync("Old-Password-123");
        using var browser = factory.CreateBrowserLikeClient();
        await ForgotAsync(browser, name);
        var link = SmtpSink.LinkIn(await factory.Sink.WaitForAsync(email, m => m.Subject?.Contains("Reset", StringComparison.Ordinal) == true), "/account/reset");
        // Account:ResetLifetime is 4 s here.
        await Task.Delay(TimeSpan.FromSeconds(5));
        var page = await browser.GetAsync(link.PathAndQuery);
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
    }

    [PrerequisiteFact]
    public async Task Reset_ByEmail_SetsPasswordEndsSessionsAndIsSingleUse()
    {
        var (id, name, email) = await CreateWithPasswordAsync("Old-Password-123");
        using var other = factory.CreateBrowserLikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await BrowserSession.SignInAsync(other, name, "Old-Password-123")).StatusCode);
        using var browser = factory.CreateBrowserLikeClient();
        await ForgotAsync(browser, email.ToUpperInvariant());
        var link = SmtpSink.LinkIn(await factory.Sink.WaitForAsync(email, m => m.Subject?.Contains("Reset", StringComparison.Ordinal) == true), "/account/reset");

        var set = await SetPasswordAsync(browser, link, "New-Password-456");
        Assert.Equal("/account/login?reset=done", set.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, (await BrowserSession.SignInAsync(factory.CreateBrowserLikeClient(), name, "New-Password-456")).StatusCode);
        // The session from before the reset has ended.
        Assert.Equal(HttpStatusCode.Redirect, (await other.GetAsync("/account/security")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await SetPasswordAsync(factory.CreateBrowserLikeClient(), link, "Third-Password-789")).StatusCode);
        Assert.True(await AuditedAsync("account.password-reset", id));
    }

    [PrerequisiteFact]
    public async Task Forgot_UnknownAndKnownAccount_AnswerTheSame()
    {
        var (_, name, _) = await CreateWithPasswordAsync("Some-Password-123");
        using var first = TestUsers.BrowserFrom(factory, "10.40.0.1");
        using var second = TestUsers.BrowserFrom(factory, "10.40.0.2");
        var (unknownStatus, unknownPage, unknownTime) = await ForgotAsync(first, "nobody-" + Guid.NewGuid().ToString("N")[..8]);
        var (knownStatus, knownPage, knownTime) = await ForgotAsync(second, name);
        Assert.Equal(HttpStatusCode.OK, knownStatus);
        Assert.Equal(unknownStatus, knownStatus);
        Assert.Equal(Strip(unknownPage), Strip(knownPage));
        Assert.Contains("forgot-sent", knownPage, StringComparison.Ordinal);
        // Both wait for Account:ForgotResponseTime (0.5 s) from the start of the request.
        Assert.True(unknownTime >= TimeSpan.FromMilliseconds(450) && knownTime >= TimeSpan.FromMilliseconds(450), $"{unknownTime} / {knownTime}");
    }

    [PrerequisiteFact]
    public async Task Forgot_OverTheSignInLimit_Answers429()
    {
        using var browser = TestUsers.BrowserFrom(factory, "10.41.0.1");
        var name = "limited-" + Guid.NewGuid().ToString("N")[..8];
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await ForgotAsync(browser, name)).Status);
        }

        var refused = await ForgotAsync(browser, name);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.Status);
    }

    [PrerequisiteFact]
    public async Task TemporaryPassword_SignIn_LeadsToChangeFirstThenContinues()
    {
        var (id, name, _) = await CreateWithPasswordAsync("First-Password-123");
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        Assert.Equal(HttpStatusCode.NoContent,
            (await admin.PostAsJsonAsync($"{Users}/{id}/password", new { password = "Temporary-Password-1", mustChange = true })).StatusCode);

        using var browser = factory.CreateBrowserLikeClient();
        var signIn = await BrowserSession.SignInAsync(browser, name, "Temporary-Password-1", "/account/security");
        Assert.Equal("/account/security", signIn.Headers.Location?.OriginalString);
        var blocked = await browser.GetAsync("/account/security");
        Assert.Equal(HttpStatusCode.Redirect, blocked.StatusCode);
        Assert.StartsWith("/account/password/required?ReturnUrl=", blocked.Headers.Location?.OriginalString, StringComparison.Ordinal);

        var form = await browser.GetStringAsync(blocked.Headers.Location!.OriginalString);
        var changed = await browser.PostAsync("/account/password/required", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["ReturnUrl"] = "/account/security",
            ["Input.CurrentPassword"] = "Temporary-Password-1",
            ["Input.NewPassword"] = "My-Own-Password-42",
            ["Input.Confirm"] = "My-Own-Password-42",
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(form),
        }));
        Assert.Equal("/account/security", changed.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/account/security")).StatusCode);
        Assert.True(await AuditedAsync("account.password-changed", id));
    }

    [PrerequisiteFact]
    public async Task Reset_TooShortPasswordInChinese_ShowsIdentitysRuleInChinese()
    {
        var (_, name, email) = await CreateWithPasswordAsync("Old-Password-123");
        using var browser = TestUsers.BrowserFrom(factory, "10.43.0.1");
        browser.DefaultRequestHeaders.AcceptLanguage.ParseAdd(ThemeMessages.Chinese);
        await ForgotAsync(browser, name);
        var link = SmtpSink.LinkIn(await factory.Sink.WaitForAsync(email, m => m.Subject?.Contains("Reset", StringComparison.Ordinal) == true), "/account/reset");

        var refused = await SetPasswordAsync(browser, link, "Short-1");

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        AssertShowsTooShortInChinese(await refused.Content.ReadAsStringAsync());
    }

    [PrerequisiteFact]
    public async Task TemporaryPassword_TooShortNewPasswordInChinese_ShowsIdentitysRuleInChinese()
    {
        var (id, name, _) = await CreateWithPasswordAsync("First-Password-123");
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        Assert.Equal(HttpStatusCode.NoContent,
            (await admin.PostAsJsonAsync($"{Users}/{id}/password", new { password = "Temporary-Password-1", mustChange = true })).StatusCode);
        using var browser = TestUsers.BrowserFrom(factory, "10.43.0.2");
        browser.DefaultRequestHeaders.AcceptLanguage.ParseAdd(ThemeMessages.Chinese);
        Assert.Equal(HttpStatusCode.Redirect, (await BrowserSession.SignInAsync(browser, name, "Temporary-Password-1")).StatusCode);

        var form = await browser.GetStringAsync("/account/password/required");
        var refused = await browser.PostAsync("/account/password/required", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.CurrentPassword"] = "Temporary-Password-1",
            ["Input.NewPassword"] = "Short-1",
            ["Input.Confirm"] = "Short-1",
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(form),
        }));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        AssertShowsTooShortInChinese(await refused.Content.ReadAsStringAsync());
    }

    [PrerequisiteFact]
    public async Task Unlock_LockedUser_EndsLockoutAndIsAudited()
    {
        var (id, name, _) = await CreateWithPasswordAsync("Locked-Password-123");
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
            var user = await db.Users.SingleAsync(u => u.Id == id);
            user.LockoutEnd = DateTimeOffset.UtcNow.AddHours(1);
            await db.SaveChangesAsync();
        }

        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var before = await admin.GetFromJsonAsync<Dictionary<string, object?>>($"{Users}/{id}");
        Assert.NotNull(before!["lockedUntil"]);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"{Users}/{id}/unlock", null)).StatusCode);
        var after = await admin.GetFromJsonAsync<Dictionary<string, object?>>($"{Users}/{id}");
        Assert.Null(after!["lockedUntil"]);
        Assert.Equal(HttpStatusCode.Redirect, (await BrowserSession.SignInAsync(factory.CreateBrowserLikeClient(), name, "Locked-Password-123")).StatusCode);
        Assert.True(await AuditedAsync("user.unlocked", id));
    }

    [PrerequisiteTheory]
    [InlineData("invitation")]
    [InlineData("unlock")]
    [InlineData("password")]
    public async Task AdminActions_UnknownUser_Answer404(string action)
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var response = await admin.PostAsJsonAsync($"{Users}/no-such-user/{action}", new { password = "Whatever-Password-1", mustChange = true });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [PrerequisiteFact]
    public async Task Invitation_UserWithoutEmail_IsRefusedNamingTheField()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var name = "noemail-" + Guid.NewGuid().ToString("N")[..8];
        var response = await admin.PostAsJsonAsync(Users, new { userName = name, displayName = name, invite = true });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("email", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Queue_SmtpDown_RetriesThenDelivers()
    {
        await factory.StopSinkAsync();
        string email;
        try
        {
            (var id, _, email) = await CreateInvitedAsync();
            await WaitForAsync(async db => await db.MailOutbox.AnyAsync(m => m.UserId == id && m.Attempts >= 1 && m.LastError != null && m.Status == MailStatus.Pending));
        }
        finally
        {
            await factory.StartSinkAsync();
        }

        var message = await factory.Sink.WaitForAsync(email, timeout: TimeSpan.FromSeconds(60));
        Assert.Contains("/account/invitation", message.TextBody, StringComparison.Ordinal);
        await WaitForAsync(async db => await db.MailOutbox.AnyAsync(m => m.ToAddress == email && m.Status == MailStatus.Sent && m.SentAt != null));
    }

    private async Task<(string Id, string Name, string Email)> CreateInvitedAsync()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var name = "invited-" + Guid.NewGuid().ToString("N")[..8];
        var email = $"{name}@example.test";
        var response = await admin.PostAsJsonAsync(Users, new { userName = name, displayName = "Invited " + name, email, invite = true });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<Dictionary<string, object?>>();
        return (created!["id"]!.ToString()!, name, email);
    }

    private async Task<(string Id, string Name, string Email)> CreateWithPasswordAsync(string password)
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var name = "person-" + Guid.NewGuid().ToString("N")[..8];
        var email = $"{name}@example.test";
        var response = await admin.PostAsJsonAsync(Users, new { userName = name, displayName = "Person " + name, email, initialPassword = password });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<Dictionary<string, object?>>();
        return (created!["id"]!.ToString()!, name, email);
    }

    private static async Task<HttpResponseMessage> SetPasswordAsync(HttpClient browser, Uri link, string password)
    {
        var page = await browser.GetAsync(link.PathAndQuery);
        var html = await page.Content.ReadAsStringAsync();
        var query = System.Web.HttpUtility.ParseQueryString(link.Query);
        return await browser.PostAsync(link.AbsolutePath, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["user"] = query["user"]!,
            ["token"] = query["token"]!,
            ["Input.Password"] = password,
            ["Input.Confirm"] = password,
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(html),
        }));
    }

    private static async Task<(HttpStatusCode Status, string Page, TimeSpan Took)> ForgotAsync(HttpClient browser, string nameOrEmail)
    {
        var form = await browser.GetStringAsync("/account/forgot");
        var started = Stopwatch.GetTimestamp();
        var response = await browser.PostAsync("/account/forgot", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["NameOrEmail"] = nameOrEmail,
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(form),
        }));
        var took = Stopwatch.GetElapsedTime(started);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), took);
    }

    /// <summary>Identity's "too short" in the theme's Chinese words, with the configured length (12), and not in Identity's English.</summary>
    private static void AssertShowsTooShortInChinese(string page)
    {
        var html = WebUtility.HtmlDecode(page);
        var chinese = ThemeMessages.Load(Path.Combine(TestEnvironment.SolutionRoot, "themes", "default"), ThemeMessages.Chinese);
        Assert.Contains("<html lang=\"zh-CN\">", html, StringComparison.Ordinal);
        Assert.Contains(string.Format(System.Globalization.CultureInfo.InvariantCulture, chinese["identity.PasswordTooShort"], 12), html, StringComparison.Ordinal);
        Assert.DoesNotContain(new Microsoft.AspNetCore.Identity.IdentityErrorDescriber().PasswordTooShort(12).Description, html, StringComparison.Ordinal);
    }

    /// <summary>The page without its antiforgery token and nonces, which differ per request.</summary>
    private static string Strip(string html) =>
        System.Text.RegularExpressions.Regex.Replace(html, "value=\"[^\"]{40,}\"|nonce=\"[^\"]+\"", "");

    private async Task<bool> AuditedAsync(string type, string userId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        return await db.AuditEvents.AnyAsync(e => e.Type == type && e.TargetId == userId);
    }

    private async Task WaitForAsync(Func<IdentityHubDbContext, Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await using (var scope = factory.Services.CreateAsyncScope())
            {
                if (await condition(scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>()))
                {
                    return;
                }
            }

            Assert.True(DateTime.UtcNow < deadline, "The mail queue did not reach the expected state within 60 s.");
            await Task.Delay(200);
        }
    }
}
