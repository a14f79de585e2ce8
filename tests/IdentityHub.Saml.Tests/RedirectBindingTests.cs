using System.Security.Cryptography.X509Certificates;
using System.IO.Compression;
using System.Text;
using IdentityHub.Saml.Bindings;
using IdentityHub.Saml.Protocol;
using IdentityHub.Saml.Signing;
using static IdentityHub.Saml.Tests.TestMessages;

namespace IdentityHub.Saml.Tests;

public sealed class RedirectBindingTests
{
    [Fact]
    public void Decode_SignedQuery_VerifiesOverTheRawOctets()
    {
        var query = RedirectBinding.Encode(AuthnRequestXml(), SamlParameters.Request, "state 1/2", SpCertificate.GetRSAPrivateKey());

        var message = RedirectBinding.Decode("?" + query, SamlParameters.Request);

        SignatureValidation.VerifyRedirect(message, SpCertificate);
        Assert.Equal("state 1/2", message.RelayState);
        Assert.Contains("_req1", message.Xml, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_LowercasePercentEncodingAsSent_StillVerifies()
    {
        // Bindings §3.4.4.1: verify what was received; re-encoding (e.g. %2f vs %2F) would break real SPs' signatures.
        var deflated = Convert.ToBase64String(Deflate(AuthnRequestXml()));
        var unsigned = $"SAMLRequest={Uri.EscapeDataString(deflated).Replace("%2F", "%2f", StringComparison.Ordinal)}&RelayState=a%2fb&SigAlg={Uri.EscapeDataString(Saml2Names.RsaSha256).ToLowerInvariant()}";
        var signature = SpCertificate.GetRSAPrivateKey()!.SignData(Encoding.ASCII.GetBytes(unsigned), System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);

        var message = RedirectBinding.Decode(unsigned + "&Signature=" + Uri.EscapeDataString(Convert.ToBase64String(signature)), SamlParameters.Request);

        SignatureValidation.VerifyRedirect(message, SpCertificate);
        Assert.Equal("a/b", message.RelayState);
    }

    [Fact]
    public void Decode_RelayStateChangedAfterSigning_FailsVerification()
    {
        var query = RedirectBinding.Encode(AuthnRequestXml(), SamlParameters.Request, "ok", SpCertificate.GetRSAPrivateKey());

        var message = RedirectBinding.Decode(query.Replace("RelayState=ok", "RelayState=ko", StringComparison.Ordinal), SamlParameters.Request);

        Assert.Throws<SamlProtocolException>(() => SignatureValidation.VerifyRedirect(message, SpCertificate));
    }

    [Fact]
    public void Decode_SignedWithAnotherKey_FailsVerification()
    {
        var query = RedirectBinding.Encode(AuthnRequestXml(), SamlParameters.Request, null, AttackerCertificate.GetRSAPrivateKey());

        Assert.Throws<SamlProtocolException>(() => SignatureValidation.VerifyRedirect(RedirectBinding.Decode(query, SamlParameters.Request), SpCertificate));
    }

    [Fact]
    public void Decode_Sha1SigAlg_IsRefused()
    {
        var query = RedirectBinding.Encode(AuthnRequestXml(), SamlParameters.Request, null, SpCertificate.GetRSAPrivateKey())
            .Replace(Uri.EscapeDataString(Saml2Names.RsaSha256), Uri.EscapeDataString("http://www.w3.org/2000/09/xmldsig#rsa-sha1"), StringComparison.Ordinal);

        var error = Assert.Throws<SamlProtocolException>(() => SignatureValidation.VerifyRedirect(RedirectBinding.Decode(query, SamlParameters.Request), SpCertificate));

        Assert.Contains("SigAlg", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_EncodedPayloadOverTheCap_IsRefusedBeforeInflating()
    {
        var query = "SAMLRequest=" + new string('A', RedirectBinding.MaxEncodedChars + 1);

        var error = Assert.Throws<SamlProtocolException>(() => RedirectBinding.Decode(query, SamlParameters.Request));

        Assert.Contains("longer than", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_DeflateBomb_IsStoppedAtTheInflateCap()
    {
        // 10 MB of zeros deflate to about 10 KB: under the encoded cap, far over the inflated one.
        var bomb = Convert.ToBase64String(Deflate(new string('0', 10 * 1024 * 1024)));
        Assert.True(bomb.Length < RedirectBinding.MaxEncodedChars);

        var error = Assert.Throws<SamlProtocolException>(() => RedirectBinding.Decode("SAMLRequest=" + Uri.EscapeDataString(bomb), SamlParameters.Request));

        Assert.Contains("inflated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_RelayStateOver80Bytes_IsRefused()
    {
        var query = RedirectBinding.Encode(AuthnRequestXml(), SamlParameters.Request, new string('r', 81), null);

        var error = Assert.Throws<SamlProtocolException>(() => RedirectBinding.Decode(query, SamlParameters.Request));

        Assert.Contains("80 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_RepeatedParameter_IsRefused()
    {
        var query = RedirectBinding.Encode(AuthnRequestXml(), SamlParameters.Request, "a", null) + "&RelayState=b";

        Assert.Throws<SamlProtocolException>(() => RedirectBinding.Decode(query, SamlParameters.Request));
    }

    private static byte[] Deflate(string text)
    {
        using var buffer = new MemoryStream();
        using (var deflate = new DeflateStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(Encoding.UTF8.GetBytes(text));
        }

        return buffer.ToArray();
    }
}
