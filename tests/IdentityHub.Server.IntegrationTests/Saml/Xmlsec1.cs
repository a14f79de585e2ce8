using System.Xml;
using IdentityHub.Saml;
using IdentityHub.Saml.Protocol;
using IdentityHub.Testing;

namespace IdentityHub.Server.IntegrationTests.Saml;

/// <summary>
/// Debian's xmlsec1 as an independent verifier: every XML message the IdP sends in these tests must verify
/// with it, using only the certificate published in /saml/metadata (<see cref="IdpMessages"/> sees to that).
/// </summary>
public static class Xmlsec1
{
    /// <summary>The certificate in our metadata, as PEM.</summary>
    public static async Task<string> MetadataCertificatePemAsync(HttpClient client)
    {
        var metadata = SafeXml.Parse(await client.GetStringAsync("/saml/metadata"));
        var base64 = metadata.GetElementsByTagName("X509Certificate", Saml2Names.XmlDsig)[0]!.InnerText.Trim();
        return "-----BEGIN CERTIFICATE-----\n" + string.Join('\n', base64.Chunk(64).Select(c => new string(c))) + "\n-----END CERTIFICATE-----\n";
    }

    /// <summary>
    /// Verifies with xmlsec1 the Response's own signature (if any) and its Assertion's (if any), decrypting an
    /// EncryptedAssertion first with <paramref name="decryptionKeyPem"/> (sign-then-encrypt, core §6.1: the
    /// assertion's signature is inside). Fails the test when nothing signed covers the content. Returns the
    /// decrypted Response, or null when the assertion was not encrypted.
    /// </summary>
    public static async Task<string?> VerifyResponseAsync(string responseXml, string certificatePem, string? decryptionKeyPem = null)
    {
        var document = SafeXml.Parse(responseXml);
        var ns = SafeXml.Namespaces(document);
        var responseSigned = document.SelectSingleNode("/samlp:Response/ds:Signature", ns) is not null;
        if (responseSigned)
        {
            await VerifyAsync(responseXml, certificatePem, "urn:oasis:names:tc:SAML:2.0:protocol:Response");
        }

        string? decrypted = null;
        if (document.SelectSingleNode("/samlp:Response/saml:EncryptedAssertion", ns) is not null)
        {
            Assert.True(decryptionKeyPem is not null, "The Response carries an EncryptedAssertion: give the SP's decryption key to check the assertion inside.");
            document = SafeXml.Parse(await DecryptAsync(responseXml, decryptionKeyPem!));
            // xmlsec1 leaves the plain Assertion inside saml:EncryptedAssertion; unwrap it, as an SP does after decrypting.
            var wrapper = (XmlElement)document.SelectSingleNode("/samlp:Response/saml:EncryptedAssertion", ns)!;
            var inner = wrapper.SelectSingleNode("saml:Assertion", ns);
            Assert.True(inner is not null, "xmlsec1 decrypted no saml:Assertion: " + document.OuterXml);
            wrapper.ParentNode!.ReplaceChild(inner!, wrapper);
            decrypted = document.OuterXml;
        }

        var assertion = document.SelectSingleNode("/samlp:Response/saml:Assertion", ns) as XmlElement;
        var assertionSigned = assertion?.SelectSingleNode("ds:Signature", ns) is not null;
        Assert.True(responseSigned || assertionSigned, "Neither the Response nor its Assertion is signed.");
        if (assertionSigned)
        {
            // Exclusive c14n makes the assertion's signature independent of its ancestors: verify it alone.
            await VerifyAsync(assertion!.OuterXml, certificatePem, "urn:oasis:names:tc:SAML:2.0:assertion:Assertion");
        }

        return decrypted;
    }

    /// <summary>Verifies the enveloped signature of the message's root element (LogoutRequest, LogoutResponse, ...), which must have one.</summary>
    public static async Task VerifyRootAsync(string xml, string certificatePem)
    {
        var root = SafeXml.Parse(xml).DocumentElement!;
        Assert.True(root.ChildNodes.OfType<XmlElement>().Any(e => e.LocalName == "Signature" && e.NamespaceURI == Saml2Names.XmlDsig), $"The {root.LocalName} is not signed.");
        await VerifyAsync(xml, certificatePem, $"{root.NamespaceURI}:{root.LocalName}");
    }

    public static async Task VerifyAsync(string xml, string certificatePem, string idNode)
    {
        using var files = new TempFiles();
        var (code, output) = await RunAsync("--verify", "--enabled-key-data", "x509,rsa", "--pubkey-cert-pem", files.Write("cert.pem", certificatePem),
            "--id-attr:ID", idNode, files.Write("message.xml", xml));
        Assert.True(code == 0 && output.Contains("OK", StringComparison.Ordinal), $"xmlsec1 --verify failed ({code}): {output}");
    }

    /// <summary>xmlsec1 --decrypt with the SP's private key; returns the decrypted document.</summary>
    public static async Task<string> DecryptAsync(string xml, string privateKeyPem)
    {
        using var files = new TempFiles();
        var output = files.Path("out.xml");
        var (code, log) = await RunAsync("--decrypt", "--privkey-pem", files.Write("key.pem", privateKeyPem), "--output", output, files.Write("message.xml", xml));
        Assert.True(code == 0, $"xmlsec1 --decrypt failed ({code}): {log}");
        return await File.ReadAllTextAsync(output);
    }

    private static Task<(int Code, string Output)> RunAsync(params string[] arguments) =>
        ExternalTool.RunAsync(TestEnvironment.Require(Prerequisite.Xmlsec1, TestEnvironment.Xmlsec1), arguments);
}
