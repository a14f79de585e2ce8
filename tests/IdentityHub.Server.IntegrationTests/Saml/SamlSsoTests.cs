using System.Net;
using IdentityHub.Data.Directory;
using IdentityHub.Saml;
using IdentityHub.Saml.Protocol;
using IdentityHub.Server.IntegrationTests.Oidc;
using IdentityHub.Testing;

namespace IdentityHub.Server.IntegrationTests.Saml;

/// <summary>SP-initiated and IdP-initiated login, and the defences of issue 5 point 4 at the HTTP endpoints.</summary>
[Requires(Prerequisite.Xmlsec1)]
public abstract class SamlSsoTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly OidcDriver _driver = new(factory);
    private readonly IdpMessages _messages = new(factory);

    [PrerequisiteFact]
    public async Task SsoRedirect_SignedRequest_LoginPageThenSignedResponseWithAttributes()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var department = await _driver.CreateDepartmentAsync("Finance");
        var user = await _driver.CreateUserAsync(configure: u => u.DepartmentId = department);
        await _driver.GrantApplicationRoleAsync(user, sp.ApplicationId, "expense-approver");
        var requestId = SamlXml.NewId();
        var browser = factory.CreateBrowserLikeClient();

        var anonymous = await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(requestId), relayState: "deep/link?x=1"));
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        Assert.StartsWith("/account/login", anonymous.Headers.Location!.OriginalString, StringComparison.Ordinal);
        var returnUrl = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(new Uri(SamlTestSp.IdpBase), anonymous.Headers.Location).Query)["ReturnUrl"].ToString();
        var signIn = await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password, returnUrl);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        var post = await _messages.ReadPostAsync(await browser.GetAsync(signIn.Headers.Location));

        Assert.Equal(sp.Acs, post.Action.AbsoluteUri);
        Assert.Equal("deep/link?x=1", post.RelayState);
        var response = SamlAssert.ValidResponse(post, sp, requestId);
        Assert.Equal(user.Email, response.Attribute("email").Single());
        Assert.Equal(user.EmployeeNumber, response.Attribute("employeeNumber").Single());
        Assert.Equal("Finance", response.Attribute("department").Single());
        Assert.Equal("Test Person", response.Attribute("name").Single());
        Assert.Contains("expense-approver", response.Attribute("roles"));
        Assert.Equal(AuthnContextClasses.PasswordProtectedTransport, response.Text("//saml:AuthnContextClassRef"));
        Assert.Equal(NameIdFormats.Persistent, response.Text("//saml:Subject/saml:NameID/@Format"));
    }

    [PrerequisiteFact]
    public async Task SsoPost_SignedRequestSignedIn_PostsResponseWithoutAskingAgain()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var (browser, _) = await SignedInBrowserAsync();
        var requestId = SamlXml.NewId();

        var post = await _messages.ReadPostAsync(await browser.PostAsync("/saml/sso", sp.PostForm(sp.AuthnRequest(requestId), "rs")));

        Assert.Equal("rs", post.RelayState);
        SamlAssert.ValidResponse(post, sp, requestId);
    }

    [PrerequisiteFact]
    public async Task Sso_ForceAuthnSignedIn_AsksForThePasswordAgainThenAnswers()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var (browser, user) = await SignedInBrowserAsync();
        var requestId = SamlXml.NewId();

        var response = await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(requestId, forceAuthn: true)));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/login", response.Headers.Location!.OriginalString, StringComparison.Ordinal);
        var resume = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(new Uri(SamlTestSp.IdpBase), response.Headers.Location).Query)["ReturnUrl"].ToString();
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync(resume)).StatusCode);
        var signIn = await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password, resume);
        var post = await _messages.ReadPostAsync(await browser.GetAsync(signIn.Headers.Location));
        SamlAssert.ValidResponse(post, sp, requestId);
    }

    [PrerequisiteFact]
    public async Task Sso_PersistentNameId_IsStablePerSpAndDiffersBetweenSps()
    {
        var first = await new SamlTestSp().RegisterAsync(factory);
        var second = await new SamlTestSp().RegisterAsync(factory);
        var (browser, _) = await SignedInBrowserAsync();

        var a1 = await LoginAsync(browser, first);
        var a2 = await LoginAsync(browser, first);
        var b = await LoginAsync(browser, second);

        Assert.Equal(a1.Text("//saml:Subject/saml:NameID"), a2.Text("//saml:Subject/saml:NameID"));
        Assert.NotEqual(a1.Text("//saml:Subject/saml:NameID"), b.Text("//saml:Subject/saml:NameID"));
    }

    [PrerequisiteFact]
    public async Task Sso_UnspecifiedFormat_SendsTheEmployeeNumber()
    {
        var sp = new SamlTestSp();
        await sp.RegisterAsync(factory, sp.Registration(nameIdFormat: "unspecified"));
        var (browser, user) = await SignedInBrowserAsync();

        var response = await LoginAsync(browser, sp);

        Assert.Equal(user.EmployeeNumber, response.Text("//saml:Subject/saml:NameID"));
    }

    [PrerequisiteFact]
    public async Task IdpInitiated_SignedIn_PostsUnsolicitedResponseToTheDefaultAcs()
    {
        var sp = new SamlTestSp();
        await sp.RegisterAsync(factory, sp.Registration(allowIdpInitiated: true));
        var (browser, _) = await SignedInBrowserAsync();

        var post = await _messages.ReadPostAsync(await browser.GetAsync($"/saml/idp-initiated?sp={sp.ApplicationId}&RelayState=home"));

        var response = SamlAssert.ValidResponse(post, sp, inResponseTo: null);
        Assert.Null(response.Document.DocumentElement!.GetAttributeNode("InResponseTo"));
        Assert.Equal("home", post.RelayState);
    }

    [PrerequisiteFact]
    public async Task IdpInitiated_SpNotAllowingIt_ShowsTheErrorPageAndPostsNothing()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var (browser, _) = await SignedInBrowserAsync();

        var response = await browser.GetAsync($"/saml/idp-initiated?sp={sp.ApplicationId}");

        await SamlAssert.ErrorPageAsync(response, "does not accept IdP-initiated login", HttpStatusCode.Forbidden);
        Assert.DoesNotContain(sp.Acs, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task IdpInitiated_UnknownSp_ShowsTheErrorPageAndPostsNothing()
    {
        var (browser, _) = await SignedInBrowserAsync();

        var response = await browser.GetAsync("/saml/idp-initiated?sp=" + Uri.EscapeDataString("https://unknown-sp.example.test/saml"));

        await SamlAssert.ErrorPageAsync(response, "No SAML service provider", HttpStatusCode.NotFound);
    }

    [PrerequisiteFact]
    public async Task Resume_LinkUsedAgainAfterTheResponse_ShowsTheErrorPageNotASecondResponse()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var user = await _driver.CreateUserAsync();
        var browser = factory.CreateBrowserLikeClient();
        var requestId = SamlXml.NewId();
        var resume = await ResumeLinkAsync(browser, sp, requestId);
        var signIn = await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password, resume);
        SamlAssert.ValidResponse(await _messages.ReadPostAsync(await browser.GetAsync(signIn.Headers.Location)), sp, requestId);

        var again = await browser.GetAsync(resume);

        await SamlAssert.ErrorPageAsync(again, "already answered");
    }

    [PrerequisiteFact]
    public async Task Resume_LinkOpenedInAnotherBrowser_IsRefused()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var resume = await ResumeLinkAsync(factory.CreateBrowserLikeClient(), sp, SamlXml.NewId());
        var (otherBrowser, _) = await SignedInBrowserAsync();

        var response = await otherBrowser.GetAsync(resume);

        await SamlAssert.ErrorPageAsync(response, "another browser");
    }

    [PrerequisiteFact]
    public async Task Sso_PasswordSignIn_AuthnContextIsPasswordProtectedTransportFromTheSessionsAmr()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var (browser, _) = await SignedInBrowserAsync();
        // Every request re-validates the session in these tests (Account:RevalidationInterval 0): amr must survive that.
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/account/applications")).StatusCode);

        var response = await LoginAsync(browser, sp);

        Assert.Equal(AuthnContextClasses.PasswordProtectedTransport, response.Text("//saml:AuthnStatement/saml:AuthnContext/saml:AuthnContextClassRef"));
    }

    [PrerequisiteFact]
    public async Task Sso_UnknownSp_ShowsAnErrorPageAndNeverRedirects()
    {
        var stranger = new SamlTestSp();
        var browser = factory.CreateBrowserLikeClient();

        var response = await browser.GetAsync(stranger.RedirectUrl(SamlTestSp.Sso, stranger.AuthnRequest()));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("not registered", body, StringComparison.Ordinal);
        Assert.DoesNotContain(stranger.Acs, body, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Sso_UnregisteredAcsUrl_IsRefused()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);

        var response = await factory.CreateBrowserLikeClient().GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(acs: "https://evil.example/acs")));

        await SamlAssert.ErrorPageAsync(response, "AssertionConsumerServiceURL");
    }

    [PrerequisiteTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Sso_UnsignedRequestFromASigningSp_AnswersRequestDeniedToTheAcs(bool signedIn)
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var browser = signedIn ? (await SignedInBrowserAsync()).Browser : factory.CreateBrowserLikeClient();
        var requestId = SamlXml.NewId();

        var post = await _messages.ReadPostAsync(await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(requestId), "rs", sign: false)));

        var response = new SamlResponseView(post.Document);
        Assert.Equal(sp.Acs, post.Action.AbsoluteUri);
        Assert.Equal(SamlStatus.Requester, response.Text("/samlp:Response/samlp:Status/samlp:StatusCode/@Value"));
        Assert.Equal(SamlStatus.RequestDenied, response.Text("//samlp:StatusCode/samlp:StatusCode/@Value"));
        Assert.Equal(requestId, response.Text("/samlp:Response/@InResponseTo"));
        Assert.NotNull(response.Text("/samlp:Response/ds:Signature"));
        Assert.Null(response.Text("//saml:Assertion"));
    }

    [PrerequisiteTheory]
    [InlineData(NameIdFormats.EmailAddress)]
    [InlineData("urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos")]
    public async Task Sso_NameIdPolicyFormatTheSpMayNotGet_AnswersInvalidNameIdPolicy(string format)
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var (browser, _) = await SignedInBrowserAsync();
        var requestId = SamlXml.NewId();

        var post = await _messages.ReadPostAsync(await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(requestId, nameIdPolicyFormat: format))));

        var response = new SamlResponseView(post.Document);
        Assert.Equal(SamlStatus.InvalidNameIdPolicy, response.Text("//samlp:StatusCode/samlp:StatusCode/@Value"));
        Assert.Equal(requestId, response.Text("/samlp:Response/@InResponseTo"));
        Assert.Null(response.Text("//saml:Assertion"));
    }

    [PrerequisiteTheory]
    [InlineData(NameIdFormats.Persistent)]
    [InlineData(NameIdFormats.Unspecified)]
    public async Task Sso_NameIdPolicyFormatRegisteredOrUnspecified_NameIdCarriesTheRegisteredFormat(string format)
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var (browser, _) = await SignedInBrowserAsync();
        var requestId = SamlXml.NewId();

        var post = await _messages.ReadPostAsync(await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(requestId, nameIdPolicyFormat: format))));

        var response = SamlAssert.ValidResponse(post, sp, requestId);
        Assert.Equal(NameIdFormats.Persistent, response.Text("//saml:Subject/saml:NameID/@Format"));
    }

    [PrerequisiteFact]
    public async Task Sso_RedirectSignatureByAnotherKey_IsRefused()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var impostor = new SamlTestSp();
        var xml = sp.AuthnRequest();

        var response = await factory.CreateBrowserLikeClient().GetAsync(impostor.RedirectUrl(SamlTestSp.Sso, xml));

        await SamlAssert.ErrorPageAsync(response, "registered certificate");
    }

    [PrerequisiteFact]
    public async Task Sso_ReplayedRequest_IsRefused()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var url = sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest());
        var browser = factory.CreateBrowserLikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync(url)).StatusCode);

        var replay = await browser.GetAsync(url);

        await SamlAssert.ErrorPageAsync(replay, "replay");
    }

    [PrerequisiteFact]
    public async Task Sso_IssueInstantTooOld_IsRefused()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);

        var response = await factory.CreateBrowserLikeClient().GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(issued: DateTimeOffset.UtcNow.AddHours(-1))));

        await SamlAssert.ErrorPageAsync(response, "too old");
    }

    [PrerequisiteFact]
    public async Task Sso_IssueInstantInTheFuture_IsRefused()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);

        var response = await factory.CreateBrowserLikeClient().GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(issued: DateTimeOffset.UtcNow.AddHours(1))));

        await SamlAssert.ErrorPageAsync(response, "future");
    }

    [PrerequisiteFact]
    public async Task Sso_DestinationOfAnotherEndpoint_IsRefused()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);

        var response = await factory.CreateBrowserLikeClient().GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(destination: new Uri("https://other-idp.example/sso"))));

        await SamlAssert.ErrorPageAsync(response, "Destination");
    }

    [PrerequisiteFact]
    public async Task Sso_RelayStateOver80Bytes_IsRefused()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);

        var response = await factory.CreateBrowserLikeClient().PostAsync("/saml/sso", sp.PostForm(sp.AuthnRequest(), new string('r', 81)));

        await SamlAssert.ErrorPageAsync(response, "80 bytes");
    }

    [PrerequisiteFact]
    public async Task Sso_OversizedRedirectPayload_IsRefusedBeforeInflating()
    {
        var response = await factory.CreateBrowserLikeClient().GetAsync("/saml/sso?SAMLRequest=" + new string('A', 20_000));

        await SamlAssert.ErrorPageAsync(response, "longer than");
    }

    [PrerequisiteFact]
    public async Task Sso_DoctypeInRequest_IsRefused()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var xxe = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" + sp.AuthnRequest().Replace(sp.EntityId, "&x;", StringComparison.Ordinal);

        var response = await factory.CreateBrowserLikeClient().PostAsync("/saml/sso", sp.PostForm(xxe, sign: false));

        await SamlAssert.ErrorPageAsync(response, "DTD");
    }

    [PrerequisiteFact]
    public async Task Sso_IsPassiveAnonymous_AnswersNoPassiveToTheAcs()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var requestId = SamlXml.NewId();

        var post = await _messages.ReadPostAsync(await factory.CreateBrowserLikeClient().GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(requestId, isPassive: true))));

        var response = new SamlResponseView(post.Document);
        Assert.Equal(SamlStatus.NoPassive, response.Text("//samlp:StatusCode/samlp:StatusCode/@Value"));
        Assert.Equal(requestId, response.Text("/samlp:Response/@InResponseTo"));
        Assert.NotNull(response.Text("/samlp:Response/ds:Signature"));
    }

    private async Task<(HttpClient Browser, UserAccount User)> SignedInBrowserAsync()
    {
        var user = await _driver.CreateUserAsync();
        var browser = factory.CreateBrowserLikeClient();
        var signIn = await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        return (browser, user);
    }

    /// <summary>Sends an AuthnRequest from an anonymous browser and returns the resume link the login page would go back to.</summary>
    private static async Task<string> ResumeLinkAsync(HttpClient browser, SamlTestSp sp, string requestId)
    {
        var anonymous = await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(requestId)));
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        var resume = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(new Uri(SamlTestSp.IdpBase), anonymous.Headers.Location!).Query)["ReturnUrl"].ToString();
        Assert.StartsWith("/saml/sso/resume?p=", resume, StringComparison.Ordinal);
        return resume;
    }

    private async Task<SamlResponseView> LoginAsync(HttpClient browser, SamlTestSp sp)
    {
        var requestId = SamlXml.NewId();
        var post = await _messages.ReadPostAsync(await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(requestId))));
        return SamlAssert.ValidResponse(post, sp, requestId);
    }
}

public sealed class SqliteSamlSsoTests(SqliteFactory factory) : SamlSsoTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlSamlSsoTests(PostgreSqlFactory factory) : SamlSsoTests<PostgreSqlFactory>(factory);
