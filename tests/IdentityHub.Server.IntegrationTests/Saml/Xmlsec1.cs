using System.Diagnostics;
using System.Xml;
using IdentityHub.Saml;
using IdentityHub.Saml.Protocol;
using IdentityHub.Testing;

namespace IdentityHub.Server.IntegrationTests.Saml;

/// <summary>
/// Debian's xmlsec1 as an independent verifier: every Response the IdP sends in these tests must verify
/// with it, using only the certificate published in /saml/metadata.
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

    /// <summary>Verifies the Response's own signature (if any) and the Assertion's (if any) with xmlsec1; fails the test otherwise.</summary>
    public static async Task VerifyResponseAsync(string responseXml, string certificatePem)
    {
        var document = SafeXml.Parse(responseXml);
        var ns = SafeXml.Namespaces(document);
        var responseSigned = document.SelectSingleNode("/samlp:Response/ds:Signature", ns) is not null;
        var assertion = document.SelectSingleNode("/samlp:Response/saml:Assertion", ns) as XmlElement;
        Assert.True(responseSigned || assertion?.SelectSingleNode("ds:Signature", ns) is not null, "Neither the Response nor its Assertion is signed.");
        if (responseSigned)
        {
            await VerifyAsync(responseXml, certificatePem, "urn:oasis:names:tc:SAML:2.0:protocol:Response");
        }

        if (assertion?.SelectSingleNode("ds:Signature", ns) is not null)
        {
            // Exclusive c14n makes the assertion's signature independent of its ancestors: verify it alone.
            await VerifyAsync(assertion.OuterXml, certificatePem, "urn:oasis:names:tc:SAML:2.0:assertion:Assertion");
        }
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

    private static async Task<(int Code, string Output)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(TestEnvironment.Require(Prerequisite.Xmlsec1, TestEnvironment.Xmlsec1))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    private sealed class TempFiles : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("identityhub-xmlsec").FullName;

        public string Path(string name) => System.IO.Path.Combine(_dir, name);

        public string Write(string name, string content)
        {
            File.WriteAllText(Path(name), content);
            return Path(name);
        }

        public void Dispose() => Directory.Delete(_dir, recursive: true);
    }
}
