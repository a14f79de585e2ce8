using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Xml;
using IdentityHub.Saml.Protocol;
using IdentityHub.Saml.Signing;
using static IdentityHub.Saml.Tests.TestMessages;

namespace IdentityHub.Saml.Tests;

public sealed class SignatureValidationTests
{
    [Fact]
    public void VerifyEnveloped_SignedByRegisteredKey_Passes()
    {
        var document = SignedAuthnRequest();

        SignatureValidation.VerifyEnveloped(document.DocumentElement!, SpCertificate);
    }

    [Fact]
    public void VerifyEnveloped_KeyCarriedInMessage_IsIgnoredAndTheSignatureRefused()
    {
        // The attacker signs with its own key and ships its certificate in KeyInfo.
        var document = SignedAuthnRequest(AttackerCertificate);

        var error = Assert.Throws<SamlProtocolException>(() => SignatureValidation.VerifyEnveloped(document.DocumentElement!, SpCertificate));

        Assert.Contains("registered certificate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyEnveloped_ContentChangedAfterSigning_IsRefused()
    {
        var document = SignedAuthnRequest();
        document.DocumentElement!.SetAttribute("AssertionConsumerServiceURL", "https://evil.test/acs");

        Assert.Throws<SamlProtocolException>(() => SignatureValidation.VerifyEnveloped(document.DocumentElement!, SpCertificate));
    }

    [Fact]
    public void VerifyEnveloped_TwoReferences_IsRefused()
    {
        var document = SafeXml.Parse(AuthnRequestXml());
        var root = document.DocumentElement!;
        var signed = new SignedXml(document) { SigningKey = SpCertificate.GetRSAPrivateKey() };
        signed.SignedInfo!.CanonicalizationMethod = Saml2Names.ExclusiveC14n;
        signed.SignedInfo.SignatureMethod = Saml2Names.RsaSha256;
        foreach (var uri in new[] { "#_req1", "" })
        {
            var reference = new Reference(uri) { DigestMethod = Saml2Names.Sha256 };
            reference.AddTransform(new XmlDsigEnvelopedSignatureTransform());
            reference.AddTransform(new XmlDsigExcC14NTransform());
            signed.AddReference(reference);
        }

        signed.ComputeSignature();
        root.InsertAfter(document.ImportNode(signed.GetXml(), true), root.FirstChild);

        var error = Assert.Throws<SamlProtocolException>(() => SignatureValidation.VerifyEnveloped(Reparse(document).DocumentElement!, SpCertificate));

        Assert.Contains("exactly one Reference", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyEnveloped_ReferenceToWholeDocument_IsRefused()
    {
        var document = SafeXml.Parse(AuthnRequestXml());
        SignCustom(document.DocumentElement!, SpCertificate, "");

        var error = Assert.Throws<SamlProtocolException>(() => SignatureValidation.VerifyEnveloped(Reparse(document).DocumentElement!, SpCertificate));

        Assert.Contains("own ID", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyEnveloped_WithCommentsTransform_IsRefused()
    {
        var document = SafeXml.Parse(AuthnRequestXml());
        SignCustom(document.DocumentElement!, SpCertificate, "#_req1", reference =>
        {
            reference.AddTransform(new XmlDsigEnvelopedSignatureTransform());
            reference.AddTransform(new XmlDsigExcC14NWithCommentsTransform());
        });

        var error = Assert.Throws<SamlProtocolException>(() => SignatureValidation.VerifyEnveloped(Reparse(document).DocumentElement!, SpCertificate));

        Assert.Contains("Transform", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyEnveloped_InclusiveC14nTransform_IsRefused()
    {
        var document = SafeXml.Parse(AuthnRequestXml());
        SignCustom(document.DocumentElement!, SpCertificate, "#_req1", reference =>
        {
            reference.AddTransform(new XmlDsigEnvelopedSignatureTransform());
            reference.AddTransform(new XmlDsigC14NTransform());
        });

        Assert.Throws<SamlProtocolException>(() => SignatureValidation.VerifyEnveloped(Reparse(document).DocumentElement!, SpCertificate));
    }

    [Fact]
    public void VerifyEnveloped_InclusiveCanonicalization_IsRefused()
    {
        var document = SafeXml.Parse(AuthnRequestXml());
        SignCustom(document.DocumentElement!, SpCertificate, "#_req1", canonicalization: SignedXml.XmlDsigC14NTransformUrl);

        var error = Assert.Throws<SamlProtocolException>(() => SignatureValidation.VerifyEnveloped(Reparse(document).DocumentElement!, SpCertificate));

        Assert.Contains("CanonicalizationMethod", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyEnveloped_Sha1SignatureMethod_IsRefused()
    {
        var document = SignedAuthnRequest();
        var method = (XmlElement)document.GetElementsByTagName("SignatureMethod", Saml2Names.XmlDsig)[0]!;
        method.SetAttribute("Algorithm", "http://www.w3.org/2000/09/xmldsig#rsa-sha1");

        var error = Assert.Throws<SamlProtocolException>(() => SignatureValidation.VerifyEnveloped(document.DocumentElement!, SpCertificate));

        Assert.Contains("SignatureMethod", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyEnveloped_Unsigned_IsRefused()
    {
        var document = SafeXml.Parse(AuthnRequestXml());

        Assert.Throws<SamlProtocolException>(() => SignatureValidation.VerifyEnveloped(document.DocumentElement!, SpCertificate));
    }
}
