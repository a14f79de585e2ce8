using System.Globalization;
using System.Text.Json;
using IdentityHub.Testing;
using Microsoft.Playwright;
using static IdentityHub.Browser.Tests.ConsoleSteps;

namespace IdentityHub.Browser.Tests;

/// <summary>
/// The server of <see cref="AccountMailTests"/>: its mail goes over SMTP (no TLS) to a real SMTP server of the test
/// (<see cref="SmtpSink"/>), its links name the address the browser uses, and an account locks after
/// <see cref="LockoutAttempts"/> wrong passwords.
/// </summary>
public sealed class MailServerAndBrowser : ServerAndBrowser
{
    /// <summary>The server's <c>Account:Lockout</c> options, set here and read by the tests.</summary>
    public const int LockoutAttempts = 3;

    public static readonly TimeSpan LockoutDuration = TimeSpan.FromMinutes(15);

    public static readonly TimeSpan LockoutMaxDuration = TimeSpan.FromHours(2);

    public SmtpSink Sink { get; } = new();

    protected override void Configure(Dictionary<string, string> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings["Mail:Smtp:Host"] = "127.0.0.1";
        settings["Mail:Smtp:Port"] = Sink.Port.ToString(CultureInfo.InvariantCulture);
        settings["Mail:Smtp:Security"] = "None";
        settings["Mail:From:Address"] = "identityhub@example.test";
        // The address the browser uses (localhost, as BaseAddress), not the 127.0.0.1 the server listens on.
        settings["Mail:PublicOrigin"] = $"http://localhost:{Port}/";
        settings["Account:Lockout:MaxFailedAttempts"] = LockoutAttempts.ToString(CultureInfo.InvariantCulture);
        settings["Account:Lockout:Duration"] = LockoutDuration.ToString("c", CultureInfo.InvariantCulture);
        settings["Account:Lockout:MaxDuration"] = LockoutMaxDuration.ToString("c", CultureInfo.InvariantCulture);
    }

    public override async Task InitializeAsync()
    {
        await Sink.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Sink.DisposeAsync();
    }
}

/// <summary>
/// Issue 15 point 7, the mail flows in Debian's Chromium against a real SMTP server: an invitation sent from the console's
/// new-user form sets the first password and opens the portal with exactly the applications the person holds rights in;
/// forgot-password round trip; a temporary password set in the console forces a change before anything else, and an OIDC
/// flow goes on to its client afterwards; spent links are refused; a lockout is shown in the console and ended there; the
/// mail pages fit a 390 px phone in English and Chinese.
/// </summary>
[Requires(Prerequisite.Browser)]
public sealed class AccountMailTests(MailServerAndBrowser fixture) : IClassFixture<MailServerAndBrowser>
{
    private const string Password = "Mail-Person-Password-1";
    private const string NewPassword = "Chosen-Person-Password-2";

    /// <summary>How long a test waits for a mail to reach the SMTP server.</summary>
    private static readonly TimeSpan MailPatience = TimeSpan.FromSeconds(30);

    private static readonly string[] Scopes = ["openid", "profile", "email", "roles"];

    private readonly ThemeTexts _admin = ThemeTexts.Of("en");
    private readonly ThemeTexts _login = ThemeTexts.Of("en", "login");

    [PrerequisiteFact]
    public async Task Invitation_FromTheConsoleForm_MailedLinkSetsThePasswordAndThePortalShowsExactlyTheApplicationWithRights()
    {
        var suffix = Suffix();
        var userName = $"invited.{suffix}";
        var email = $"{userName}@example.test";
        await using var admin = await fixture.SignInAsync();
        var page = admin.Page;

        // The administrator creates the person without a password, the invitation box ticked.
        await page.GotoAsync("/admin/users");
        await page.GetByTestId("new-user").ClickAsync();
        var form = page.GetByTestId("user-form");
        await form.GetByLabel(_admin["admin.users.userName"], new() { Exact = true }).FillAsync(userName);
        await form.GetByLabel(_admin["admin.users.displayName"], new() { Exact = true }).FillAsync($"Invited Person {suffix}");
        await form.GetByLabel(_admin["admin.users.employeeNumber"], new() { Exact = true }).FillAsync($"I-{suffix}");
        await form.GetByLabel(_admin["admin.users.email"], new() { Exact = true }).FillAsync(email);
        await form.GetByLabel(_admin["admin.users.invite.onCreate"], new() { Exact = true }).CheckAsync();
        await form.GetByRole(AriaRole.Button, new() { Name = _admin["common.save"], Exact = true }).ClickAsync();
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex(@"/admin/users/(?!edit)[^/?]+(\?.*)?$"));
        var userId = Uri.UnescapeDataString(new Uri(page.Url).Segments[^1]);
        await Assertions.Expect(page.GetByTestId("user-no-password")).ToBeVisibleAsync();

