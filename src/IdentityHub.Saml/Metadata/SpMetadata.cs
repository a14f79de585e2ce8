using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Xml;
using IdentityHub.Saml.Protocol;

namespace IdentityHub.Saml.Metadata;

/// <summary>An indexed assertion consumer service endpoint (metadata §2.2.3).</summary>
public sealed record AcsEndpoint(int Index, string Binding, string Location, bool IsDefault);

/// <summary>An endpoint of the metadata left out because IdentityHub does not speak its binding.</summary>
public sealed record SkippedEndpoint(string Element, string Binding, string Location);

/// <summary>What a service provider's metadata says, ready to register.</summary>
public sealed record SpMetadataInfo(
    string EntityId,
    IReadOnlyList<AcsEndpoint> AssertionConsumerServices,
    string? SingleLogoutUrl,
    string? SingleLogoutBinding,
    byte[]? SigningCertificate,
    byte[]? EncryptionCertificate,
    bool AuthnRequestsSigned,
    string? NameIdFormat,
    IReadOnlyList<SkippedEndpoint> Skipped);

/// <summary>Reads an SPSSODescriptor (metadata §2.4.4) from untrusted XML, parsed by <see cref="SafeXml"/>.</summary>
public static class SpMetadata
{
    public const int MaxChars = 512 * 1024;

    /// <summary>Profiles §4.1.2: IdentityHub delivers Responses by HTTP-POST only (no Artifact, PAOS or POST-SimpleSign).</summary>
    private static readonly HashSet<string> AcsBindings = [Saml2Names.HttpPostBinding];

    /// <summary>Profiles §4.4: front-channel logout by HTTP-Redirect or HTTP-POST (no SOAP back channel, no Artifact).</summary>
    private static readonly HashSet<string> SloBindings = [Saml2Names.HttpRedirectBinding, Saml2Names.HttpPostBinding];

    public static SpMetadataInfo Read(string xml)
    {
        var document = SafeXml.Parse(xml, MaxChars);
        var ns = SafeXml.Namespaces(document);
        var entity = document.DocumentElement is { LocalName: "EntityDescriptor", NamespaceURI: Saml2Names.Metadata } root
            ? root
            : throw new SamlProtocolException("The document is not an md:EntityDescriptor.");
        var sp = entity.SelectSingleNode("md:SPSSODescriptor", ns) as XmlElement
            ?? throw new SamlProtocolException("The metadata has no md:SPSSODescriptor.");

        var skipped = new List<SkippedEndpoint>();
        var acs = Endpoints(sp, ns, "AssertionConsumerService", AcsBindings, skipped)
            .Select(e => new AcsEndpoint(
                int.TryParse(e.GetAttribute("index"), NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : 0,
                e.GetAttribute("Binding"), e.GetAttribute("Location"), e.GetAttribute("isDefault") is "true" or "1"))
            .ToList();
        if (acs.Count == 0)
        {
            throw new SamlProtocolException(
                "The metadata has no AssertionConsumerService with the HTTP-POST binding, the only one IdentityHub sends Responses with"
                + (skipped.Count == 0 ? "." : $" (left out: {string.Join(", ", skipped.Select(s => s.Binding).Distinct())})."));
        }

        var slo = Endpoints(sp, ns, "SingleLogoutService", SloBindings, skipped)
            .OrderBy(e => e.GetAttribute("Binding") == Saml2Names.HttpRedirectBinding ? 0 : 1)
            .FirstOrDefault();
        // Metadata §2.4.1: NameIDFormat elements list what the SP supports, in no required order; take the first IdentityHub
        // issues, a stable one before transient (which changes every session; an SP may still ask for it per request).
        var offered = sp.SelectNodes("md:NameIDFormat", ns)!.OfType<XmlElement>()
            .Select(e => e.InnerText.Trim())
            .Where(NameIdFormats.Supported.Contains)
            .ToList();
        var nameIdFormat = offered.FirstOrDefault(format => format != NameIdFormats.Transient) ?? offered.FirstOrDefault();

        return new SpMetadataInfo(
            entity.GetAttribute("entityID"),
            acs,
            slo?.GetAttribute("Location"),
            slo?.GetAttribute("Binding"),
            Certificate(sp, ns, "signing"),
            Certificate(sp, ns, "encryption"),
            sp.GetAttribute("AuthnRequestsSigned") is "true" or "1",
            nameIdFormat,
            skipped);
    }

    /// <summary>The endpoints named <paramref name="element"/> whose binding is supported; the others are noted in <paramref name="skipped"/>.</summary>
    private static List<XmlElement> Endpoints(XmlElement sp, XmlNamespaceManager ns, string element, HashSet<string> supported, List<SkippedEndpoint> skipped)
    {
        var usable = new List<XmlElement>();
        foreach (var endpoint in sp.SelectNodes("md:" + element, ns)!.OfType<XmlElement>())
        {
            if (supported.Contains(endpoint.GetAttribute("Binding")))
            {
                usable.Add(endpoint);
            }
            else
            {
                skipped.Add(new SkippedEndpoint(element, endpoint.GetAttribute("Binding"), endpoint.GetAttribute("Location")));
            }
        }

        return usable;
    }

    /// <summary>The certificate for <paramref name="use"/>; a KeyDescriptor without "use" serves both (metadata §2.4.1.1).</summary>
    private static byte[]? Certificate(XmlElement sp, XmlNamespaceManager ns, string use)
    {
        var text = sp.SelectNodes("md:KeyDescriptor", ns)!.OfType<XmlElement>()
            .Where(k => k.GetAttribute("use") is var u && (u == use || u.Length == 0))
            .Select(k => k.SelectSingleNode("ds:KeyInfo/ds:X509Data/ds:X509Certificate", ns)?.InnerText)
            .FirstOrDefault(t => !string.IsNullOrWhiteSpace(t));
        if (text is null)
        {
            return null;
        }

        try
        {
            var der = Convert.FromBase64String(string.Concat(text.Where(c => !char.IsWhiteSpace(c))));
            using var check = X509CertificateLoader.LoadCertificate(der);
            return der;
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            throw new SamlProtocolException($"The {use} certificate in the metadata is not a valid X.509 certificate.", ex);
        }
    }
}
