using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using IdentityHub.Core.Access;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Saml;
using IdentityHub.Saml.Bindings;
using IdentityHub.Saml.Protocol;
using IdentityHub.Server.IntegrationTests.Oidc;
using IdentityHub.Testing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Saml;

/// <summary>
/// Single logout both ways, and one browser session shared by OIDC and SAML (issue 5 points 1 and 6); every
/// message the IdP sends is verified by xmlsec1 (HTTP-POST) or openssl (HTTP-Redirect) through <see cref="IdpMessages"/>.
/// </summary>
[Requires(Prerequisite.Xmlsec1)]
[Requires(Prerequisite.OpenSsl)]
public abstract partial class SamlLogoutTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly OidcDriver _driver = new(factory);
    private readonly IdpMessages _messages = new(factory);

    [PrerequisiteFact]
    public async Task SpInitiatedLogout_SignedRedirect_EndsTheSessionAndAnswersASignedLogoutResponse()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var (browser, _) = await SignedInBrowserAsync();
        var login = await LoginAsync(browser, sp);
        var requestId = SamlXml.NewId();

        var response = await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Slo, sp.LogoutRequest(login.NameId, login.SessionIndex, requestId), "back-to"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith(sp.SingleLogout + "?", response.Headers.Location!.AbsoluteUri, StringComparison.Ordinal);
        var message = await _messages.ReadRedirectAsync(response, SamlParameters.Response);
        var logoutResponse = LogoutResponse.Read(SafeXml.Parse(message.Xml));
        Assert.Equal(requestId, logoutResponse.InResponseTo);
        Assert.Equal(SamlStatus.Success, logoutResponse.Status);
        Assert.Equal("back-to", message.RelayState);
        Assert.True(await NeedsLoginAsync(browser, sp), "The IdP session survived the logout.");
    }

    [PrerequisiteFact]
    public async Task SpInitiatedLogout_SignedPost_EndsTheSessionAndPostsASignedLogoutResponse()
    {
        var sp = new SamlTestSp();
        await sp.RegisterAsync(factory, sp.Registration(sloBinding: Saml2Names.HttpPostBinding));
        var (browser, _) = await SignedInBrowserAsync();
        var login = await LoginAsync(browser, sp);
        var requestId = SamlXml.NewId();

        var post = await _messages.ReadPostAsync(await browser.PostAsync("/saml/slo", sp.PostForm(sp.LogoutRequest(login.NameId, login.SessionIndex, requestId), "back-to")));

        Assert.Equal(sp.SingleLogout, post.Action.AbsoluteUri);
        Assert.Equal(SamlParameters.Response, post.Parameter);
        Assert.Equal("back-to", post.RelayState);
        var logoutResponse = LogoutResponse.Read(post.Document);
        Assert.Equal(requestId, logoutResponse.InResponseTo);
        Assert.Equal(SamlStatus.Success, logoutResponse.Status);
        Assert.True(await NeedsLoginAsync(browser, sp), "The IdP session survived the logout.");
    }

    [PrerequisiteFact]
    public async Task SpInitiatedLogout_Unsigned_IsRefusedAndTheSessionStays()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var (browser, _) = await SignedInBrowserAsync();
        var login = await LoginAsync(browser, sp);

        var response = await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Slo, sp.LogoutRequest(login.NameId, login.SessionIndex), sign: false));

        await SamlAssert.ErrorPageAsync(response, "must be signed");
        Assert.False(await NeedsLoginAsync(browser, sp));
    }

    [PrerequisiteFact]
    public async Task SpInitiatedLogout_SameRequestIdTwice_TheSecondIsRefused()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var (browser, _) = await SignedInBrowserAsync();
        var login = await LoginAsync(browser, sp);
        var url = sp.RedirectUrl(SamlTestSp.Slo, sp.LogoutRequest(login.NameId, login.SessionIndex));
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync(url)).StatusCode);

        var replay = await browser.GetAsync(url);

        await SamlAssert.ErrorPageAsync(replay, "replay");
    }

    [PrerequisiteFact]
    public async Task SpInitiatedLogout_NotOnOrAfterPassed_IsRefusedAndTheSessionStays()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var (browser, _) = await SignedInBrowserAsync();
        var login = await LoginAsync(browser, sp);

        var response = await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Slo, sp.LogoutRequest(login.NameId, login.SessionIndex, notOnOrAfter: DateTimeOffset.UtcNow.AddMinutes(-10))));

        await SamlAssert.ErrorPageAsync(response, "NotOnOrAfter");
        Assert.False(await NeedsLoginAsync(browser, sp));
    }

    [PrerequisiteFact]
    public async Task SpInitiatedLogout_OtherSamlParticipant_GetsASignedLogoutRequestThroughTheBrowser()
    {
        var first = await new SamlTestSp().RegisterAsync(factory);
        var second = new SamlTestSp();
        await second.RegisterAsync(factory, second.Registration(sloBinding: Saml2Names.HttpPostBinding));
        var (browser, _) = await SignedInBrowserAsync();
        var atFirst = await LoginAsync(browser, first);
        var atSecond = await LoginAsync(browser, second);

        var page = await browser.GetAsync(first.RedirectUrl(SamlTestSp.Slo, first.LogoutRequest(atFirst.NameId, atFirst.SessionIndex)));

        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var notice = Assert.Single(await _messages.ReadLogoutFramesAsync(html));
        var request = LogoutRequest.Read(SafeXml.Parse(notice.Xml));
        Assert.Equal(Saml2Names.HttpPostBinding, notice.Binding);
        Assert.Equal(second.SingleLogout, notice.Destination.AbsoluteUri);
        Assert.Equal(atSecond.NameId, request.NameId);
        Assert.Equal([atSecond.SessionIndex], request.SessionIndexes);
        // The page then returns the LogoutResponse to the SP that asked, by that SP's Redirect binding.
        var finish = ContinueUrl().Match(html);
        Assert.True(finish.Success, html);
        var finishUrl = WebUtility.HtmlDecode(finish.Groups[1].Value);
        Assert.StartsWith(first.SingleLogout + "?", finishUrl, StringComparison.Ordinal);
        Assert.Equal(SamlStatus.Success, LogoutResponse.Read(SafeXml.Parse((await _messages.ReadRedirectAsync(finishUrl, SamlParameters.Response)).Xml)).Status);
        Assert.True(await NeedsLoginAsync(browser, second));
    }

    [PrerequisiteFact]
    public async Task FrontChannelLogoutPage_TwoParticipants_PolicyFramesAndPostsToTheirOriginsOnly()
    {
        var byRedirect = await new SamlTestSp().RegisterAsync(factory);
        var byPost = new SamlTestSp();
        await byPost.RegisterAsync(factory, byPost.Registration(sloBinding: Saml2Names.HttpPostBinding));
        var (browser, _) = await SignedInBrowserAsync();
        await LoginAsync(browser, byRedirect);
        await LoginAsync(browser, byPost);

        var page = await LogoutAsync(browser);

        var redirectOrigin = new Uri(byRedirect.SingleLogout).GetLeftPart(UriPartial.Authority);
        var postOrigin = new Uri(byPost.SingleLogout).GetLeftPart(UriPartial.Authority);
        var policy = Directives(string.Join(",", page.Headers.GetValues("Content-Security-Policy")));
        // The srcdoc frame of the POST binding shares this policy: its form post and submit script are allowed here too.
        Assert.Equal(new[] { "'self'", redirectOrigin, postOrigin }.Order(StringComparer.Ordinal), policy["frame-src"].Order(StringComparer.Ordinal));
        Assert.Equal(new[] { "'self'", postOrigin }.Order(StringComparer.Ordinal), policy["form-action"].Order(StringComparer.Ordinal));
        Assert.Equal(["'none'"], policy["frame-ancestors"]);
        Assert.Equal("'self'", policy["script-src"][0]);
        Assert.Equal(2, policy["script-src"].Count(source => source.StartsWith("'sha256-", StringComparison.Ordinal)));
        Assert.DoesNotContain("style=", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task LogoutResponse_ShownInOurFrame_MayBeFramedByUsOnly()
    {
        var (sp, requestId) = await NotifiedSpAsync();

        var ok = await factory.CreateBrowserLikeClient().GetAsync(sp.RedirectUrl(SamlTestSp.Slo, sp.LogoutResponse(requestId), parameter: SamlParameters.Response));

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(["'self'"], Directives(string.Join(",", ok.Headers.GetValues("Content-Security-Policy")))["frame-ancestors"]);
        Assert.Equal("SAMEORIGIN", string.Join(",", ok.Headers.GetValues("X-Frame-Options")), ignoreCase: true);
    }

    [PrerequisiteFact]
    public async Task AccountLogout_SamlParticipant_IsSentARedirectLogoutRequest()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var (browser, _) = await SignedInBrowserAsync();
        var login = await LoginAsync(browser, sp);

        var html = await (await LogoutAsync(browser)).Content.ReadAsStringAsync();

        var frame = Assert.Single(await _messages.ReadLogoutFramesAsync(html));
        Assert.Equal(Saml2Names.HttpRedirectBinding, frame.Binding);
        Assert.Equal(sp.SingleLogout, frame.Destination.AbsoluteUri);
        Assert.Equal(login.NameId, LogoutRequest.Read(SafeXml.Parse(frame.Xml)).NameId);
        Assert.Contains("/account/login", html, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task LogoutResponse_FromTheSpWeNotified_IsVerifiedAndAcknowledged()
    {
        var (sp, requestId) = await NotifiedSpAsync();
        var xml = sp.LogoutResponse(requestId);

        var forged = await factory.CreateBrowserLikeClient().GetAsync(new SamlTestSp().RedirectUrl(SamlTestSp.Slo, xml, parameter: SamlParameters.Response));
        var ok = await factory.CreateBrowserLikeClient().GetAsync(sp.RedirectUrl(SamlTestSp.Slo, xml, parameter: SamlParameters.Response));

        await SamlAssert.ErrorPageAsync(forged, "registered certificate");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains("signed out", await ok.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task LogoutResponse_InResponseToNoRequestWeSent_IsRefused()
    {
        var (sp, _) = await NotifiedSpAsync();

        var response = await factory.CreateBrowserLikeClient().GetAsync(sp.RedirectUrl(SamlTestSp.Slo, sp.LogoutResponse("_never-sent"), parameter: SamlParameters.Response));

        await SamlAssert.ErrorPageAsync(response, "does not answer a LogoutRequest");
    }

    [PrerequisiteFact]
    public async Task LogoutResponse_SecondAnswerToTheSameRequest_IsRefused()
    {
        var (sp, requestId) = await NotifiedSpAsync();
        var first = await factory.CreateBrowserLikeClient().GetAsync(sp.RedirectUrl(SamlTestSp.Slo, sp.LogoutResponse(requestId), parameter: SamlParameters.Response));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        var second = await factory.CreateBrowserLikeClient().GetAsync(sp.RedirectUrl(SamlTestSp.Slo, sp.LogoutResponse(requestId), parameter: SamlParameters.Response));

        await SamlAssert.ErrorPageAsync(second, "already answered");
    }

    [PrerequisiteFact]
    public async Task LogoutResponse_FromAnotherSpThanTheOneAsked_IsRefused()
    {
        var (_, requestId) = await NotifiedSpAsync();
        var other = await new SamlTestSp().RegisterAsync(factory);

        var response = await factory.CreateBrowserLikeClient().GetAsync(other.RedirectUrl(SamlTestSp.Slo, other.LogoutResponse(requestId), parameter: SamlParameters.Response));

        await SamlAssert.ErrorPageAsync(response, "does not answer a LogoutRequest");
    }

    [PrerequisiteFact]
    public async Task IdpMessages_RedirectAlteredAfterSigning_FailsOpenssl()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var (browser, _) = await SignedInBrowserAsync();
        var login = await LoginAsync(browser, sp);
        var response = await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Slo, sp.LogoutRequest(login.NameId, login.SessionIndex), "original"));
        var url = response.Headers.Location!.OriginalString;
        Assert.Contains("RelayState=original", url, StringComparison.Ordinal);

        // The check these tests rely on can fail: a RelayState swapped after signing breaks the query-string signature.
        await Assert.ThrowsAsync<Xunit.Sdk.TrueException>(() => _messages.ReadRedirectAsync(url.Replace("RelayState=original", "RelayState=swapped", StringComparison.Ordinal), SamlParameters.Response));
    }

    [PrerequisiteFact]
    public async Task OneSession_SignedInThroughOidc_SamlSpGetsAResponseWithoutAPasswordAndLogoutEndsBoth()
    {
        var clientId = await _driver.RegisterClientAsync(configure: d =>
            d.Properties[ClientProperties.BackchannelLogoutUri] = JsonSerializer.SerializeToElement("https://rp.example/backchannel"));
        var (_, _, browser, _) = await _driver.ObtainCodeAsync(clientId);
        var sp = await new SamlTestSp().RegisterAsync(factory);

        // No login page in between: the OIDC sign-in's session answers the SAML SP.
        var login = await LoginAsync(browser, sp);
        var logout = await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Slo, sp.LogoutRequest(login.NameId, login.SessionIndex)));

        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.True(await NeedsLoginAsync(browser, sp));
        var (_, challenge) = OidcDriver.NewPkce();
        var authorize = await browser.GetAsync(OidcDriver.AuthorizeUrl(OidcDriver.AuthorizeParameters(clientId, challenge)));
        Assert.Equal(HttpStatusCode.Redirect, authorize.StatusCode);
        Assert.StartsWith("/account/login", authorize.Headers.Location!.OriginalString, StringComparison.Ordinal);
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        Assert.True(await db.BackchannelLogoutDeliveries.AnyAsync(d => d.ClientId == clientId && d.Sid == login.SessionIndex),
            "The OIDC client of the same session was not queued a back-channel logout.");
    }

    [PrerequisiteFact]
    public async Task OidcEndSession_SamlParticipant_IsToldThenTheRpIsRedirectedWithItsState()
    {
        var clientId = await _driver.RegisterClientAsync();
        var (code, verifier, browser, _) = await _driver.ObtainCodeAsync(clientId);
        using var tokens = await OidcDriver.JsonAsync(await _driver.RedeemCodeAsync(clientId, code, verifier));
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var login = await LoginAsync(browser, sp);

        var page = await browser.GetAsync(QueryHelpers.AddQueryString("/connect/endsession", new Dictionary<string, string?>
        {
            ["id_token_hint"] = tokens.RootElement.GetProperty("id_token").GetString(),
            ["client_id"] = clientId,
            ["post_logout_redirect_uri"] = OidcDriver.PostLogoutRedirectUri,
            ["state"] = "bye-saml",
        }));

        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var frame = Assert.Single(await _messages.ReadLogoutFramesAsync(html));
        Assert.Equal(login.NameId, LogoutRequest.Read(SafeXml.Parse(frame.Xml)).NameId);
        // The page continues to the same end-session request, which now finds no session and redirects.
        var again = ContinueUrl().Match(html);
        Assert.True(again.Success, html);
        var finish = await browser.GetAsync(WebUtility.HtmlDecode(again.Groups[1].Value));
        Assert.Equal(HttpStatusCode.Redirect, finish.StatusCode);
        Assert.Equal(OidcDriver.PostLogoutRedirectUri + "?state=bye-saml", finish.Headers.Location!.ToString());
        Assert.True(await NeedsLoginAsync(browser, sp));
    }

    [PrerequisiteFact]
    public async Task TransientNameId_TwoSessionsOfOneUser_EachHasItsOwnAndLogoutNamesIt()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var (first, user) = await SignedInBrowserAsync();
        var second = factory.CreateBrowserLikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await BrowserSession.SignInAsync(second, user.UserName!, OidcDriver.Password)).StatusCode);

        var atFirst = await LoginAsync(first, sp, NameIdFormats.Transient);
        var againAtFirst = await LoginAsync(first, sp, NameIdFormats.Transient);
        var atSecond = await LoginAsync(second, sp, NameIdFormats.Transient);

        Assert.Equal(atFirst.NameId, againAtFirst.NameId);
        Assert.NotEqual(atFirst.NameId, atSecond.NameId);
        Assert.Matches("^_[0-9a-f]{32}$", atSecond.NameId);
        // IdentityHub ending the second session tells the SP that session's NameID.
        var frame = Assert.Single(await _messages.ReadLogoutFramesAsync(await (await LogoutAsync(second)).Content.ReadAsStringAsync()));
        var told = SafeXml.Parse(frame.Xml);
        Assert.Equal(atSecond.NameId, LogoutRequest.Read(told).NameId);
        Assert.Equal(NameIdFormats.Transient, new SamlResponseView(told).Text("//saml:NameID/@Format"));
        // The SP ending the first session: another session's NameID does not end it, its own does.
        await first.GetAsync(sp.RedirectUrl(SamlTestSp.Slo, sp.LogoutRequest(atSecond.NameId, atFirst.SessionIndex)));
        Assert.False(await NeedsLoginAsync(first, sp), "A LogoutRequest naming another session's transient NameID ended this one.");
        var ended = await first.GetAsync(sp.RedirectUrl(SamlTestSp.Slo, sp.LogoutRequest(atFirst.NameId, atFirst.SessionIndex)));
        Assert.Equal(SamlStatus.Success, LogoutResponse.Read(SafeXml.Parse((await _messages.ReadRedirectAsync(ended, SamlParameters.Response)).Xml)).Status);
        Assert.True(await NeedsLoginAsync(first, sp), "The SP's LogoutRequest with the session's transient NameID left it alive.");
    }

    private sealed record Login(string NameId, string SessionIndex, string Format);

    private async Task<(HttpClient Browser, UserAccount User)> SignedInBrowserAsync()
    {
        var user = await _driver.CreateUserAsync();
        var browser = factory.CreateBrowserLikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password)).StatusCode);
        return (browser, user);
    }

    private async Task<Login> LoginAsync(HttpClient browser, SamlTestSp sp, string? nameIdPolicyFormat = null)
    {
        var requestId = SamlXml.NewId();
        var post = await _messages.ReadPostAsync(await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(requestId, nameIdPolicyFormat: nameIdPolicyFormat))));
        var view = SamlAssert.ValidResponse(post, sp, requestId);
        var login = new Login(view.Text("//saml:Subject/saml:NameID")!, view.Text("//saml:AuthnStatement/@SessionIndex")!, view.Text("//saml:Subject/saml:NameID/@Format")!);
        Assert.Equal(nameIdPolicyFormat ?? NameIdFormats.Persistent, login.Format);
        return login;
    }

    /// <summary>An SP a user signed in to and then out of at IdentityHub: it was sent a LogoutRequest, whose ID is returned.</summary>
    private async Task<(SamlTestSp Sp, string RequestId)> NotifiedSpAsync()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var (browser, _) = await SignedInBrowserAsync();
        await LoginAsync(browser, sp);
        var frame = Assert.Single(await _messages.ReadLogoutFramesAsync(await (await LogoutAsync(browser)).Content.ReadAsStringAsync()));
        return (sp, LogoutRequest.Read(SafeXml.Parse(frame.Xml)).Id);
    }

    private static Dictionary<string, string[]> Directives(string policy) =>
        policy.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(directive => directive.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(parts => parts[0], parts => parts[1..]);

    private static async Task<bool> NeedsLoginAsync(HttpClient browser, SamlTestSp sp)
    {
        var response = await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest()));
        return response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location!.OriginalString.StartsWith("/account/login", StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> LogoutAsync(HttpClient browser)
    {
        var page = await browser.GetStringAsync("/account/applications");
        return await browser.PostAsync("/account/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(page),
        }));
    }

    [GeneratedRegex("data-continue=\"([^\"]+)\"")]
    private static partial Regex ContinueUrl();
}

public sealed class SqliteSamlLogoutTests(SqliteFactory factory) : SamlLogoutTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlSamlLogoutTests(PostgreSqlFactory factory) : SamlLogoutTests<PostgreSqlFactory>(factory);