        // Two applications with launch addresses; a role in one only.
        var withRights = $"Expenses {suffix}";
        var withoutRights = $"Travel {suffix}";
        var expenses = await AdminApiAsync(page, "POST", "/api/admin/v1/applications", new { name = withRights, launchUrl = $"https://expenses-{suffix}.example.com/" });
        await AdminApiAsync(page, "POST", "/api/admin/v1/applications", new { name = withoutRights, launchUrl = $"https://travel-{suffix}.example.com/" });
        var role = await AdminApiAsync(page, "POST", "/api/admin/v1/roles", new { applicationId = expenses.GetProperty("id").GetString(), name = $"user-{suffix}" });
        await AdminApiAsync(page, "POST", "/api/admin/v1/assignments", new { userId, roleId = role.GetProperty("id").GetString(), reason = "invitation browser test" });

        var link = await MailedLinkAsync(email, "/account/invitation");
        await using var person = await NewPersonAsync();
        var me = person.Page;
        await me.GotoAsync(link.ToString());
        await AssertPolicyShownAsync(me, _login);
        Assert.Equal(Say(_login["reset.for"], userName), await me.GetByTestId("password-for").InnerTextAsync());
        await ShotAsync(me, "mail-1-invitation-form");
        await me.GetByLabel(_login["reset.newPassword"], new() { Exact = true }).FillAsync(NewPassword);
        await me.GetByLabel(_login["reset.confirm"], new() { Exact = true }).FillAsync(NewPassword);
        await me.GetByTestId("password-submit").ClickAsync();

        // Signed in, on the portal: the one application with rights and a launch address, not the other.
        await Assertions.Expect(me.GetByTestId("portal-greeting")).ToContainTextAsync($"Invited Person {suffix}");
        Assert.Equal(fixture.BaseAddress, new Uri(me.Url));
        Assert.Equal([withRights], await me.GetByTestId("portal-tile").Locator(".tile-name").AllInnerTextsAsync());
        await Assertions.Expect(me.GetByText(withoutRights)).ToHaveCountAsync(0);
        await ShotAsync(me, "mail-2-invitation-portal");

