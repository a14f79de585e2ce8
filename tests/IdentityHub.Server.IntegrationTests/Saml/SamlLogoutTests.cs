using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Saml;
using IdentityHub.Saml.Bindings;
using IdentityHub.Saml.Protocol;
using IdentityHub.Saml.Signing;
using IdentityHub.Server.IntegrationTests.Oidc;
using IdentityHub.Server.Oidc;
using IdentityHub.Testing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Saml;

/// <summary>Single logout both ways, and one browser session shared by OIDC and SAML (issue 5 points 1 and 6).</summary>
[Requires(Prerequisite.Xmlsec1)]
public abstract partial class SamlLogoutTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly OidcDriver _driver = new(factory);

    [PrerequisiteFact]
    public async Task SpInitiatedLogout_SignedRedirect_EndsTheSessionAndAnswersASignedLogoutResponse()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var (browser, _) = await SignedInBrowserAsync();
        var login = await LoginAsync(browser, sp);
        var requestId = SamlXml.NewId();

        var response = await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Slo, sp.LogoutRequest(login.NameId, login.SessionIndex, requestId), "back-to"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith(sp.SingleLogout + "?", location.AbsoluteUri, StringComparison.Ordinal);
        var message = RedirectBinding.Decode(location.Query, SamlParameters.Response);
        SignatureValidation.VerifyRedirect(message, await IdpCertificateAsync());
        var logoutResponse = LogoutResponse.Read(SafeXml.Parse(message.Xml));
        Assert.Equal(requestId, logoutResponse.InResponseTo);
        Assert.Equal(SamlStatus.Success, logoutResponse.Status);
        Assert.Equal("back-to", message.RelayState);
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
        var notice = PostedLogoutRequest(html);
        SignatureValidation.VerifyEnveloped(SafeXml.Parse(notice.Xml).DocumentElement!, await IdpCertificateAsync());
        var request = LogoutRequest.Read(SafeXml.Parse(notice.Xml));
        Assert.Equal(second.SingleLogout, notice.Action);
        Assert.Equal(atSecond.NameId, request.NameId);
        Assert.Equal([atSecond.SessionIndex], request.SessionIndexes);
        // The page then returns the LogoutResponse to the SP that asked.
        Assert.Contains(JsonSerializer.Serialize(first.SingleLogout).Trim('"'), html, StringComparison.Ordinal);
        Assert.True(await NeedsLoginAsync(browser, second));
    }

    [PrerequisiteFact]
    public async Task AccountLogout_SamlParticipant_IsSentARedirectLogoutRequest()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var (browser, _) = await SignedInBrowserAsync();
        var login = await LoginAsync(browser, sp);

        var html = await (await LogoutAsync(browser)).Content.ReadAsStringAsync();

        var frame = RedirectFrame().Match(html);
        Assert.True(frame.Success, html);
        var url = new Uri(WebUtility.HtmlDecode(frame.Groups[1].Value));
        Assert.Equal(sp.SingleLogout, url.GetLeftPart(UriPartial.Path));
        var message = RedirectBinding.Decode(url.Query, SamlParameters.Request);
        SignatureValidation.VerifyRedirect(message, await IdpCertificateAsync());
        Assert.Equal(login.NameId, LogoutRequest.Read(SafeXml.Parse(message.Xml)).NameId);
        Assert.Contains("/account/login", html, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task LogoutResponse_FromTheSpWeNotified_IsVerifiedAndAcknowledged()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var xml = $"""<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{SamlXml.NewId()}" Version="2.0" IssueInstant="{SamlXml.Instant(DateTimeOffset.UtcNow)}" Destination="{SamlTestSp.Slo}" InResponseTo="_x"><saml:Issuer>{sp.EntityId}</saml:Issuer><samlp:Status><samlp:StatusCode Value="{SamlStatus.Success}"/></samlp:Status></samlp:LogoutResponse>""";

        var ok = await factory.CreateBrowserLikeClient().GetAsync(sp.RedirectUrl(SamlTestSp.Slo, xml, parameter: SamlParameters.Response));
        var forged = await factory.CreateBrowserLikeClient().GetAsync(new SamlTestSp().RedirectUrl(SamlTestSp.Slo, xml, parameter: SamlParameters.Response));

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains("signed out", await ok.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await SamlAssert.ErrorPageAsync(forged, "registered certificate");
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
        var frame = RedirectFrame().Match(html);
        Assert.True(frame.Success, html);
        var message = RedirectBinding.Decode(new Uri(WebUtility.HtmlDecode(frame.Groups[1].Value)).Query, SamlParameters.Request);
        Assert.Equal(login.NameId, LogoutRequest.Read(SafeXml.Parse(message.Xml)).NameId);
        // The page continues to the same end-session request, which now finds no session and redirects.
        var again = ContinueUrl().Match(html);
        Assert.True(again.Success, html);
        var finish = await browser.GetAsync(JsonSerializer.Deserialize<string>(again.Groups[1].Value));
        Assert.Equal(HttpStatusCode.Redirect, finish.StatusCode);
        Assert.Equal(OidcDriver.PostLogoutRedirectUri + "?state=bye-saml", finish.Headers.Location!.ToString());
        Assert.True(await NeedsLoginAsync(browser, sp));
    }

    private sealed record Login(string NameId, string SessionIndex);

    private sealed record Posted(string Action, string Xml);

    private async Task<(HttpClient Browser, UserAccount User)> SignedInBrowserAsync()
    {
        var user = await _driver.CreateUserAsync();
        var browser = factory.CreateBrowserLikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password)).StatusCode);
        return (browser, user);
    }

    private async Task<Login> LoginAsync(HttpClient browser, SamlTestSp sp)
    {
        var requestId = SamlXml.NewId();
        var post = await SamlTestSp.ReadAutoPostAsync(await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(requestId))));
        var view = await SamlAssert.ValidResponseAsync(factory, post, sp, requestId);
        return new Login(view.Text("//saml:Subject/saml:NameID")!, view.Text("//saml:AuthnStatement/@SessionIndex")!);
    }

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

    private async Task<System.Security.Cryptography.X509Certificates.X509Certificate2> IdpCertificateAsync() =>
        System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(await Xmlsec1.MetadataCertificatePemAsync(factory.CreateClient()));

    /// <summary>The LogoutRequest inside a frame's srcdoc (POST binding).</summary>
    private static Posted PostedLogoutRequest(string html)
    {
        var srcdoc = SrcdocFrame().Match(html);
        Assert.True(srcdoc.Success, html);
        var inner = WebUtility.HtmlDecode(srcdoc.Groups[1].Value);
        var form = FormFields().Match(inner);
        Assert.True(form.Success, inner);
        return new Posted(WebUtility.HtmlDecode(form.Groups[1].Value), System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(form.Groups[2].Value)));
    }

    [GeneratedRegex("<iframe class=\"slo\" title=\"[^\"]*\" src=\"([^\"]+)\"")]
    private static partial Regex RedirectFrame();

    [GeneratedRegex("location\\.replace\\((\"[^\"]+\")\\)")]
    private static partial Regex ContinueUrl();

    [GeneratedRegex("<iframe class=\"slo\" title=\"[^\"]*\" srcdoc=\"([^\"]+)\"")]
    private static partial Regex SrcdocFrame();

    [GeneratedRegex("action=\"([^\"]+)\"><input type=\"hidden\" name=\"SAMLRequest\" value=\"([^\"]+)\"")]
    private static partial Regex FormFields();
}

public sealed class SqliteSamlLogoutTests(SqliteFactory factory) : SamlLogoutTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlSamlLogoutTests(PostgreSqlFactory factory) : SamlLogoutTests<PostgreSqlFactory>(factory);
