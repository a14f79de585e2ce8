using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Xml;
using System.Xml.Schema;
using IdentityHub.Saml;
using IdentityHub.Saml.Protocol;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Server.IntegrationTests.Oidc;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Saml;

/// <summary>Metadata against the OASIS schema, SP registration through the admin API, assertion encryption.</summary>
[Requires(Prerequisite.Xmlsec1)]
public abstract class SamlMetadataAndRegistrationTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    /// <summary>The endpoints of Saml/Metadata/shibboleth-sp.xml whose bindings IdentityHub does not speak.</summary>
    private static readonly string[] ShibbolethSkipped =
    [
        "AssertionConsumerService urn:oasis:names:tc:SAML:1.0:profiles:artifact-01",
        "AssertionConsumerService urn:oasis:names:tc:SAML:1.0:profiles:browser-post",
        "AssertionConsumerService urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact",
        "AssertionConsumerService urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST-SimpleSign",
        "AssertionConsumerService urn:oasis:names:tc:SAML:2.0:bindings:PAOS",
        "SingleLogoutService urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact",
        "SingleLogoutService urn:oasis:names:tc:SAML:2.0:bindings:SOAP",
    ];

    private readonly IdpMessages _messages = new(factory);

    [PrerequisiteFact]
    public async Task Metadata_Served_ValidatesAgainstTheOasisMetadataSchema()
    {
        var xml = await factory.CreateClient().GetStringAsync("/saml/metadata");
        var errors = new List<string>();
        var settings = new XmlReaderSettings { ValidationType = ValidationType.Schema, Schemas = MetadataSchemas() };
        settings.ValidationEventHandler += (_, e) => errors.Add($"{e.Severity}: {e.Message}");

        using (var reader = XmlReader.Create(new StringReader(xml), settings))
        {
            while (reader.Read())
            {
            }
        }

        Assert.Empty(errors);
        var document = SafeXml.Parse(xml);
        var ns = SafeXml.Namespaces(document);
        Assert.Equal(2, document.SelectNodes("//md:IDPSSODescriptor/md:SingleSignOnService", ns)!.Count);
        Assert.Equal(2, document.SelectNodes("//md:IDPSSODescriptor/md:SingleLogoutService", ns)!.Count);
        Assert.Equal(NameIdFormats.Supported, document.SelectNodes("//md:NameIDFormat", ns)!.OfType<System.Xml.XmlElement>().Select(e => e.InnerText).ToList());
        Assert.NotNull(document.SelectSingleNode("//md:KeyDescriptor[@use='signing']/ds:KeyInfo/ds:X509Data/ds:X509Certificate", ns));
    }

    [PrerequisiteFact]
    public async Task Metadata_SignedRequestsNotRequiredOfEverySp_OmitsWantAuthnRequestsSigned()
    {
        var document = SafeXml.Parse(await factory.CreateClient().GetStringAsync("/saml/metadata"));

        var idp = document.SelectSingleNode("//md:IDPSSODescriptor", SafeXml.Namespaces(document)) as XmlElement;
        Assert.NotNull(idp);
        Assert.False(idp.HasAttribute("WantAuthnRequestsSigned"), idp.OuterXml[..200]);
    }

    [PrerequisiteFact]
    public async Task Metadata_TamperedDocument_FailsTheSchema()
    {
        // The schema check above can fail: an IDPSSODescriptor without SingleSignOnService is invalid.
        var xml = (await factory.CreateClient().GetStringAsync("/saml/metadata")).Replace("SingleSignOnService", "SingleSignOnServiceX", StringComparison.Ordinal);
        var settings = new XmlReaderSettings { ValidationType = ValidationType.Schema, Schemas = MetadataSchemas() };

        Assert.Throws<XmlSchemaValidationException>(() =>
        {
            using var reader = XmlReader.Create(new StringReader(xml), settings);
            while (reader.Read())
            {
            }
        });
    }

    [PrerequisiteFact]
    public async Task ImportMetadata_InlineXml_RegistersTheSp()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var application = await AdminApiClient.CreateApplicationAsync(admin);
        var sp = new SamlTestSp();

        var response = await admin.PostAsJsonAsync($"{AdminApiClient.Applications}/{application}/saml/metadata", new { metadataXml = sp.Metadata() });

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(await admin.GetStringAsync($"{AdminApiClient.Applications}/{application}/saml"));
        Assert.Equal(sp.EntityId, json.RootElement.GetProperty("entityId").GetString());
        Assert.Equal(sp.Acs, json.RootElement.GetProperty("assertionConsumerServices")[0].GetProperty("url").GetString());
        Assert.True(json.RootElement.GetProperty("authnRequestsSigned").GetBoolean());
        Assert.Equal(Convert.ToBase64String(sp.Certificate.RawData), json.RootElement.GetProperty("signingCertificate").GetString());
    }

    [PrerequisiteFact]
    public async Task ImportMetadata_WithDoctype_IsAProblemNamingTheField()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var application = await AdminApiClient.CreateApplicationAsync(admin);

        var response = await admin.PostAsJsonAsync($"{AdminApiClient.Applications}/{application}/saml/metadata",
            new { metadataXml = "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>" });

        await AssertProblemAsync(response, "metadataXml");
    }

    [PrerequisiteFact]
    public async Task ImportMetadata_NonHttpUrl_IsRefusedWithoutFetching()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var application = await AdminApiClient.CreateApplicationAsync(admin);

        var response = await admin.PostAsJsonAsync($"{AdminApiClient.Applications}/{application}/saml/metadata", new { metadataUrl = "file:///etc/passwd" });

        await AssertProblemAsync(response, "metadataXml");
    }

    [PrerequisiteFact]
    public async Task Put_BadCertificate_IsAProblemNamingTheField()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var application = await AdminApiClient.CreateApplicationAsync(admin);
        var sp = new SamlTestSp();
        var registration = JsonSerializer.SerializeToNode(sp.Registration())!;
        registration["signingCertificate"] = "bm90IGEgY2VydGlmaWNhdGU=";

        var response = await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{application}/saml", registration);

        await AssertProblemAsync(response, "signingCertificate");
    }

    [PrerequisiteFact]
    public async Task Put_RelativeAcsUrl_IsAProblemNamingTheField()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var application = await AdminApiClient.CreateApplicationAsync(admin);
        var registration = JsonSerializer.SerializeToNode(new SamlTestSp().Registration())!;
        registration["assertionConsumerServices"]![0]!["url"] = "/acs";

        var response = await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{application}/saml", registration);

        await AssertProblemAsync(response, "assertionConsumerServices[0].url");
    }

    [PrerequisiteFact]
    public async Task Put_EntityIdOfAnotherApplication_IsAProblemNamingTheField()
    {
        var existing = await new SamlTestSp().RegisterAsync(factory);
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var application = await AdminApiClient.CreateApplicationAsync(admin);
        var registration = JsonSerializer.SerializeToNode(new SamlTestSp().Registration())!;
        registration["entityId"] = existing.EntityId;

        var response = await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{application}/saml", registration);

        // Issue 17: a duplicate entityID is a conflict with the other registration (409), no longer a 400.
        await AssertProblemAsync(response, "entityId", HttpStatusCode.Conflict);
    }

    [PrerequisiteFact]
    public async Task Delete_RegisteredSp_StopsItsLogins()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        using var admin = await AdminApiClient.CreateAdminAsync(factory);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{AdminApiClient.Applications}/{sp.ApplicationId}/saml")).StatusCode);

        var response = await factory.CreateBrowserLikeClient().GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest()));
        await SamlAssert.ErrorPageAsync(response, "not registered");
    }

    [PrerequisiteFact]
    public async Task RegisterReplaceDelete_EachChange_IsAuditedWithBeforeAndAfter()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var replaced = JsonSerializer.SerializeToNode(sp.Registration(nameIdFormat: "unspecified"))!;
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{sp.ApplicationId}/saml", replaced)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{AdminApiClient.Applications}/{sp.ApplicationId}/saml")).StatusCode);

        await using var scope = factory.Services.CreateAsyncScope();
        var events = await scope.ServiceProvider.GetRequiredService<IdentityHub.Data.IdentityHubDbContext>().AuditEvents.AsNoTracking()
            .Where(e => e.TargetId == sp.ApplicationId.ToString() && e.Type.StartsWith("saml."))
            .OrderBy(e => e.Sequence).ToListAsync();
        Assert.Equal(["saml.registered", "saml.updated", "saml.deleted"], events.Select(e => e.Type));
        Assert.Null(events[0].Before);
        Assert.Contains(NameIdFormats.Unspecified, events[1].After!, StringComparison.Ordinal);
        Assert.Contains(NameIdFormats.Persistent, events[1].Before!, StringComparison.Ordinal);
        Assert.Null(events[2].After);
        Assert.Contains(sp.EntityId, events[2].Before!, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Sso_EncryptionCertificate_SendsAnEncryptedAssertionXmlsec1Decrypts()
    {
        var sp = new SamlTestSp();
        using var encryptionKey = RSA.Create(2048);
        using var encryption = new CertificateRequest("CN=sp-encryption", encryptionKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        await sp.RegisterAsync(factory, sp.Registration(encryptionCertificate: Convert.ToBase64String(encryption.RawData)));
        var driver = new OidcDriver(factory);
        var user = await driver.CreateUserAsync();
        var browser = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password);
        var requestId = SamlXml.NewId();

        var post = await _messages.ReadPostAsync(await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(requestId))), encryptionKey.ExportPkcs8PrivateKeyPem());

        Assert.DoesNotContain(user.Email!, post.Xml, StringComparison.Ordinal);
        Assert.NotNull(new SamlResponseView(post.Document).Text("/samlp:Response/ds:Signature"));
        var view = SamlAssert.ValidResponse(post, sp, requestId);
        Assert.Equal(user.Email, view.Attribute("email").Single());
        Assert.NotNull(view.Text("/samlp:Response/saml:Assertion/ds:Signature"));
    }

    [PrerequisiteFact]
    public async Task ImportMetadata_ShibbolethSp_SkipsUnsupportedBindingsSaysWhichAndTheSpSignsIn()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var application = await AdminApiClient.CreateApplicationAsync(admin);
        var sp = new SamlTestSp();
        var spBase = new Uri(sp.EntityId).GetLeftPart(UriPartial.Authority);

        var response = await admin.PostAsJsonAsync($"{AdminApiClient.Applications}/{application}/saml/metadata", new { metadataXml = ShibbolethMetadata(sp) });

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        var registered = json.RootElement.GetProperty("serviceProvider");
        var acs = Assert.Single(registered.GetProperty("assertionConsumerServices").EnumerateArray());
        Assert.Equal(spBase + "/Shibboleth.sso/SAML2/POST", acs.GetProperty("url").GetString());
        Assert.Equal(1, acs.GetProperty("index").GetInt32());
        Assert.Equal(spBase + "/Shibboleth.sso/SLO/Redirect", registered.GetProperty("singleLogoutUrl").GetString());
        Assert.Equal(NameIdFormats.EmailAddress, registered.GetProperty("nameIdFormat").GetString());
        Assert.False(registered.GetProperty("allowIdpInitiated").GetBoolean());
        Assert.NotNull(registered.GetProperty("encryptionCertificate").GetString());
        var skipped = json.RootElement.GetProperty("skipped").EnumerateArray()
            .Select(e => $"{e.GetProperty("element").GetString()} {e.GetProperty("binding").GetString()}").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(ShibbolethSkipped, skipped);

        // The registration works: the SP's signed AuthnRequest gets an encrypted, signed Response at its HTTP-POST ACS.
        var user = await new OidcDriver(factory).CreateUserAsync();
        var browser = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password);
        var requestId = SamlXml.NewId();
        var post = await _messages.ReadPostAsync(
            await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(requestId, acs: spBase + "/Shibboleth.sso/SAML2/POST"))),
            sp.Certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        var view = SamlAssert.ValidResponse(post, sp, requestId, acs: spBase + "/Shibboleth.sso/SAML2/POST");
        Assert.Equal(user.Email, view.Text("//saml:Subject/saml:NameID"));
    }

    [PrerequisiteFact]
    public async Task ImportMetadata_NoHttpPostAcs_IsAProblemNamingTheSkippedBindings()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var application = await AdminApiClient.CreateApplicationAsync(admin);
        var xml = ShibbolethMetadata(new SamlTestSp()).Replace(
            "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"https://", "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact\" Location=\"https://", StringComparison.Ordinal);

        var response = await admin.PostAsJsonAsync($"{AdminApiClient.Applications}/{application}/saml/metadata", new { metadataXml = xml });

        await AssertProblemAsync(response, "metadataXml");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("PAOS", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{AdminApiClient.Applications}/{application}/saml")).StatusCode);
    }

    [PrerequisiteFact]
    public async Task ImportMetadata_FromUrl_FetchesItFromTheSpsServerAndSetsIdpInitiated()
    {
        var sp = new SamlTestSp();
        await using var host = await MetadataHost.StartAsync(sp.Metadata());
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var application = await AdminApiClient.CreateApplicationAsync(admin);

        var response = await admin.PostAsJsonAsync($"{AdminApiClient.Applications}/{application}/saml/metadata",
            new { metadataUrl = host.MetadataUrl.AbsoluteUri, allowIdpInitiated = true });

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(await admin.GetStringAsync($"{AdminApiClient.Applications}/{application}/saml"));
        Assert.Equal(sp.EntityId, json.RootElement.GetProperty("entityId").GetString());
        Assert.True(json.RootElement.GetProperty("allowIdpInitiated").GetBoolean());
        Assert.Equal(1, host.Requests);
    }

    [PrerequisiteFact]
    public async Task ImportMetadata_UrlAnsweringWithARedirect_IsNotFollowed()
    {
        await using var host = await MetadataHost.StartAsync(new SamlTestSp().Metadata());
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var application = await AdminApiClient.CreateApplicationAsync(admin);

        var response = await admin.PostAsJsonAsync($"{AdminApiClient.Applications}/{application}/saml/metadata", new { metadataUrl = host.RedirectUrl.AbsoluteUri });

        await AssertProblemAsync(response, "metadataUrl");
        Assert.Contains("could not be fetched", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, host.Requests);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, string field, HttpStatusCode status = HttpStatusCode.BadRequest)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(field, out _), body);
    }

    /// <summary>The Shibboleth SP 3 style metadata of Saml/Metadata/shibboleth-sp.xml, for <paramref name="sp"/>'s entityID and certificate.</summary>
    private static string ShibbolethMetadata(SamlTestSp sp) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Saml", "Metadata", "shibboleth-sp.xml"))
            .Replace("{{ENTITY_ID}}", sp.EntityId, StringComparison.Ordinal)
            .Replace("{{BASE}}", new Uri(sp.EntityId).GetLeftPart(UriPartial.Authority), StringComparison.Ordinal)
            .Replace("{{CERTIFICATE}}", string.Join('\n', Convert.ToBase64String(sp.Certificate.RawData).Chunk(64).Select(c => new string(c))), StringComparison.Ordinal);

    /// <summary>The OASIS schemas shipped in Saml/Schemas, read from disk only (the resolver refuses anything else).</summary>
    private static XmlSchemaSet MetadataSchemas()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "Saml", "Schemas");
        var resolver = new LocalFilesOnly(folder);
        var set = new XmlSchemaSet { XmlResolver = resolver };
        var readerSettings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Parse, XmlResolver = resolver };
        using var reader = XmlReader.Create(Path.Combine(folder, "saml-schema-metadata-2.0.xsd"), readerSettings);
        set.Add(null, reader);
        set.Compile();
        return set;
    }

    private sealed class LocalFilesOnly(string folder) : XmlUrlResolver
    {
        public override object? GetEntity(Uri absoluteUri, string? role, Type? ofObjectToReturn)
        {
            ArgumentNullException.ThrowIfNull(absoluteUri);
            if (!absoluteUri.IsFile || !Path.GetFullPath(absoluteUri.LocalPath).StartsWith(Path.GetFullPath(folder), StringComparison.Ordinal))
            {
                throw new XmlException($"Schema resolution outside the shipped schemas is refused: {absoluteUri}");
            }

            return base.GetEntity(absoluteUri, role, ofObjectToReturn);
        }
    }
}

public sealed class SqliteSamlMetadataAndRegistrationTests(SqliteFactory factory) : SamlMetadataAndRegistrationTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlSamlMetadataAndRegistrationTests(PostgreSqlFactory factory) : SamlMetadataAndRegistrationTests<PostgreSqlFactory>(factory);
