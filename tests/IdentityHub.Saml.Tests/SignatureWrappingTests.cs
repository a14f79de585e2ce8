using System.Xml;
using IdentityHub.Saml.Protocol;
using IdentityHub.Saml.Signing;
using static IdentityHub.Saml.Tests.TestMessages;

namespace IdentityHub.Saml.Tests;

/// <summary>
/// XML Signature Wrapping (Somorovsky et al., "On Breaking SAML", 2012): the attacker keeps a validly
/// signed element somewhere in the document and puts its own content where the application reads.
/// Each variant below starts from a genuinely signed AuthnRequest and must be refused.
/// </summary>
public sealed class SignatureWrappingTests
{
    private const string Evil = "https://evil.test/acs";

    public static TheoryData<string> Variants => new()
    {
        "evil-root-wraps-original-in-extensions-new-id",
        "evil-root-same-id-original-in-extensions",
        "evil-root-same-id-original-in-signature-object",
        "evil-root-original-signature-moved-to-evil-root",
        "evil-root-no-signature-original-as-child",
        "original-with-evil-clone-appended-same-id",
        "second-signature-appended",
        "evil-root-signature-references-nested-original",
        "id-attribute-case-variant-clone",
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void VerifyEnveloped_WrappingVariant_IsRefused(string variant)
    {
        var wrapped = Wrap(variant);

        Assert.ThrowsAny<SamlProtocolException>(() =>
        {
            var document = SafeXml.Parse(wrapped);
            SignatureValidation.VerifyEnveloped(document.DocumentElement!, SpCertificate);
            // Whatever passed must be what was signed: the evil ACS may never come through.
            if (AuthnRequest.Read(document).AssertionConsumerServiceUrl == Evil)
            {
                throw new InvalidOperationException("The wrapped ACS was accepted.");
            }
        });
    }

    [Fact]
    public void Variants_AreAtLeastEight() => Assert.True(Variants.Count >= 8);

    private static string Wrap(string variant)
    {
        var original = SignedAuthnRequest();
        var signedRoot = original.DocumentElement!;
        var evil = SafeXml.Parse(AuthnRequestXml(id: "_evil", acs: Evil));
        var evilRoot = evil.DocumentElement!;
        XmlElement Import(XmlNode node) => (XmlElement)evil.ImportNode(node, true);
        XmlElement Extensions()
        {
            var extensions = evil.CreateElement("samlp", "Extensions", Saml2Names.Protocol);
            evilRoot.InsertAfter(extensions, evilRoot.FirstChild);
            return extensions;
        }

        XmlElement SignatureOf(XmlElement e) => (XmlElement)e.GetElementsByTagName("Signature", Saml2Names.XmlDsig)[0]!;

        switch (variant)
        {
            case "evil-root-wraps-original-in-extensions-new-id":
                // The signature points at _req1, which is not the root.
                Extensions().AppendChild(Import(signedRoot));
                evilRoot.InsertAfter(Import(SignatureOf(signedRoot)), evilRoot.FirstChild);
                break;
            case "evil-root-same-id-original-in-extensions":
                evilRoot.SetAttribute("ID", "_req1");
                evilRoot.InsertAfter(Import(SignatureOf(signedRoot)), evilRoot.FirstChild);
                Extensions().AppendChild(Import(signedRoot));
                break;
            case "evil-root-same-id-original-in-signature-object":
            {
                evilRoot.SetAttribute("ID", "_req1");
                var signature = Import(SignatureOf(signedRoot));
                var obj = evil.CreateElement("ds", "Object", Saml2Names.XmlDsig);
                obj.AppendChild(Import(signedRoot));
                signature.AppendChild(obj);
                evilRoot.InsertAfter(signature, evilRoot.FirstChild);
                break;
            }

            case "evil-root-original-signature-moved-to-evil-root":
            {
                // Signature detached from the original and put on a root whose ID differs.
                var signature = SignatureOf(signedRoot);
                evilRoot.InsertAfter(Import(signature), evilRoot.FirstChild);
                break;
            }

            case "evil-root-no-signature-original-as-child":
                Extensions().AppendChild(Import(signedRoot));
                break;
            case "original-with-evil-clone-appended-same-id":
            {
                var clone = (XmlElement)original.ImportNode(evilRoot, true);
                clone.SetAttribute("ID", "_req1");
                var extensions = original.CreateElement("samlp", "Extensions", Saml2Names.Protocol);
                extensions.AppendChild(clone);
                signedRoot.AppendChild(extensions);
                return original.OuterXml;
            }

            case "second-signature-appended":
            {
                // The attacker changes the content and adds its own valid signature next to the original one.
                signedRoot.SetAttribute("AssertionConsumerServiceURL", Evil);
                var copy = SafeXml.Parse(AuthnRequestXml(acs: Evil));
                XmlSigning.SignEnveloped(copy.DocumentElement!, AttackerCertificate);
                signedRoot.InsertAfter(original.ImportNode(SignatureOf(copy.DocumentElement!), true), signedRoot.FirstChild);
                return original.OuterXml;
            }

            case "evil-root-signature-references-nested-original":
            {
                // Evil root signed by the attacker's key, referencing the nested, genuinely signed original.
                Extensions().AppendChild(Import(signedRoot));
                SignCustom(evilRoot, AttackerCertificate, "#_req1");
                break;
            }

            case "id-attribute-case-variant-clone":
            {
                // Evil root answers to "Id"="_req1" (a resolver that looks at several attribute names could pick it).
                evilRoot.SetAttribute("Id", "_req1");
                evilRoot.InsertAfter(Import(SignatureOf(signedRoot)), evilRoot.FirstChild);
                Extensions().AppendChild(Import(signedRoot));
                break;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(variant));
        }

        return evil.OuterXml;
    }
}
