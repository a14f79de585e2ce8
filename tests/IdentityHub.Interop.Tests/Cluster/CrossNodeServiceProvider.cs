using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IdentityHub.Saml;
using IdentityHub.Saml.Bindings;
using IdentityHub.Saml.Protocol;

namespace IdentityHub.Interop.Tests.Cluster;

/// <summary>A SAML service provider the cross-node tests play: its key, its registration and its signed AuthnRequests (HTTP-Redirect).</summary>
public sealed class CrossNodeServiceProvider : IDisposable
{
    private const string SingleSignOnPath = "/saml/sso";

    public CrossNodeServiceProvider()
    {
        var id = Guid.NewGuid().ToString("N")[..10];
        EntityId = $"https://sp-{id}.example.test/saml";
        Acs = $"https://sp-{id}.example.test/acs";
        using var rsa = RSA.Create(2048);
        Certificate = new CertificateRequest($"CN=sp-{id}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }

    public string EntityId { get; }

    public string Acs { get; }

    public X509Certificate2 Certificate { get; }

    /// <summary>The admin API's registration body: signed requests required, one HTTP-POST ACS.</summary>
    public object Registration() => new
    {
        entityId = EntityId,
        assertionConsumerServices = new[] { new { index = 0, binding = Saml2Names.HttpPostBinding, url = Acs, isDefault = true } },
        signingCertificate = Convert.ToBase64String(Certificate.RawData),
        authnRequestsSigned = true,
        signResponse = true,
        signAssertion = true,
        nameIdFormat = "persistent",
    };

    /// <summary>
    /// A signed AuthnRequest as an HTTP-Redirect path, addressed (Destination) to the public SSO endpoint both nodes
    /// publish, so either node accepts it; the same URL sent again is a replay.
    /// </summary>
    public string SignedAuthnRequestPath()
    {
        var destination = new Uri(new Uri(CrossNodePair.PublicIssuer), SingleSignOnPath).AbsoluteUri;
        var xml = $"""<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{SamlXml.NewId()}" Version="2.0" IssueInstant="{SamlXml.Instant(DateTimeOffset.UtcNow)}" Destination="{destination}" AssertionConsumerServiceURL="{Acs}" ProtocolBinding="{Saml2Names.HttpPostBinding}"><saml:Issuer>{EntityId}</saml:Issuer><samlp:NameIDPolicy AllowCreate="true"/></samlp:AuthnRequest>""";
        using var key = Certificate.GetRSAPrivateKey();
        return SingleSignOnPath + "?" + RedirectBinding.Encode(xml, SamlParameters.Request, relayState: "cross-node", key);
    }

    public void Dispose() => Certificate.Dispose();
}
