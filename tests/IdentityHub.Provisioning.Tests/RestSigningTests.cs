using IdentityHub.Provisioning.Connectors.Rest;

namespace IdentityHub.Provisioning.Tests;

/// <summary>
/// The HMAC presets' signature for every algorithm and encoding, against values computed independently with openssl
/// (<c>printf 'k1\n1700000000\nn1\nPUT\n/x?a=1\n{}' | openssl dgst -sha256 -hmac s3cret</c>, and so on).
/// </summary>
public sealed class RestSigningTests
{
    private static readonly RestRequest Request = new("upsertUser", HttpMethod.Put, new Uri("https://vendor.example/x?a=1"), [], "{}");

    [Theory]
    [InlineData(RestSignatureAlgorithm.HmacSha256, RestSignatureEncoding.Hex, "8f5712739556519872c58707893d18e7a28147d09c05b20bbb0a1f783891a614")]
    [InlineData(RestSignatureAlgorithm.HmacSha256, RestSignatureEncoding.HexUpper, "8F5712739556519872C58707893D18E7A28147D09C05B20BBB0A1F783891A614")]
    [InlineData(RestSignatureAlgorithm.HmacSha256, RestSignatureEncoding.Base64, "j1cSc5VWUZhyxYcHiT0Y56KBR9CcBbILuwofeDiRphQ=")]
    [InlineData(RestSignatureAlgorithm.HmacSha1, RestSignatureEncoding.Hex, "132b20ea323c81ae2d83c5db02f6958c62e560a2")]
    [InlineData(RestSignatureAlgorithm.HmacSha1, RestSignatureEncoding.Base64, "Eysg6jI8ga4tg8XbAvaVjGLlYKI=")]
    [InlineData(RestSignatureAlgorithm.HmacMd5, RestSignatureEncoding.Hex, "74c73504a4f1116430dfcb4a7558861f")]
    [InlineData(RestSignatureAlgorithm.HmacMd5, RestSignatureEncoding.Base64, "dMc1BKTxEWQw38tKdViGHw==")]
    [InlineData(RestSignatureAlgorithm.Md5, RestSignatureEncoding.Hex, "5d426be1586d855ed9bd5893d2c733ea")]
    public void Signature_CanonicalStringOfAllParts_MatchesOpenSsl(RestSignatureAlgorithm algorithm, RestSignatureEncoding encoding, string expected)
    {
        var auth = new RestAuth { Type = RestAuthType.Hmac, AppKey = "k1", Algorithm = algorithm, Encoding = encoding };
        var canonical = RestTransport.StringToSign(auth, Request, "1700000000", "n1");

        Assert.Equal("k1\n1700000000\nn1\nPUT\n/x?a=1\n{}", canonical);
        Assert.Equal(expected, RestTransport.Signature(auth, "s3cret", canonical));
    }

    [Fact]
    public void StringToSign_OtherOrderAndSeparator_JoinsThePartsAsConfigured()
    {
        var auth = new RestAuth { AppKey = "k1", StringToSign = [RestSignaturePart.Method, RestSignaturePart.PathAndQuery, RestSignaturePart.Timestamp], Separator = "&" };

        Assert.Equal("PUT&/x?a=1&1700000000", RestTransport.StringToSign(auth, Request, "1700000000", "n1"));
    }
}
