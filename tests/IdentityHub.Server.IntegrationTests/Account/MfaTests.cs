using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Factors;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Saml;
using IdentityHub.Saml.Protocol;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Server.IntegrationTests.Oidc;
using IdentityHub.Server.IntegrationTests.Saml;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.IntegrationTests.Account;

/// <summary>Administrators must use MFA (the setting's default, which the other test hosts turn off).</summary>
public sealed class MfaForAdministrators : IServerSettings
{
    public static void Apply(IWebHostBuilder builder) => builder.UseSetting("Account:Mfa:RequireForAdministrators", "true");
}

/// <summary>
/// Issue 16 point 1: TOTP enrolment and sign-in, replay refusal, recovery codes, lockout, the MFA policy (administrators,
/// applications, departments), OIDC and SAML step-up, amr/acr, and the administrator's reset. Codes come from the key
/// the page shows, computed here with Otp.NET.
/// </summary>
public abstract class MfaTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private const string Users = "/api/admin/v1/users";
    private const string Departments = "/api/admin/v1/departments";
    private readonly OidcDriver _driver = new(factory);

    [PrerequisiteFact]
    public async Task SignIn_TotpEnrolled_AsksForTheCodeThenSignsIn()
    {
        var (user, app, _) = await EnrolledUserAsync();
        var browser = factory.CreateBrowserLikeClient();

        var mfaPage = await MfaDriver.PasswordStepAsync(browser, user.UserName!, OidcDriver.Password);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync(MfaDriver.SecurityPage)).StatusCode);
        var done = await MfaDriver.SecondStepAsync(browser, mfaPage, await app.NextCodeAsync());

        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
        Assert.Equal("/", done.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(MfaDriver.SecurityPage)).StatusCode);
    }

    [PrerequisiteFact]
    public async Task SignIn_ReusedCode_IsRefused()
    {
        var (user, app, _) = await EnrolledUserAsync();
        var first = factory.CreateBrowserLikeClient();
        var firstPage = await MfaDriver.PasswordStepAsync(first, user.UserName!, OidcDriver.Password);
        Assert.Equal(HttpStatusCode.Redirect, (await MfaDriver.SecondStepAsync(first, firstPage, await app.NextCodeAsync())).StatusCode);
        var second = factory.CreateBrowserLikeClient();
        var secondPage = await MfaDriver.PasswordStepAsync(second, user.UserName!, OidcDriver.Password);

        var replay = await MfaDriver.SecondStepAsync(second, secondPage, app.LastCode);

        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Contains("data-testid=\"mfa-error\"", await replay.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, (await second.GetAsync(MfaDriver.SecurityPage)).StatusCode);
    }

    [PrerequisiteFact]
    public async Task SignIn_RecoveryCode_WorksOnceAndIsListed()
    {
        var (user, _, codes) = await EnrolledUserAsync();
        Assert.Equal(AccountFactors.RecoveryCodeCount, codes.Count);
        var first = factory.CreateBrowserLikeClient();
        var firstPage = await MfaDriver.PasswordStepAsync(first, user.UserName!, OidcDriver.Password);

        var used = await MfaDriver.SecondStepAsync(first, firstPage, codes[0], "Recovery");
        var second = factory.CreateBrowserLikeClient();
        var secondPage = await MfaDriver.PasswordStepAsync(second, user.UserName!, OidcDriver.Password);
        var again = await MfaDriver.SecondStepAsync(second, secondPage, codes[0], "Recovery");

        Assert.Equal(HttpStatusCode.Redirect, used.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains("data-testid=\"mfa-error\"", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var page = await first.GetStringAsync(MfaDriver.SecurityPage);
        Assert.Contains($"data-event=\"{AccountFactors.EventTypes.RecoveryCodeUsed}\"", page, StringComparison.Ordinal);
        Assert.Contains($"data-event=\"{AccountFactors.EventTypes.TotpEnrolled}\"", page, StringComparison.Ordinal);
        Assert.Contains("/account/passkeys", page, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task SignIn_WrongCodes_LockTheAccount()
    {
        var (user, app, _) = await EnrolledUserAsync();
        var browser = factory.CreateBrowserLikeClient();
        var mfaPage = await MfaDriver.PasswordStepAsync(browser, user.UserName!, OidcDriver.Password);

        for (var attempt = 0; attempt < 5; attempt++)
        {
            var wrong = await MfaDriver.SecondStepAsync(browser, mfaPage, "000000");
            Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        }

        var right = await MfaDriver.SecondStepAsync(browser, mfaPage, await app.NextCodeAsync());
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        await using var scope = factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<UserAccount>>();
        Assert.True(await users.IsLockedOutAsync((await users.FindByIdAsync(user.Id))!));
    }

    [PrerequisiteFact]
    public async Task SignIn_Administrator_MustEnrolBeforeContinuing()
    {
        var user = await _driver.CreateUserAsync();
        await _driver.AddRoleAsync(user, AdminRoles.Auditor);
        var browser = factory.CreateBrowserLikeClient();

        var mfaPage = await MfaDriver.PasswordStepAsync(browser, user.UserName!, OidcDriver.Password, "/admin");
        var enrolPage = await browser.GetStringAsync(mfaPage);
        Assert.Contains("data-testid=\"mfa-enrol-required\"", enrolPage, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"totp-qr\"", enrolPage, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/admin")).StatusCode);
        var app = MfaDriver.AuthenticatorFrom(enrolPage);
        var enrolled = await MfaDriver.SecondStepAsync(browser, mfaPage, await app.NextCodeAsync(), "Enrol");

        var html = await enrolled.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, enrolled.StatusCode);
        Assert.Equal(AccountFactors.RecoveryCodeCount, MfaDriver.RecoveryCodesFrom(html).Count);
        Assert.Contains("href=\"/admin\"", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/admin")).StatusCode);
    }

    [PrerequisiteFact]
    public async Task Authorize_ApplicationRequiresMfa_StepsUpTheOneFactorSession()
    {
        var clientId = await _driver.RegisterClientAsync();
        await RequireMfaAsync(clientId);
        var (user, browser) = await SignedInAsync();
        var (app, _) = await MfaDriver.EnrolAsync(browser);
        var (verifier, challenge) = OidcDriver.NewPkce();

        var authorize = await browser.GetAsync(OidcDriver.AuthorizeUrl(OidcDriver.AuthorizeParameters(clientId, challenge)));
        var code = await StepUpAsync(browser, authorize, app);

        using var idToken = await IdTokenAsync(clientId, code, verifier);
        Assert.Equal(["pwd", "otp", "mfa"], Amr(idToken));
        Assert.Equal(AuthnContextClasses.MultiFactor, idToken.RootElement.GetProperty("acr").GetString());
        Assert.NotNull(user);
    }

    [PrerequisiteFact]
    public async Task Authorize_AcrValuesMultiFactor_StepsUp()
    {
        var clientId = await _driver.RegisterClientAsync();
        var (_, browser) = await SignedInAsync();
        var (app, _) = await MfaDriver.EnrolAsync(browser);
        var (verifier, challenge) = OidcDriver.NewPkce();
        var parameters = OidcDriver.AuthorizeParameters(clientId, challenge);
        parameters[Parameters.AcrValues] = AuthnContextClasses.MultiFactor;

        var code = await StepUpAsync(browser, await browser.GetAsync(OidcDriver.AuthorizeUrl(parameters)), app);

        using var idToken = await IdTokenAsync(clientId, code, verifier);
        Assert.Contains("mfa", Amr(idToken));
    }

    [PrerequisiteFact]
    public async Task Authorize_PasswordOnly_IdTokenSaysPwdAndPasswordClass()
    {
        var clientId = await _driver.RegisterClientAsync();
        var (code, verifier, _, _) = await _driver.ObtainCodeAsync(clientId);

        using var idToken = await IdTokenAsync(clientId, code, verifier);

        Assert.Equal(["pwd"], Amr(idToken));
        Assert.Equal(AuthnContextClasses.PasswordProtectedTransport, idToken.RootElement.GetProperty("acr").GetString());
    }

    [PrerequisiteFact]
    public async Task Discovery_ListsThePasswordAndMfaClasses()
    {
        using var discovery = JsonDocument.Parse(await factory.CreateClient().GetStringAsync("/.well-known/openid-configuration"));

        var classes = discovery.RootElement.GetProperty("acr_values_supported").EnumerateArray().Select(e => e.GetString()).ToList();

        Assert.Equal([AuthnContextClasses.PasswordProtectedTransport, AuthnContextClasses.MultiFactor], classes);
    }

    [PrerequisiteFact]
    public async Task Authorize_PromptNoneWithoutSecondFactor_InteractionRequired()
    {
        var clientId = await _driver.RegisterClientAsync();
        var (_, browser) = await SignedInAsync();
        var (_, challenge) = OidcDriver.NewPkce();
        var parameters = OidcDriver.AuthorizeParameters(clientId, challenge);
        parameters[Parameters.AcrValues] = AuthnContextClasses.MultiFactor;
        parameters[Parameters.Prompt] = PromptValues.None;

        var response = await browser.GetAsync(OidcDriver.AuthorizeUrl(parameters));

        OidcDriver.AssertRedirectedError(response, Errors.InteractionRequired);
    }

    [PrerequisiteFact]
    public async Task ResetFactors_ByAdministrator_RemovesTotpEndsSessionsAndIsAudited()
    {
        var (user, _, _) = await EnrolledUserAsync();
        var (_, browser) = await SignedInWithCodeAsync(user);
        var admin = await AdminApiClient.CreateAdminAsync(factory);

        var reset = await admin.PostAsync($"{Users}/{user.Id}/mfa/reset", null);

        Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync(MfaDriver.SecurityPage)).StatusCode);
        await using var scope = factory.Services.CreateAsyncScope();
        Assert.False(await scope.ServiceProvider.GetRequiredService<AccountFactors>().HasTotpAsync(
            (await scope.ServiceProvider.GetRequiredService<UserManager<UserAccount>>().FindByIdAsync(user.Id))!));
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        Assert.True(await db.AuditEvents.AnyAsync(e => e.Type == AccountFactors.EventTypes.ResetByAdministrator && e.TargetId == user.Id));
        var (_, signedIn) = await SignedInAsync(user);
        Assert.Contains($"data-event=\"{AccountFactors.EventTypes.ResetByAdministrator}\"", await signedIn.GetStringAsync(MfaDriver.SecurityPage), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task SignIn_AncestorDepartmentRequiresMfa_SubtreeMemberMustEnrol()
    {
        var parent = await _driver.CreateDepartmentAsync("Finance");
        var child = await ChildDepartmentAsync(parent);
        var user = await _driver.CreateUserAsync(configure: u => u.DepartmentId = child);
        var admin = await AdminApiClient.CreateAdminAsync(factory);

        var flagged = await admin.PutAsJsonAsync($"{Departments}/{parent}/mfa", new { requireMfa = true });

        Assert.Equal(HttpStatusCode.OK, flagged.StatusCode);
        using var body = JsonDocument.Parse(await flagged.Content.ReadAsStringAsync());
        Assert.True(body.RootElement.GetProperty("requireMfa").GetBoolean());
        var browser = factory.CreateBrowserLikeClient();
        var mfaPage = await MfaDriver.PasswordStepAsync(browser, user.UserName!, OidcDriver.Password);
        Assert.Contains("data-testid=\"mfa-enrol-required\"", await browser.GetStringAsync(mfaPage), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Applications_MfaSetting_IsValidatedAndReadBack()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);

        var wrong = await admin.PostAsJsonAsync(AdminApiClient.Applications, new { name = OidcDriver.NewId("app"), mfa = "sometimes" });
        var created = await admin.PostAsJsonAsync(AdminApiClient.Applications, new { name = OidcDriver.NewId("app"), mfa = "required" });

        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.True((await AdminApiClient.ProblemAsync(wrong)).GetProperty("errors").TryGetProperty("mfa", out _));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var body = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        Assert.Equal("required", body.RootElement.GetProperty("mfa").GetString());
    }

    [PrerequisiteFact]
    [Requires(Prerequisite.Xmlsec1)]
    public async Task SamlSso_RequestedMultiFactor_StepsUpAndAnswersTheMfaClass()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var (_, browser) = await SignedInAsync();
        var (app, _) = await MfaDriver.EnrolAsync(browser);
        var requestId = SamlXml.NewId();

        var stepUp = await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(requestId, authnContextClasses: [AuthnContextClasses.MultiFactor], comparison: "minimum")));

        Assert.Equal(HttpStatusCode.Redirect, stepUp.StatusCode);
        var mfaPage = stepUp.Headers.Location!.OriginalString;
        Assert.StartsWith(MfaDriver.MfaPage, mfaPage, StringComparison.Ordinal);
        var done = await MfaDriver.SecondStepAsync(browser, mfaPage, await app.NextCodeAsync());
        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
        var post = await new IdpMessages(factory).ReadPostAsync(await browser.GetAsync(done.Headers.Location));
        var response = SamlAssert.ValidResponse(post, sp, requestId);
        Assert.Equal(AuthnContextClasses.MultiFactor, response.Text("//saml:AuthnContextClassRef"));
    }

    [PrerequisiteFact]
    [Requires(Prerequisite.Xmlsec1)]
    public async Task SamlSso_ExactUnknownClass_AnswersNoAuthnContext()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var (_, browser) = await SignedInAsync();
        var requestId = SamlXml.NewId();

        var answer = await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(requestId, authnContextClasses: ["urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard"])));

        var post = await new IdpMessages(factory).ReadPostAsync(answer);
        var view = new SamlResponseView(SafeXml.Parse(post.Xml));
        Assert.Equal(SamlStatus.Responder, view.Text("/samlp:Response/samlp:Status/samlp:StatusCode/@Value"));
        Assert.Equal(SamlStatus.NoAuthnContext, view.Text("/samlp:Response/samlp:Status/samlp:StatusCode/samlp:StatusCode/@Value"));
        Assert.Equal(requestId, view.Text("/samlp:Response/@InResponseTo"));
    }

    /// <summary>A new user with the authenticator on (enrolled from the security page in a password session).</summary>
    private async Task<(UserAccount User, TestAuthenticator App, IReadOnlyList<string> RecoveryCodes)> EnrolledUserAsync()
    {
        var (user, browser) = await SignedInAsync();
        var (app, codes) = await MfaDriver.EnrolAsync(browser);
        return (user, app, codes);
    }

    private async Task<(UserAccount User, HttpClient Browser)> SignedInAsync(UserAccount? user = null)
    {
        user ??= await _driver.CreateUserAsync();
        var browser = factory.CreateBrowserLikeClient();
        var signIn = await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal("/", signIn.Headers.Location!.OriginalString);
        return (user, browser);
    }

    private async Task<(UserAccount User, HttpClient Browser)> SignedInWithCodeAsync(UserAccount user)
    {
        var browser = factory.CreateBrowserLikeClient();
        var mfaPage = await MfaDriver.PasswordStepAsync(browser, user.UserName!, OidcDriver.Password);
        var page = await browser.GetStringAsync(mfaPage);
        Assert.DoesNotContain("totp-key", page, StringComparison.Ordinal);
        // A fresh app on the same key: the user's own app has used its steps; recovery codes keep the test off the clock.
        await using var scope = factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<UserAccount>>();
        var codes = await users.GenerateNewTwoFactorRecoveryCodesAsync((await users.FindByIdAsync(user.Id))!, 1);
        Assert.Equal(HttpStatusCode.Redirect, (await MfaDriver.SecondStepAsync(browser, mfaPage, codes!.Single(), "Recovery")).StatusCode);
        return (user, browser);
    }

    /// <summary>Follows an authorize response through the MFA page (no password asked) and returns the code.</summary>
    private static async Task<string> StepUpAsync(HttpClient browser, HttpResponseMessage authorize, TestAuthenticator app)
    {
        Assert.Equal(HttpStatusCode.Redirect, authorize.StatusCode);
        var mfaPage = authorize.Headers.Location!.OriginalString;
        Assert.StartsWith(MfaDriver.MfaPage, mfaPage, StringComparison.Ordinal);
        var done = await MfaDriver.SecondStepAsync(browser, mfaPage, await app.NextCodeAsync());
        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
        var callback = OidcDriver.CallbackParameters(await browser.GetAsync(done.Headers.Location));
        return callback[Parameters.Code];
    }

    private async Task<JsonDocument> IdTokenAsync(string clientId, string code, string verifier)
    {
        var response = await _driver.RedeemCodeAsync(clientId, code, verifier);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = await OidcDriver.JsonAsync(response);
        var token = new JsonWebToken(body.RootElement.GetProperty("id_token").GetString());
        return JsonDocument.Parse(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(token.EncodedPayload));
    }

    private static List<string?> Amr(JsonDocument idToken) =>
        [.. idToken.RootElement.GetProperty("amr").EnumerateArray().Select(e => e.GetString())];

    private async Task RequireMfaAsync(string clientId)
    {
        var applicationId = await _driver.ApplicationOfAsync(clientId);
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        await db.Applications.Where(a => a.Id == applicationId).ExecuteUpdateAsync(s => s.SetProperty(a => a.RequireMfa, true));
    }

    private async Task<Guid> ChildDepartmentAsync(Guid parent)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var path = await db.Departments.Where(d => d.Id == parent).Select(d => d.Path).SingleAsync();
        var id = Guid.NewGuid();
        db.Departments.Add(new Department { Id = id, Code = OidcDriver.NewId("D"), Name = "Payables", ParentId = parent, Path = $"{path}{id:N}/", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
        return id;
    }
}

public sealed class SqliteMfaTests(SqliteFactory<MfaForAdministrators> factory) : MfaTests<SqliteFactory<MfaForAdministrators>>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlMfaTests(PostgreSqlFactory<MfaForAdministrators> factory) : MfaTests<PostgreSqlFactory<MfaForAdministrators>>(factory);
