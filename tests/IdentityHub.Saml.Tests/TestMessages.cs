using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Xml;
using IdentityHub.Saml;
using IdentityHub.Saml.Protocol;
using IdentityHub.Saml.Signing;

namespace IdentityHub.Saml.Tests;

/// <summary>Certificates and AuthnRequests the tests sign, tamper with and feed back.</summary>
internal static class TestMessages
{
    public const string SpEntityId = "https://sp.example.test/saml";
    public const string Acs = "https://sp.example.test/acs";
    public static readonly Uri SsoEndpoint = new("https://idp.example.test/saml/sso");

    public static X509Certificate2 SpCertificate { get; } = NewCertificate("CN=sp.example.test");

    public static X509Certificate2 AttackerCertificate { get; } = NewCertificate("CN=attacker");

    public static X509Certificate2 NewCertificate(string subject)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }

    public static string AuthnRequestXml(string id = "_req1", DateTimeOffset? issued = null, string acs = Acs, string? destination = null) =>
        $"""<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{SamlXml.Instant(issued ?? DateTimeOffset.UtcNow)}" Destination="{destination ?? SsoEndpoint.AbsoluteUri}" AssertionConsumerServiceURL="{acs}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>{SpEntityId}</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" AllowCreate="true"/></samlp:AuthnRequest>""";

    /// <summary>A signed AuthnRequest, parsed the way the server parses it.</summary>
    public static XmlDocument SignedAuthnRequest(X509Certificate2? signer = null, string id = "_req1", string acs = Acs)
    {
        var document = SafeXml.Parse(AuthnRequestXml(id, acs: acs));
        XmlSigning.SignEnveloped(document.DocumentElement!, signer ?? SpCertificate);
        return Reparse(document);
    }

    /// <summary>Signs <paramref name="root"/> with custom SignedInfo choices (algorithms, transforms, reference URI).</summary>
    public static void SignCustom(XmlElement root, X509Certificate2 signer, string referenceUri, Action<System.Security.Cryptography.Xml.Reference>? transforms = null, string canonicalization = Saml2Names.ExclusiveC14n)
    {
        var signed = new System.Security.Cryptography.Xml.SignedXml(root.OwnerDocument) { SigningKey = signer.GetRSAPrivateKey() };
        signed.SignedInfo!.CanonicalizationMethod = canonicalization;
        signed.SignedInfo.SignatureMethod = Saml2Names.RsaSha256;
        var reference = new System.Security.Cryptography.Xml.Reference(referenceUri) { DigestMethod = Saml2Names.Sha256 };
        if (transforms is null)
        {
            reference.AddTransform(new System.Security.Cryptography.Xml.XmlDsigEnvelopedSignatureTransform());
            reference.AddTransform(new System.Security.Cryptography.Xml.XmlDsigExcC14NTransform());
        }
        else
        {
            transforms(reference);
        }

        signed.AddReference(reference);
        signed.ComputeSignature();
        root.InsertAfter(root.OwnerDocument.ImportNode(signed.GetXml(), true), root.FirstChild);
    }

    public static XmlDocument Reparse(XmlDocument document) => SafeXml.Parse(document.OuterXml);
}
