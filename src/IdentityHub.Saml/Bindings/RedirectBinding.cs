using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using IdentityHub.Saml.Protocol;

namespace IdentityHub.Saml.Bindings;

/// <summary>A message received over HTTP-Redirect, with the exact octets its signature (if any) covers.</summary>
public sealed record RedirectMessage(string Xml, string? RelayState, string? SigAlg, byte[]? Signature, byte[] SignedOctets);

/// <summary>SAML bindings §3.4: HTTP-Redirect with DEFLATE encoding.</summary>
public static class RedirectBinding
{
    /// <summary>Encoded size allowed before anything is decoded or inflated (a deflate bomb is refused unread).</summary>
    public const int MaxEncodedChars = 16 * 1024;

    /// <summary>Inflated size allowed; a real request is a few kilobytes.</summary>
    public const int MaxInflatedBytes = 128 * 1024;

    /// <summary>
    /// Reads <paramref name="parameter"/> (SAMLRequest or SAMLResponse) from the raw query string exactly as
    /// received. Bindings §3.4.4.1: the signature covers "SAMLRequest=..&amp;RelayState=..&amp;SigAlg=.." in
    /// that order, with the values URL-encoded as they arrived, so nothing is re-encoded here.
    /// </summary>
    public static RedirectMessage Decode(string rawQuery, string parameter)
    {
        ArgumentNullException.ThrowIfNull(rawQuery);
        var raw = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in rawQuery.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? pair : pair[..equals];
            if (name is not (SamlParameters.Request or SamlParameters.Response or SamlParameters.RelayState or SamlParameters.SigAlg or SamlParameters.Signature))
            {
                continue;
            }

            // A repeated protocol parameter makes "the" signed value ambiguous.
            if (!raw.TryAdd(name, equals < 0 ? "" : pair[(equals + 1)..]))
            {
                throw new SamlProtocolException($"The parameter {name} appears more than once.");
            }
        }

        if (!raw.TryGetValue(parameter, out var encoded) || encoded.Length == 0)
        {
            throw new SamlProtocolException($"The query string has no {parameter}.");
        }

        if (encoded.Length > MaxEncodedChars)
        {
            throw new SamlProtocolException($"{parameter} is longer than {MaxEncodedChars} characters.");
        }

        var relayState = raw.TryGetValue(SamlParameters.RelayState, out var rawRelay) ? Uri.UnescapeDataString(Plus(rawRelay)) : null;
        RelayStateRule.Check(relayState);
        var xml = Inflate(Base64(Uri.UnescapeDataString(Plus(encoded)), parameter));

        var signed = new StringBuilder().Append(parameter).Append('=').Append(encoded);
        if (rawRelay is not null)
        {
            signed.Append('&').Append(SamlParameters.RelayState).Append('=').Append(rawRelay);
        }

        string? sigAlg = null;
        byte[]? signature = null;
        if (raw.TryGetValue(SamlParameters.SigAlg, out var rawSigAlg))
        {
            signed.Append('&').Append(SamlParameters.SigAlg).Append('=').Append(rawSigAlg);
            sigAlg = Uri.UnescapeDataString(Plus(rawSigAlg));
            signature = raw.TryGetValue(SamlParameters.Signature, out var rawSignature)
                ? Base64(Uri.UnescapeDataString(Plus(rawSignature)), SamlParameters.Signature)
                : throw new SamlProtocolException("SigAlg is present but Signature is missing.");
        }
        else if (raw.ContainsKey(SamlParameters.Signature))
        {
            throw new SamlProtocolException("Signature is present but SigAlg is missing.");
        }

        return new RedirectMessage(xml, relayState, sigAlg, signature, Encoding.ASCII.GetBytes(signed.ToString()));
    }

    /// <summary>Builds the query string (without '?') carrying <paramref name="xml"/>, signed with RSA-SHA256 when a key is given.</summary>
    public static string Encode(string xml, string parameter, string? relayState, RSA? signingKey)
    {
        ArgumentNullException.ThrowIfNull(xml);
        using var buffer = new MemoryStream();
        using (var deflate = new DeflateStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(Encoding.UTF8.GetBytes(xml));
        }

        var query = new StringBuilder().Append(parameter).Append('=').Append(Uri.EscapeDataString(Convert.ToBase64String(buffer.ToArray())));
        if (!string.IsNullOrEmpty(relayState))
        {
            query.Append('&').Append(SamlParameters.RelayState).Append('=').Append(Uri.EscapeDataString(relayState));
        }

        if (signingKey is not null)
        {
            query.Append('&').Append(SamlParameters.SigAlg).Append('=').Append(Uri.EscapeDataString(Saml2Names.RsaSha256));
            var signature = signingKey.SignData(Encoding.ASCII.GetBytes(query.ToString()), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            query.Append('&').Append(SamlParameters.Signature).Append('=').Append(Uri.EscapeDataString(Convert.ToBase64String(signature)));
        }

        return query.ToString();
    }

    /// <summary>Form-style encoders write a space as '+'; Uri.UnescapeDataString does not undo that.</summary>
    private static string Plus(string value) => value.Replace('+', ' ').Replace(" ", "%20", StringComparison.Ordinal);

    private static byte[] Base64(string value, string parameter)
    {
        try
        {
            return Convert.FromBase64String(value.Replace(" ", "+", StringComparison.Ordinal));
        }
        catch (FormatException ex)
        {
            throw new SamlProtocolException($"{parameter} is not valid base64.", ex);
        }
    }

    private static string Inflate(byte[] compressed)
    {
        using var input = new DeflateStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var output = new MemoryStream();
        var chunk = new byte[8192];
        try
        {
            int read;
            while ((read = input.Read(chunk, 0, chunk.Length)) > 0)
            {
                // Stop a deflate bomb as soon as it exceeds the cap, not after it has filled memory.
                if (output.Length + read > MaxInflatedBytes)
                {
                    throw new SamlProtocolException($"The inflated message is larger than {MaxInflatedBytes} bytes.");
                }

                output.Write(chunk, 0, read);
            }
        }
        catch (InvalidDataException ex)
        {
            throw new SamlProtocolException("The message is not DEFLATE-encoded (bindings §3.4.4.1).", ex);
        }

        return Encoding.UTF8.GetString(output.ToArray());
    }
}

/// <summary>The HTTP parameter names of bindings §3.4.4 and §3.5.4.</summary>
public static class SamlParameters
{
    public const string Request = "SAMLRequest";
    public const string Response = "SAMLResponse";
    public const string RelayState = "RelayState";
    public const string SigAlg = "SigAlg";
    public const string Signature = "Signature";
}

/// <summary>Bindings §3.4.3 and §3.5.3: RelayState MUST NOT exceed 80 bytes and is returned unchanged.</summary>
public static class RelayStateRule
{
    public const int MaxBytes = 80;

    public static void Check(string? relayState)
    {
        if (relayState is not null && Encoding.UTF8.GetByteCount(relayState) > MaxBytes)
        {
            throw new SamlProtocolException($"RelayState is longer than {MaxBytes} bytes (bindings §3.4.3).");
        }
    }
}
