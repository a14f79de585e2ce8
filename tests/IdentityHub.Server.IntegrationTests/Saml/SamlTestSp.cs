using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using IdentityHub.Saml;
using IdentityHub.Saml.Bindings;
using IdentityHub.Saml.Protocol;
using IdentityHub.Saml.Signing;
using IdentityHub.Server.IntegrationTests.AdminApi;

namespace IdentityHub.Server.IntegrationTests.Saml;

/// <summary>A service provider the tests play: its key, its registration, the messages it sends.</summary>
public sealed class SamlTestSp
{
    public const string IdpBase = "http://localhost";
    public static readonly Uri Sso = new(IdpBase + "/saml/sso");
    public static readonly Uri Slo = new(IdpBase + "/saml/slo");

    public SamlTestSp(string? name = null)
    {
        var id = name ?? Guid.NewGuid().ToString("N")[..10];
        EntityId = $"https://sp-{id}.example.test/saml";
        Acs = $"https://sp-{id}.example.test/acs";
        SingleLogout = $"https://sp-{id}.example.test/slo";
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN=sp-{id}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        Certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }

    public string EntityId { get; }

    public string Acs { get; }

    public string SingleLogout { get; }

    public X509Certificate2 Certificate { get; }

    public Guid ApplicationId { get; private set; }

    /// <summary>A second assertion consumer service, registered at index 1 when asked for.</summary>
    public string SecondAcs => Acs + "/second";

    public object Registration(bool authnRequestsSigned = true, string nameIdFormat = "persistent", string? encryptionCertificate = null,
        string sloBinding = Saml2Names.HttpRedirectBinding, bool signResponse = true, bool signAssertion = true, bool allowIdpInitiated = false,
        bool secondAcs = false, object[]? attributeMappings = null) => new
    {
        entityId = EntityId,
        assertionConsumerServices = secondAcs
            ? new[] { new { index = 0, binding = Saml2Names.HttpPostBinding, url = Acs, isDefault = true }, new { index = 1, binding = Saml2Names.HttpPostBinding, url = SecondAcs, isDefault = false } }
            : new[] { new { index = 0, binding = Saml2Names.HttpPostBinding, url = Acs, isDefault = true } },
        singleLogoutUrl = SingleLogout,
        singleLogoutBinding = sloBinding,
        signingCertificate = Convert.ToBase64String(Certificate.RawData),
        encryptionCertificate,
        authnRequestsSigned,
        signResponse,
        signAssertion,
        nameIdFormat,
        allowIdpInitiated,
        attributeMappings,
    };