        // The link is spent.
        await me.GotoAsync(link.ToString());
        await AssertLinkRefusedAsync(me);
    }

    [PrerequisiteFact]
    public async Task ForgotPassword_FromTheSignInPage_MailedLinkSetsANewPasswordAndOnlyTheNewOneSignsIn()
    {
        var person = await ArrangePersonAsync(Password);
        await using var browser = await NewPersonAsync();
        var page = browser.Page;

        await page.GotoAsync("/account/login");
        await page.GetByTestId("forgot-link").ClickAsync();
        await page.WaitForURLAsync("**/account/forgot");
        await page.GetByLabel(_login["reset.forgot.nameOrEmail"], new() { Exact = true }).FillAsync(person.UserName);
        await page.GetByTestId("forgot-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("forgot-sent")).ToHaveTextAsync(_login["reset.forgot.sent"]);

        var link = await MailedLinkAsync(person.Email, "/account/reset");
        await page.GotoAsync(link.ToString());
        await AssertPolicyShownAsync(page, _login);
        await page.GetByLabel(_login["reset.newPassword"], new() { Exact = true }).FillAsync(NewPassword);
        await page.GetByLabel(_login["reset.confirm"], new() { Exact = true }).FillAsync(NewPassword);
        await page.GetByTestId("password-submit").ClickAsync();
        await page.WaitForURLAsync("**/account/login?reset=done");
        await Assertions.Expect(page.GetByTestId("reset-done")).ToHaveTextAsync(_login["reset.done"]);
        await ShotAsync(page, "mail-3-reset-done");

        await SubmitSignInAsync(page, person.UserName, Password);
        await Assertions.Expect(page.GetByTestId("login-error")).ToHaveTextAsync(_login["login.error.invalid"]);
        await SubmitSignInAsync(page, person.UserName, NewPassword);
        await Assertions.Expect(page.GetByTestId("portal-greeting")).ToBeVisibleAsync();
    }

    [PrerequisiteFact]
    public async Task TemporaryPassword_SetInTheConsole_ForcesAChangeBeforeAnythingElse_ThenTheOidcFlowGoesOnToItsClient()
    {
        var person = await ArrangePersonAsync(Password);
        var temporary = $"Temporary-Password-{Suffix()}";
        var port = ServerProcess.FreePort();
        await using var admin = await fixture.SignInAsync();
        var page = admin.Page;
        await CreateApplicationAsync(page, _admin, $"Forced change {Suffix()}");
        var (clientId, secret) = await RegisterRelyingPartyClientAsync(page, _admin, port);

        // The console's form: a temporary password, "must change" ticked by default.
        await page.GotoAsync($"/admin/users/{Uri.EscapeDataString(person.Id)}");
        var setPassword = page.GetByTestId("set-password");
        await setPassword.Locator("summary").ClickAsync();
        await setPassword.GetByLabel(_admin["admin.users.newPassword"], new() { Exact = true }).FillAsync(temporary);
        await Assertions.Expect(setPassword.GetByTestId("must-change")).ToBeCheckedAsync();
        await setPassword.GetByTestId("set-password-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("user-must-change")).ToHaveTextAsync(_admin["admin.users.mustChange"]);

        // The person starts at the relying party and signs in with the temporary password: the change page comes first.
        await using var relyingParty = await RelyingParty.StartAsync(port, fixture.BaseAddress, clientId, secret, Scopes);
        await using var browser = await NewPersonAsync();
        var me = browser.Page;
        var callbacks = new List<Uri>();
        me.Request += (_, request) =>
        {
            if (request.Url.StartsWith(RelyingParty.RedirectUriOf(port).ToString(), StringComparison.Ordinal))
            {
                callbacks.Add(new Uri(request.Url));
            }
        };
        await me.GotoAsync(relyingParty.Address.ToString());
        await me.WaitForURLAsync("**/account/login**");
        await SubmitSignInAsync(me, person.UserName, temporary);
        await me.WaitForURLAsync("**/account/password/required**");
        var required = me.Url;
        Assert.StartsWith("/connect/authorize", QueryValue(new Uri(required), "ReturnUrl"), StringComparison.Ordinal);
        await Assertions.Expect(me.GetByTestId("password-required")).ToHaveTextAsync(_login["reset.required.intro"]);
        await ShotAsync(me, "mail-4-password-required");

        // Nothing else opens before the change.
        foreach (var path in new[] { "/account/profile", "/" })
        {
            await me.GotoAsync(path);
            Assert.Equal("/account/password/required", new Uri(me.Url).AbsolutePath);
            await Assertions.Expect(me.GetByTestId("password-required")).ToBeVisibleAsync();
        }

        Assert.Empty(callbacks);
        await me.GotoAsync(required);
        await AssertPolicyShownAsync(me, _login);
        await me.GetByLabel(_login["reset.current"], new() { Exact = true }).FillAsync(temporary);
        await me.GetByLabel(_login["reset.newPassword"], new() { Exact = true }).FillAsync(NewPassword);
        await me.GetByLabel(_login["reset.confirm"], new() { Exact = true }).FillAsync(NewPassword);
        await me.GetByTestId("password-submit").ClickAsync();

        // The authorization request goes on: the client's redirect URI receives a code and the relying party signs them in.
        await me.WaitForURLAsync(relyingParty.Address.ToString());
        var callback = Assert.Single(callbacks);
        Assert.False(string.IsNullOrEmpty(QueryValue(callback, "code")), $"The redirect URI was called without a code: {callback}");
        using (var seen = JsonDocument.Parse(await me.Locator("body").InnerTextAsync()))
        {
            Assert.Equal(person.UserName, seen.RootElement.GetProperty("preferredUserName").GetString());
        }

        await me.GotoAsync(fixture.BaseAddress.ToString());
        await Assertions.Expect(me.GetByTestId("portal-greeting")).ToBeVisibleAsync();
        await me.GotoAsync("/account/profile");
        Assert.Equal("/account/profile", new Uri(me.Url).AbsolutePath);
    }

    [PrerequisiteFact]
    public async Task ResetLink_UsedOnce_IsRefusedTheSecondTimeWithAMessageAndNoForm()
    {
        var person = await ArrangePersonAsync(Password);
        await using var browser = await NewPersonAsync();
        var page = browser.Page;
        await page.GotoAsync("/account/forgot");
        await page.GetByLabel(_login["reset.forgot.nameOrEmail"], new() { Exact = true }).FillAsync(person.Email);
        await page.GetByTestId("forgot-submit").ClickAsync();
        await page.GetByTestId("forgot-sent").WaitForAsync();
        var link = await MailedLinkAsync(person.Email, "/account/reset");

        await page.GotoAsync(link.ToString());
        await page.GetByLabel(_login["reset.newPassword"], new() { Exact = true }).FillAsync(NewPassword);
        await page.GetByLabel(_login["reset.confirm"], new() { Exact = true }).FillAsync(NewPassword);
        await page.GetByTestId("password-submit").ClickAsync();
        await page.WaitForURLAsync("**/account/login?reset=done");

        var again = await page.GotoAsync(link.ToString());
        Assert.Equal(400, again!.Status);
        await AssertLinkRefusedAsync(page);
        await ShotAsync(page, "mail-5-reset-link-spent");
    }

    [PrerequisiteFact]
    public async Task InvitationLink_AfterTheSecurityStampChanged_IsRefusedWithAMessageAndNoForm()
    {
        await using var admin = await fixture.SignInAsync();
        var person = await ArrangePersonAsync(null, invite: true, admin);
        var link = await MailedLinkAsync(person.Email, "/account/invitation");
        await using var browser = await NewPersonAsync();
        var page = browser.Page;
        await page.GotoAsync(link.ToString());
        await page.GetByTestId("password-submit").WaitForAsync();

        // An administrator sets a password: the security stamp changes, and with it every link issued before.
        await AdminApiAsync(admin.Page, "POST", $"/api/admin/v1/users/{Uri.EscapeDataString(person.Id)}/password", new { password = Password, mustChange = false });
        var again = await page.GotoAsync(link.ToString());
        Assert.Equal(400, again!.Status);
        await AssertLinkRefusedAsync(page);
        await ShotAsync(page, "mail-6-invitation-link-stale");
    }

    [PrerequisiteFact]
    public async Task Lockout_AfterTheConfiguredWrongPasswords_TheConsoleShowsLockedUntilAndItsUnlockLetsThePersonIn()
    {
        var person = await ArrangePersonAsync(Password);
        await using var browser = await NewPersonAsync();
        var page = browser.Page;
        var policy = Say(_login["login.error.lockoutPolicy"], MailServerAndBrowser.LockoutAttempts,
            (int)MailServerAndBrowser.LockoutDuration.TotalMinutes, (int)MailServerAndBrowser.LockoutMaxDuration.TotalMinutes);
        var lockedBetween = (From: DateTimeOffset.Now, To: DateTimeOffset.Now);
        for (var attempt = 1; attempt <= MailServerAndBrowser.LockoutAttempts; attempt++)
        {
            lockedBetween.From = DateTimeOffset.Now;
            await SubmitSignInAsync(page, person.UserName, $"Wrong-Password-{attempt}");
            await Assertions.Expect(page.GetByTestId("login-error")).ToHaveTextAsync(_login["login.error.invalid"]);
            // How many failures lock an account and for how long, said with every failure (naming the locked account
            // alone would tell which accounts exist).
            await Assertions.Expect(page.GetByTestId("lockout-policy")).ToHaveTextAsync(policy);
            lockedBetween.To = DateTimeOffset.Now;
        }

        // Locked: the right password is refused too.
        await SubmitSignInAsync(page, person.UserName, Password);
        await Assertions.Expect(page.GetByTestId("login-error")).ToHaveTextAsync(_login["login.error.invalid"]);
        await ShotAsync(page, "mail-7-locked-sign-in");

        await using var admin = await fixture.SignInAsync();
        var console = admin.Page;
        await console.GotoAsync($"/admin/users/{Uri.EscapeDataString(person.Id)}");
        // Locked until the configured duration after the last wrong password, in the console's (English, server-local) format.
        var shown = (await console.GetByTestId("user-lock").InnerTextAsync()).Trim();
        var english = CultureInfo.GetCultureInfo("en");
        var ends = Enumerable.Range(0, (int)(lockedBetween.To - lockedBetween.From).TotalMinutes + 2)
            .Select(minute => Say(_admin["admin.users.lockedUntil"], (lockedBetween.From + MailServerAndBrowser.LockoutDuration).AddMinutes(minute).ToString("g", english)))
            .ToList();
        Assert.True(ends.Contains(shown), $"The console says '{shown}', not one of {string.Join(" | ", ends)}.");
        await ShotAsync(console, "mail-8-console-locked-until");
        await console.GetByTestId("unlock").ClickAsync();
        await Assertions.Expect(console.GetByTestId("user-lock")).ToHaveTextAsync(_admin["admin.users.notLocked"]);
        await Assertions.Expect(console.GetByTestId("unlock")).ToHaveCountAsync(0);

        await SubmitSignInAsync(page, person.UserName, Password);
        await Assertions.Expect(page.GetByTestId("portal-greeting")).ToBeVisibleAsync();
    }

    [PrerequisiteTheory]
    [InlineData("en-US", "en")]
    [InlineData("zh-CN", "zh-CN")]
    public async Task MailPages_At390Pixels_DoNotScrollSideways(string locale, string language)
    {
        var login = ThemeTexts.Of(language, "login");
        await using var admin = await fixture.SignInAsync();
        var person = await ArrangePersonAsync(null, invite: true, admin);
        var invitation = await MailedLinkAsync(person.Email, "/account/invitation");
        await using var phone = await NewPersonAsync(locale, 390);
        var page = phone.Page;

        await page.GotoAsync(invitation.ToString());
        Assert.Equal(language, await page.Locator("html").GetAttributeAsync("lang"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(login["invite.title"]);
        await AssertNoSidewaysScrollAsync(page, $"mail-invitation-{locale}");

        await page.GotoAsync("/account/forgot");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(login["reset.forgot.title"]);
        await AssertNoSidewaysScrollAsync(page, $"mail-forgot-{locale}");
        await page.GetByLabel(login["reset.forgot.nameOrEmail"], new() { Exact = true }).FillAsync(person.UserName);
        await page.GetByTestId("forgot-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("forgot-sent")).ToHaveTextAsync(login["reset.forgot.sent"]);
        await AssertNoSidewaysScrollAsync(page, $"mail-forgot-sent-{locale}");

        await page.GotoAsync((await MailedLinkAsync(person.Email, "/account/reset")).ToString());
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(login["reset.title"]);
        await AssertNoSidewaysScrollAsync(page, $"mail-reset-{locale}");

        var temporary = $"Temporary-Password-{Suffix()}";
        await AdminApiAsync(admin.Page, "POST", $"/api/admin/v1/users/{Uri.EscapeDataString(person.Id)}/password", new { password = temporary, mustChange = true });
        await page.GotoAsync(invitation.ToString());
        await AssertLinkRefusedAsync(page, login);
        await AssertNoSidewaysScrollAsync(page, $"mail-link-refused-{locale}");

        await SubmitSignInAsync(page, person.UserName, temporary);
        await page.WaitForURLAsync("**/account/password/required**");
        await Assertions.Expect(page.GetByTestId("password-required")).ToHaveTextAsync(login["reset.required.intro"]);
        await AssertNoSidewaysScrollAsync(page, $"mail-password-required-{locale}");
    }

    private sealed record Person(string Id, string UserName, string Email);

    private static string Suffix() => Guid.NewGuid().ToString("N")[..6];

    private static string Say(string text, params object[] values) => string.Format(CultureInfo.InvariantCulture, text, values);

    private static string? QueryValue(Uri uri, string name) =>
        uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .Where(pair => pair[0] == name)
            .Select(pair => Uri.UnescapeDataString(pair.Length > 1 ? pair[1] : ""))
            .FirstOrDefault();

    /// <summary>A person with an e-mail address, created through the admin API (a password, or none and an invitation).</summary>
    private async Task<Person> ArrangePersonAsync(string? password, bool invite = false, SignedIn? signedIn = null)
    {
        var admin = signedIn ?? await fixture.SignInAsync();
        try
        {
            var suffix = Suffix();
            var userName = $"mail.{suffix}";
            var email = $"{userName}@example.test";
            var user = await AdminApiAsync(admin.Page, "POST", "/api/admin/v1/users", new
            {
                userName,
                displayName = $"Mail Person {suffix}",
                employeeNumber = $"M-{suffix}",
                email,
                initialPassword = password,
                invite,
            });
            return new Person(user.GetProperty("id").GetString()!, userName, email);
        }
        finally
        {
            if (signedIn is null)
            {
                await admin.DisposeAsync();
            }
        }
    }

    /// <summary>A new context of its own (no cookies), as the person's browser; <paramref name="width"/> 390 is a phone.</summary>
    private async Task<SignedIn> NewPersonAsync(string locale = "en-US", int width = 1280)
    {
        var context = await fixture.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = fixture.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = 844 },
            Locale = locale,
        });
        return new SignedIn(context, await context.NewPageAsync());
    }

    /// <summary>The link to <paramref name="path"/> in the mail the SMTP server received for <paramref name="email"/>.</summary>
    private async Task<Uri> MailedLinkAsync(string email, string path)
    {
        var mail = await fixture.Sink.WaitForAsync(email, m => (m.TextBody ?? "").Contains(path, StringComparison.Ordinal), MailPatience);
        var link = SmtpSink.LinkIn(mail, path);
        Assert.Equal(fixture.BaseAddress.GetLeftPart(UriPartial.Authority), link.GetLeftPart(UriPartial.Authority));
        return link;
    }

    /// <summary>Fills and submits the sign-in form (the page is on it, or goes to it).</summary>
    private static async Task SubmitSignInAsync(IPage page, string userName, string password)
    {
        if (new Uri(page.Url).AbsolutePath != "/account/login")
        {
            await page.GotoAsync("/account/login");
        }

        await page.Locator("#Input_UserName").FillAsync(userName);
        await page.Locator("#Input_Password").FillAsync(password);
        await page.Locator("button.primary").ClickAsync();
    }

    /// <summary>The password policy in words, before the form: its introduction and the default rules.</summary>
    private static async Task AssertPolicyShownAsync(IPage page, ThemeTexts login)
    {
        var policy = page.GetByTestId("password-policy");
        await Assertions.Expect(policy).ToContainTextAsync(login["reset.policy.intro"]);
        Assert.Equal(
            [Say(login["reset.policy.length"], 12), login["reset.policy.upper"], login["reset.policy.lower"], login["reset.policy.digit"], login["reset.policy.symbol"]],
            await policy.Locator("li").AllInnerTextsAsync());
    }

    /// <summary>A refused link: the message, a way to ask for a new one, and no password form.</summary>
    private async Task AssertLinkRefusedAsync(IPage page, ThemeTexts? login = null)
    {
        login ??= _login;
        await Assertions.Expect(page.GetByTestId("link-invalid")).ToHaveTextAsync(login["reset.error.link"]);
        await Assertions.Expect(page.GetByTestId("forgot-again")).ToHaveTextAsync(login["reset.askAgain"]);
        await Assertions.Expect(page.Locator("input[type=password]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByTestId("password-submit")).ToHaveCountAsync(0);
    }
}
