using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Xml;
using IdentityHub.Saml.Assertions;
using IdentityHub.Saml.Protocol;
using IdentityHub.Saml.Signing;
using static IdentityHub.Saml.Tests.TestMessages;

namespace IdentityHub.Saml.Tests;

public sealed class LoginResponseTests
{
    private static readonly System.Security.Cryptography.X509Certificates.X509Certificate2 Idp = NewCertificate("CN=idp.example.test");

    private static LoginResponseContent Content(bool encrypt = false) => new()
    {
        IdpEntityId = "https://idp.example.test/saml/metadata",
        SpEntityId = SpEntityId,
        AssertionConsumerService = new Uri(Acs),
        InResponseTo = "_req1",
        NameId = "abc",
        NameIdFormat = NameIdFormats.Persistent,
        SessionIndex = "sid-1",
        AuthnInstant = DateTimeOffset.UtcNow,
        AuthnContextClass = AuthnContextClasses.PasswordProtectedTransport,
        Attributes = [new AttributeValues("email", ["a@example.test"]), new AttributeValues("roles", ["r1", "r2"])],
        Now = DateTimeOffset.UtcNow,
        EncryptFor = encrypt ? SpCertificate : null,
    };

    [Fact]
    public void Build_SignedResponseAndAssertion_BothVerifyWithTheIdpCertificate()
    {
        var document = Reparse(LoginResponse.Build(Content(), Idp));
        var ns = SafeXml.Namespaces(document);

        SignatureValidation.VerifyEnveloped(document.DocumentElement!, Idp);
        SignatureValidation.VerifyEnveloped((XmlElement)document.SelectSingleNode("/samlp:Response/saml:Assertion", ns)!, Idp);
        Assert.Equal("_req1", document.SelectSingleNode("//saml:SubjectConfirmationData/@InResponseTo", ns)!.Value);
        Assert.Equal(Acs, document.SelectSingleNode("//saml:SubjectConfirmationData/@Recipient", ns)!.Value);
        Assert.Equal(SpEntityId, document.SelectSingleNode("//saml:Audience", ns)!.InnerText);
        Assert.Equal("sid-1", document.SelectSingleNode("//saml:AuthnStatement/@SessionIndex", ns)!.Value);
        Assert.Equal(2, document.SelectNodes("//saml:Attribute[@Name='roles']/saml:AttributeValue", ns)!.Count);
    }

    [Fact]
    public void Build_EncryptionCertificate_SendsOnlyAnEncryptedAssertionThatDecrypts()
    {
        var document = Reparse(LoginResponse.Build(Content(encrypt: true), Idp));
        var ns = SafeXml.Namespaces(document);
        Assert.Null(document.SelectSingleNode("//saml:Assertion", ns));
        Assert.DoesNotContain("a@example.test", document.OuterXml, StringComparison.Ordinal);

        var encryptedData = (XmlElement)document.SelectSingleNode("//saml:EncryptedAssertion/xenc:EncryptedData", ns)!;
        var data = new EncryptedData();
        data.LoadXml(encryptedData);
        var encryptedKey = data.KeyInfo!.OfType<KeyInfoEncryptedKey>().Single().EncryptedKey!;
        var key = EncryptedXml.DecryptKey(encryptedKey.CipherData.CipherValue!, SpCertificate.GetRSAPrivateKey()!, useOAEP: true);
        using var aes = System.Security.Cryptography.Aes.Create();
        aes.Key = key;
        var plain = new EncryptedXml().DecryptData(data, aes);

        Assert.Contains("a@example.test", System.Text.Encoding.UTF8.GetString(plain), StringComparison.Ordinal);
    }
}
