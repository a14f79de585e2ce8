using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Xml;

namespace IdentityHub.Saml.Signing;

/// <summary>Signs IdentityHub's own SAML elements: enveloped, exclusive c14n, RSA-SHA256 (SAML core §5.4).</summary>
public static class XmlSigning
{
    public static void SignEnveloped(XmlElement element, X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(element);
        ArgumentNullException.ThrowIfNull(certificate);
        var id = element.GetAttribute("ID");
        var key = certificate.GetRSAPrivateKey() ?? throw new InvalidOperationException("The signing certificate has no RSA private key.");
        var signed = new IdSignedXml(element) { SigningKey = key };
        signed.SignedInfo!.CanonicalizationMethod = Saml2Names.ExclusiveC14n;
        signed.SignedInfo.SignatureMethod = Saml2Names.RsaSha256;
        var reference = new Reference("#" + id) { DigestMethod = Saml2Names.Sha256 };
        reference.AddTransform(new XmlDsigEnvelopedSignatureTransform());
        reference.AddTransform(new XmlDsigExcC14NTransform());
        signed.AddReference(reference);
        var keyInfo = new KeyInfo();
        keyInfo.AddClause(new KeyInfoX509Data(certificate));
        signed.KeyInfo = keyInfo;
        signed.ComputeSignature();

        var signature = element.OwnerDocument.ImportNode(signed.GetXml(), deep: true);
        // SAML schema: ds:Signature comes right after saml:Issuer.
        var issuer = element.ChildNodes.OfType<XmlElement>().FirstOrDefault(e => e.LocalName == "Issuer" && e.NamespaceURI == Saml2Names.Assertion);
        if (issuer is null)
        {
            element.PrependChild(signature);
        }
        else
        {
            element.InsertAfter(signature, issuer);
        }
    }

    private sealed class IdSignedXml : SignedXml
    {
        private readonly XmlElement _element;

        public IdSignedXml(XmlElement element)
            : base(element) => _element = element;

        public override XmlElement? GetIdElement(XmlDocument? document, string idValue) =>
            _element.GetAttribute("ID") == idValue ? _element : base.GetIdElement(document, idValue);
    }
}
