using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using IdentityHub.Data.Directory;
using IdentityHub.Saml;
using IdentityHub.Saml.Protocol;
using IdentityHub.Server.IntegrationTests.Oidc;
using IdentityHub.Testing;
using Xunit.Sdk;

namespace IdentityHub.Server.IntegrationTests.Saml;

/// <summary>
/// What the Response carries for each registration choice (signing switches, encryption, NameID format,
/// attribute names, ACS by index) and its error shapes; every one verified with xmlsec1 by <see cref="IdpMessages"/>.
/// </summary>
[Requires(Prerequisite.Xmlsec1)]
public abstract class SamlResponseContentTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly OidcDriver _driver = new(factory);
    private readonly IdpMessages _messages = new(factory);

    [PrerequisiteFact]
    public async Task Sso_SignResponseOnly_ResponseIsSignedAndTheAssertionIsNot()
    {
        var sp = new SamlTestSp();
        await sp.RegisterAsync(factory, sp.Registration(signResponse: true, signAssertion: false));

        var response = await LoginAsync(await SignedInBrowserAsync(), sp);

        Assert.NotNull(response.Text("/samlp:Response/ds:Signature"));
        Assert.Null(response.Text("/samlp:Response/saml:Assertion/ds:Signature"));
    }

    [PrerequisiteFact]
    public async Task Sso_SignAssertionOnly_AssertionIsSignedAndTheResponseIsNot()
    {
        var sp = new SamlTestSp();
        await sp.RegisterAsync(factory, sp.Registration(signResponse: false, signAssertion: true));

        var response = await LoginAsync(await SignedInBrowserAsync(), sp);

        Assert.Null(response.Text("/samlp:Response/ds:Signature"));
        Assert.NotNull(response.Text("/samlp:Response/saml:Assertion/ds:Signature"));
    }

    [PrerequisiteFact]
    public async Task Sso_NeitherSwitch_TheAssertionIsSignedAnyway()
    {
        var sp = new SamlTestSp();
        await sp.RegisterAsync(factory, sp.Registration(signResponse: false, signAssertion: false));

        var response = await LoginAsync(await SignedInBrowserAsync(), sp);

        Assert.Null(response.Text("/samlp:Response/ds:Signature"));
        Assert.NotNull(response.Text("/samlp:Response/saml:Assertion/ds:Signature"));
    }

    [PrerequisiteFact]
    public async Task Sso_EncryptedAssertionUnsignedResponse_Xmlsec1DecryptsThenVerifiesTheInnerAssertion()
    {
        var sp = new SamlTestSp();
        using var encryptionKey = RSA.Create(2048);
        using var encryption = new CertificateRequest("CN=sp-encryption", encryptionKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        await sp.RegisterAsync(factory, sp.Registration(encryptionCertificate: Convert.ToBase64String(encryption.RawData), signResponse: false));
        var browser = await SignedInBrowserAsync();
        var requestId = SamlXml.NewId();

        var post = await _messages.ReadPostAsync(await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(requestId))), encryptionKey.ExportPkcs8PrivateKeyPem());

        var raw = new SamlResponseView(post.Document);
        Assert.Null(raw.Text("/samlp:Response/ds:Signature"));
        Assert.NotNull(raw.Text("/samlp:Response/saml:EncryptedAssertion/xenc:EncryptedData"));
        var response = SamlAssert.ValidResponse(post, sp, requestId);
        Assert.NotNull(response.Text("/samlp:Response/saml:Assertion/ds:Signature"));
    }

    [PrerequisiteFact]
    public async Task Sso_EmailAddressFormat_SendsTheEmailAsNameId()
    {
        var sp = new SamlTestSp();
        await sp.RegisterAsync(factory, sp.Registration(nameIdFormat: "emailAddress"));
        var email = OidcDriver.NewId("mail") + "@example.com";

        var response = await LoginAsync(await SignedInBrowserAsync(u => u.Email = email), sp);

        Assert.Equal(NameIdFormats.EmailAddress, response.Text("//saml:Subject/saml:NameID/@Format"));
        Assert.Equal(email, response.Text("//saml:Subject/saml:NameID"));
        Assert.Null(response.Text("//saml:Subject/saml:NameID/@SPNameQualifier"));
    }

    [PrerequisiteFact]
    public async Task Sso_EmailAddressFormatUserWithoutEmail_AnswersASignedInvalidNameIdPolicy()
    {
        var sp = new SamlTestSp();
        await sp.RegisterAsync(factory, sp.Registration(nameIdFormat: "emailAddress"));
        var browser = await SignedInBrowserAsync(u => u.Email = null);
        var requestId = SamlXml.NewId();

        var post = await _messages.ReadPostAsync(await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(requestId))));

        var response = new SamlResponseView(post.Document);
        Assert.Equal(sp.Acs, post.Action.AbsoluteUri);
        Assert.Equal(SamlStatus.Requester, response.Text("/samlp:Response/samlp:Status/samlp:StatusCode/@Value"));
        Assert.Equal(SamlStatus.InvalidNameIdPolicy, response.Text("//samlp:StatusCode/samlp:StatusCode/@Value"));
        Assert.Equal(requestId, response.Text("/samlp:Response/@InResponseTo"));
        Assert.NotNull(response.Text("/samlp:Response/ds:Signature"));
        Assert.Null(response.Text("//saml:Assertion"));
    }

    [PrerequisiteFact]
    public async Task Sso_CustomAttributeNames_SendsTheMappedNamesOnly()
    {
        var sp = new SamlTestSp();
        await sp.RegisterAsync(factory, sp.Registration(attributeMappings:
        [
            new { source = "email", name = "urn:oid:0.9.2342.19200300.100.1.3" },
            new { source = "employeeNumber", name = "staffId" },
            new { source = "roles", name = "memberOf" },
        ]));
        var user = await _driver.CreateUserAsync();
        await _driver.GrantApplicationRoleAsync(user, sp.ApplicationId, "expense-approver");
        var browser = factory.CreateBrowserLikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password)).StatusCode);

        var response = await LoginAsync(browser, sp);

        Assert.Equal(user.Email, response.Attribute("urn:oid:0.9.2342.19200300.100.1.3").Single());
        Assert.Equal(user.EmployeeNumber, response.Attribute("staffId").Single());
        Assert.Contains("expense-approver", response.Attribute("memberOf"));
        Assert.Empty(response.Attribute("email"));
        Assert.Empty(response.Attribute("name"));
        Assert.Empty(response.Attribute("department"));
    }

    [PrerequisiteFact]
    public async Task Sso_AssertionConsumerServiceIndex_PostsToTheAcsOfThatIndex()
    {
        var sp = new SamlTestSp();
        await sp.RegisterAsync(factory, sp.Registration(secondAcs: true));
        var browser = await SignedInBrowserAsync();
        var requestId = SamlXml.NewId();

        var post = await _messages.ReadPostAsync(await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(requestId, acsIndex: 1))));

        SamlAssert.ValidResponse(post, sp, requestId, acs: sp.SecondAcs);
    }

    [PrerequisiteFact]
    public async Task Sso_UnregisteredAcsIndex_IsRefused()
    {
        var sp = new SamlTestSp();
        await sp.RegisterAsync(factory, sp.Registration(secondAcs: true));

        var response = await factory.CreateBrowserLikeClient().GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(acsIndex: 7)));

        await SamlAssert.ErrorPageAsync(response, "AssertionConsumerServiceIndex 7");
    }

    [PrerequisiteFact]
    public async Task IdpMessages_ResponseAlteredAfterSigning_FailsXmlsec1()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var html = await (await (await SignedInBrowserAsync()).GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest()))).Content.ReadAsStringAsync();
        var encoded = System.Text.RegularExpressions.Regex.Match(html, "name=\"SAMLResponse\" value=\"([^\"]+)\"").Groups[1].Value;
        var altered = Encoding.UTF8.GetString(Convert.FromBase64String(encoded)).Replace(sp.EntityId, sp.EntityId + ".evil", StringComparison.Ordinal);

        // The check these tests rely on can fail: a Response changed after signing is rejected by xmlsec1.
        await Assert.ThrowsAsync<TrueException>(() => _messages.ReadFormAsync(html.Replace(encoded, Convert.ToBase64String(Encoding.UTF8.GetBytes(altered)), StringComparison.Ordinal)));
    }

    private async Task<HttpClient> SignedInBrowserAsync(Action<UserAccount>? configure = null)
    {
        var user = await _driver.CreateUserAsync(configure: configure);
        var browser = factory.CreateBrowserLikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password)).StatusCode);
        return browser;
    }

    private async Task<SamlResponseView> LoginAsync(HttpClient browser, SamlTestSp sp)
    {
        var requestId = SamlXml.NewId();
        var post = await _messages.ReadPostAsync(await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(requestId))));
        return SamlAssert.ValidResponse(post, sp, requestId);
    }
}

public sealed class SqliteSamlResponseContentTests(SqliteFactory factory) : SamlResponseContentTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlSamlResponseContentTests(PostgreSqlFactory factory) : SamlResponseContentTests<PostgreSqlFactory>(factory);
