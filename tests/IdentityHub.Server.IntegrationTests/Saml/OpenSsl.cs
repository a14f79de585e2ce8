using IdentityHub.Saml;
using IdentityHub.Testing;

namespace IdentityHub.Server.IntegrationTests.Saml;

/// <summary>
/// The openssl command line tool as an independent verifier of HTTP-Redirect signatures (bindings §3.4.4.1):
/// the octets are cut from the URL exactly as the IdP wrote it, without IdentityHub's own decoder.
/// </summary>
public static class OpenSsl
{
    /// <summary>
    /// Checks the Signature of <paramref name="url"/> (as sent: not re-encoded) over
    /// "SAMLRequest=..&amp;RelayState=..&amp;SigAlg=.." with the public key of <paramref name="certificatePem"/>.
    /// </summary>
    public static async Task VerifyRedirectAsync(string url, string certificatePem)
    {
        ArgumentNullException.ThrowIfNull(url);
        var query = url.Contains('?', StringComparison.Ordinal) ? url[(url.IndexOf('?', StringComparison.Ordinal) + 1)..] : "";
        var raw = query.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "", StringComparer.Ordinal);
        var message = raw.ContainsKey("SAMLRequest") ? "SAMLRequest" : "SAMLResponse";
        Assert.True(raw.ContainsKey(message), "No SAMLRequest or SAMLResponse in " + url);
        Assert.True(raw.TryGetValue("SigAlg", out var sigAlg) && raw.TryGetValue("Signature", out _), "The Redirect message is not signed: " + url);
        Assert.Equal(Saml2Names.RsaSha256, Uri.UnescapeDataString(sigAlg!));

        // Bindings §3.4.4.1: the values as they appear in the URL, in this order, RelayState only when present.
        var octets = string.Join('&', new[] { message, "RelayState", "SigAlg" }.Where(raw.ContainsKey).Select(name => $"{name}={raw[name]}"));
        var signature = Convert.FromBase64String(Uri.UnescapeDataString(raw["Signature"]));

        using var files = new TempFiles();
        var openssl = TestEnvironment.Require(Prerequisite.OpenSsl, TestEnvironment.OpenSsl);
        var (pubCode, publicKey) = await ExternalTool.RunAsync(openssl, "x509", "-pubkey", "-noout", "-in", files.Write("cert.pem", certificatePem));
        Assert.True(pubCode == 0, "openssl x509 -pubkey failed: " + publicKey);
        var (code, output) = await ExternalTool.RunAsync(openssl, "dgst", "-sha256", "-verify", files.Write("pub.pem", publicKey),
            "-signature", files.Write("signature.bin", signature), files.Write("octets.txt", System.Text.Encoding.ASCII.GetBytes(octets)));
        Assert.True(code == 0 && output.Contains("Verified OK", StringComparison.Ordinal), $"openssl dgst -verify failed ({code}): {output}");
    }
}
