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

namespace IdentityHub.Server.IntegrationTests.Saml;

/// <summary>Metadata against the OASIS schema, SP registration through the admin API, assertion encryption.</summary>
[Requires(Prerequisite.Xmlsec1)]
public abstract class SamlMetadataAndRegistrationTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
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
        Assert.Equal(3, document.SelectNodes("//md:NameIDFormat", ns)!.Count);
        Assert.NotNull(document.SelectSingleNode("//md:KeyDescriptor[@use='signing']/ds:KeyInfo/ds:X509Data/ds:X509Certificate", ns));
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

        var response = await admin.PostAsJsonAsync($"{AdminApiClient.Applications}/{application}/saml/metadata", new { metadataXml = SpMetadata(sp) });

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

        await AssertProblemAsync(response, "entityId");
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

        var post = await SamlTestSp.ReadAutoPostAsync(await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest())));

        Assert.DoesNotContain(user.Email!, post.Xml, StringComparison.Ordinal);
        var certificate = await Xmlsec1.MetadataCertificatePemAsync(factory.CreateClient());
        await Xmlsec1.VerifyResponseAsync(post.Xml, certificate);
        var decrypted = await Xmlsec1.DecryptAsync(post.Xml, encryptionKey.ExportPkcs8PrivateKeyPem());
        var view = new SamlResponseView(SafeXml.Parse(decrypted));
        Assert.Equal(user.Email, view.Attribute("email").Single());
        var assertion = (XmlElement)view.Document.SelectSingleNode("//saml:Assertion", SafeXml.Namespaces(view.Document))!;
        await Xmlsec1.VerifyAsync(assertion.OuterXml, certificate, "urn:oasis:names:tc:SAML:2.0:assertion:Assertion");
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, string field)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(field, out _), body);
    }

    private static string SpMetadata(SamlTestSp sp) =>
        $"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{sp.EntityId}"><md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{Convert.ToBase64String(sp.Certificate.RawData)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleLogoutService Binding="{Saml2Names.HttpRedirectBinding}" Location="{sp.SingleLogout}"/><md:NameIDFormat>{NameIdFormats.Persistent}</md:NameIDFormat><md:AssertionConsumerService index="1" isDefault="true" Binding="{Saml2Names.HttpPostBinding}" Location="{sp.Acs}"/></md:SPSSODescriptor></md:EntityDescriptor>""";

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
