using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Xml;
using IdentityHub.Saml.Protocol;

namespace IdentityHub.Saml.Assertions;

/// <summary>
/// SAML core §2.3.4: replaces an Assertion with an EncryptedAssertion: AES-256-CBC content key wrapped
/// with RSA-OAEP for the service provider's certificate. (AES-GCM would be better, but .NET's EncryptedXml
/// does not implement it; CBC is what every SAML SP supports.)
/// </summary>
public static class AssertionEncryption
{
    public static void Encrypt(XmlElement assertion, X509Certificate2 recipient)
    {
        ArgumentNullException.ThrowIfNull(assertion);
        ArgumentNullException.ThrowIfNull(recipient);
        using var rsa = recipient.GetRSAPublicKey() ?? throw new InvalidOperationException("The encryption certificate holds no RSA key.");
        using var aes = Aes.Create();
        aes.KeySize = 256;
        aes.GenerateKey();

        var encryptedData = new EncryptedData
        {
            Type = EncryptedXml.XmlEncElementUrl,
            EncryptionMethod = new EncryptionMethod(EncryptedXml.XmlEncAES256Url),
            CipherData = new CipherData(new EncryptedXml().EncryptData(assertion, aes, content: false)),
        };
        var encryptedKey = new EncryptedKey
        {
            EncryptionMethod = new EncryptionMethod(EncryptedXml.XmlEncRSAOAEPUrl),
            CipherData = new CipherData(EncryptedXml.EncryptKey(aes.Key, rsa, useOAEP: true)),
        };
        encryptedData.KeyInfo = new KeyInfo();
        encryptedData.KeyInfo.AddClause(new KeyInfoEncryptedKey(encryptedKey));

        var document = assertion.OwnerDocument;
        var wrapper = SamlXml.Element(document, "saml", Saml2Names.Assertion, "EncryptedAssertion");
        wrapper.AppendChild(document.ImportNode(encryptedData.GetXml(), deep: true));
        assertion.ParentNode!.ReplaceChild(wrapper, assertion);
    }
}