    /// <summary>This SP's metadata (metadata §2.4.4): signing key, Redirect SLO, persistent NameID, one HTTP-POST ACS.</summary>
    public string Metadata() =>
        $"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{EntityId}"><md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{Convert.ToBase64String(Certificate.RawData)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleLogoutService Binding="{Saml2Names.HttpRedirectBinding}" Location="{SingleLogout}"/><md:NameIDFormat>{NameIdFormats.Persistent}</md:NameIDFormat><md:AssertionConsumerService index="1" isDefault="true" Binding="{Saml2Names.HttpPostBinding}" Location="{Acs}"/></md:SPSSODescriptor></md:EntityDescriptor>""";

    public async Task<SamlTestSp> RegisterAsync(IdentityHubFactory factory, object? registration = null)
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        ApplicationId = await AdminApiClient.CreateApplicationAsync(admin);
        var response = await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{ApplicationId}/saml", registration ?? Registration());
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return this;
    }

    /// <summary>
    /// An AuthnRequest; with <paramref name="acsIndex"/> it names the ACS by index instead of by URL; with
    /// <paramref name="nameIdPolicyFormat"/> its NameIDPolicy asks for that format; with
    /// <paramref name="authnContextClasses"/> it carries a RequestedAuthnContext of that <paramref name="comparison"/>.
    /// </summary>
    public string AuthnRequest(
        string? id = null, string? acs = null, DateTimeOffset? issued = null, Uri? destination = null, bool forceAuthn = false, bool isPassive = false, int? acsIndex = null,
        string? nameIdPolicyFormat = null, IReadOnlyList<string>? authnContextClasses = null, string comparison = "exact")
    {
        var policyFormat = nameIdPolicyFormat is null ? "" : $" Format=\"{nameIdPolicyFormat}\"";
        var context = authnContextClasses is null ? ""
            : $"""<samlp:RequestedAuthnContext Comparison="{comparison}">{string.Concat(authnContextClasses.Select(c => $"<saml:AuthnContextClassRef>{c}</saml:AuthnContextClassRef>"))}</samlp:RequestedAuthnContext>""";
        var consumer = acsIndex is { } index ? $"AssertionConsumerServiceIndex=\"{index}\"" : $"AssertionConsumerServiceURL=\"{acs ?? Acs}\" ProtocolBinding=\"{Saml2Names.HttpPostBinding}\"";
        return $"""<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id ?? SamlXml.NewId()}" Version="2.0" IssueInstant="{SamlXml.Instant(issued ?? DateTimeOffset.UtcNow)}" Destination="{(destination ?? Sso).AbsoluteUri}" {consumer} ForceAuthn="{(forceAuthn ? "true" : "false")}" IsPassive="{(isPassive ? "true" : "false")}"><saml:Issuer>{EntityId}</saml:Issuer><samlp:NameIDPolicy AllowCreate="true"{policyFormat}/>{context}</samlp:AuthnRequest>""";
    }

    public string LogoutRequest(string nameId, string? sessionIndex, string? id = null, DateTimeOffset? notOnOrAfter = null, Uri? destination = null)
    {
        var expiry = notOnOrAfter is { } at ? $" NotOnOrAfter=\"{SamlXml.Instant(at)}\"" : "";
        return $"""<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id ?? SamlXml.NewId()}" Version="2.0" IssueInstant="{SamlXml.Instant(DateTimeOffset.UtcNow)}" Destination="{(destination ?? Slo).AbsoluteUri}"{expiry}><saml:Issuer>{EntityId}</saml:Issuer><saml:NameID>{nameId}</saml:NameID>{(sessionIndex is null ? "" : $"<samlp:SessionIndex>{sessionIndex}</samlp:SessionIndex>")}</samlp:LogoutRequest>""";
    }

    /// <summary>The SP's answer to a LogoutRequest the IdP sent it.</summary>
    public string LogoutResponse(string inResponseTo, string status = SamlStatus.Success) =>
        $"""<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{SamlXml.NewId()}" Version="2.0" IssueInstant="{SamlXml.Instant(DateTimeOffset.UtcNow)}" Destination="{Slo.AbsoluteUri}" InResponseTo="{inResponseTo}"><saml:Issuer>{EntityId}</saml:Issuer><samlp:Status><samlp:StatusCode Value="{status}"/></samlp:Status></samlp:LogoutResponse>""";

    /// <summary>HTTP-Redirect binding URL, signed over the query string when <paramref name="sign"/>.</summary>
    public string RedirectUrl(Uri endpoint, string xml, string? relayState = null, bool sign = true, string parameter = SamlParameters.Request) =>
        endpoint.PathAndQuery + "?" + RedirectBinding.Encode(xml, parameter, relayState, sign ? Certificate.GetRSAPrivateKey() : null);

    /// <summary>HTTP-POST binding form, the XML signed enveloped when <paramref name="sign"/>.</summary>
    public FormUrlEncodedContent PostForm(string xml, string? relayState = null, bool sign = true, string parameter = SamlParameters.Request)
    {
        if (sign)
        {
            var document = SafeXml.Parse(xml);
            XmlSigning.SignEnveloped(document.DocumentElement!, Certificate);
            xml = document.OuterXml;
        }

        var fields = new Dictionary<string, string> { [parameter] = Convert.ToBase64String(Encoding.UTF8.GetBytes(xml)) };
        if (relayState is not null)
        {
            fields[SamlParameters.RelayState] = relayState;
        }

        return new FormUrlEncodedContent(fields);
    }
}
