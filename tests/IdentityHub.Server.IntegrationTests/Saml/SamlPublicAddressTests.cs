using System.Net;
using IdentityHub.Saml;
using IdentityHub.Saml.Protocol;
using IdentityHub.Server.IntegrationTests.Oidc;
using IdentityHub.Server.Saml;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;

namespace IdentityHub.Server.IntegrationTests.Saml;

/// <summary>With a public origin configured (Oidc:Issuer here), a forged Host header changes none of the IdP's SAML addresses.</summary>
[Requires(Prerequisite.Xmlsec1)]
public abstract class SamlPublicAddressTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private const string PublicOrigin = SamlPublicOrigin.Url;
    private const string ForgedHost = "http://evil.example";

    private readonly IdpMessages _messages = new(factory);

    [PrerequisiteFact]
    public async Task Metadata_ForgedHostHeader_PublishesTheConfiguredHttpsAddresses()
    {
        var xml = await Browser().GetStringAsync("/saml/metadata");

        var metadata = SafeXml.Parse(xml);
        var ns = SafeXml.Namespaces(metadata);
        Assert.Equal(PublicOrigin + "saml/metadata", metadata.DocumentElement!.GetAttribute("entityID"));
        var locations = metadata.SelectNodes("//md:SingleSignOnService/@Location | //md:SingleLogoutService/@Location", ns)!.Cast<System.Xml.XmlNode>().Select(n => n.Value).ToList();
        Assert.Equal(4, locations.Count);
        Assert.All(locations, l => Assert.StartsWith(PublicOrigin + "saml/", l, StringComparison.Ordinal));
        Assert.DoesNotContain("evil.example", xml, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Sso_ForgedHostHeader_IssuerIsTheConfiguredOriginAndTheConfiguredDestinationIsAccepted()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var browser = await SignedInBrowserAsync();
        var requestId = SamlXml.NewId();

        var post = await _messages.ReadPostAsync(await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(requestId, destination: new Uri(PublicOrigin + "saml/sso")))));

        var response = new SamlResponseView(post.Document);
        Assert.Equal(PublicOrigin + "saml/metadata", response.Text("/samlp:Response/saml:Issuer"));
        Assert.Equal(PublicOrigin + "saml/metadata", response.Text("//saml:Assertion/saml:Issuer"));
        Assert.Equal(requestId, response.Text("/samlp:Response/@InResponseTo"));
    }

    [PrerequisiteFact]
    public async Task Sso_DestinationNamingTheForgedHost_IsRefused()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);

        var response = await Browser().GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(destination: new Uri(ForgedHost + "/saml/sso"))));

        await SamlAssert.ErrorPageAsync(response, "Destination");
    }

    [PrerequisiteFact]
    public void Settings_SamlBaseUrlAndOidcIssuer_SamlBaseUrlWins()
    {
        var both = SamlSettings.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Saml:BaseUrl"] = "https://saml.example.test/idp/",
            ["Oidc:Issuer"] = PublicOrigin,
        }).Build());
        var neither = SamlSettings.From(new ConfigurationBuilder().Build());

        Assert.Equal(new Uri("https://saml.example.test/idp/"), both.BaseUrl);
        Assert.Null(neither.BaseUrl);
    }

    /// <summary>A browser whose every request carries the forged Host header.</summary>
    private HttpClient Browser() =>
        factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri(ForgedHost), AllowAutoRedirect = false, HandleCookies = true });

    private async Task<HttpClient> SignedInBrowserAsync()
    {
        var user = await new OidcDriver(factory).CreateUserAsync();
        var browser = Browser();
        Assert.Equal(HttpStatusCode.Redirect, (await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password)).StatusCode);
        return browser;
    }
}

/// <summary>The origin the IdP is published under in these tests, as Oidc:Issuer.</summary>
public sealed class SamlPublicOrigin : IServerSettings
{
    public const string Url = "https://sso.example.test/";

    public static void Apply(IWebHostBuilder builder) => builder.UseSetting("Oidc:Issuer", Url);
}

public sealed class SqliteSamlPublicAddressTests(SqliteFactory<SamlPublicOrigin> factory) : SamlPublicAddressTests<SqliteFactory<SamlPublicOrigin>>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlSamlPublicAddressTests(PostgreSqlFactory<SamlPublicOrigin> factory) : SamlPublicAddressTests<PostgreSqlFactory<SamlPublicOrigin>>(factory);
