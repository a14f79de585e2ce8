using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Xml;
using IdentityHub.Saml.Bindings;
using IdentityHub.Saml.Protocol;

namespace IdentityHub.Saml.Signing;

/// <summary>
/// Every check a signature on a received message must pass, in one place. Only RSA with SHA-256 or
/// SHA-512 is accepted: SHA-1 signatures are refused (xmldsig-core1 §6.4.2 deprecates them).
/// </summary>
public static class SignatureValidation
{
    private static readonly HashSet<string> AllowedSignatureMethods =
        [Saml2Names.RsaSha256, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"];

    private static readonly HashSet<string> AllowedDigestMethods =
        [Saml2Names.Sha256, "http://www.w3.org/2001/04/xmlenc#sha512"];

    /// <summary>Whether <paramref name="root"/> carries an enveloped signature element as a direct child.</summary>
    public static bool HasEnvelopedSignature(XmlElement root)
    {
        ArgumentNullException.ThrowIfNull(root);
        return SignatureChildren(root).Count > 0;
    }

    /// <summary>
    /// SAML core §5.4: verifies the enveloped signature of <paramref name="root"/> with the registered
    /// certificate only; any key carried in the message is ignored.
    /// </summary>
    public static void VerifyEnveloped(XmlElement root, X509Certificate2 registered)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(registered);
        var signatures = SignatureChildren(root);
        if (signatures.Count != 1)
        {
            throw new SamlProtocolException(SamlStatus.RequestDenied, $"The message must carry exactly one signature as a child of its root element, not {signatures.Count}.");
        }

        var id = root.GetAttribute("ID");
        if (id.Length == 0)
        {
            throw new SamlProtocolException(SamlStatus.RequestDenied, "The signed element has no ID.");
        }

        SafeXml.RejectDuplicateIds(root.OwnerDocument);
        var signed = new RootOnlySignedXml(root);
        signed.LoadXml(signatures[0]);
        CheckSignedInfo(signed.SignedInfo!, id);

        using var key = registered.GetRSAPublicKey()
            ?? throw new SamlProtocolException(SamlStatus.RequestDenied, "The registered certificate holds no RSA key.");
        // CheckSignature(key) uses this key and nothing from the message's KeyInfo.
        if (!signed.CheckSignature(key))
        {
            throw new SamlProtocolException(SamlStatus.RequestDenied, "The signature does not verify with the service provider's registered certificate.");
        }
    }

    /// <summary>Bindings §3.4.4.1: the Redirect signature over the raw query octets, with the registered key.</summary>
    public static void VerifyRedirect(RedirectMessage message, X509Certificate2 registered)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(registered);
        if (message.SigAlg is null || message.Signature is null)
        {
            throw new SamlProtocolException(SamlStatus.RequestDenied, "The message is not signed.");
        }

        var hash = message.SigAlg switch
        {
            Saml2Names.RsaSha256 => HashAlgorithmName.SHA256,
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => HashAlgorithmName.SHA512,
            _ => throw new SamlProtocolException(SamlStatus.RequestDenied, $"SigAlg {message.SigAlg} is not accepted; use {Saml2Names.RsaSha256}."),
        };
        using var key = registered.GetRSAPublicKey()
            ?? throw new SamlProtocolException(SamlStatus.RequestDenied, "The registered certificate holds no RSA key.");
        if (!key.VerifyData(message.SignedOctets, message.Signature, hash, RSASignaturePadding.Pkcs1))
        {
            throw new SamlProtocolException(SamlStatus.RequestDenied, "The Redirect binding signature does not verify with the service provider's registered certificate.");
        }
    }

    private static List<XmlElement> SignatureChildren(XmlElement root) =>
        root.ChildNodes.OfType<XmlElement>().Where(e => e.LocalName == "Signature" && e.NamespaceURI == Saml2Names.XmlDsig).ToList();

    private static void CheckSignedInfo(SignedInfo info, string rootId)
    {
        if (info.CanonicalizationMethod != Saml2Names.ExclusiveC14n)
        {
            throw new SamlProtocolException(SamlStatus.RequestDenied, $"CanonicalizationMethod must be {Saml2Names.ExclusiveC14n}.");
        }

        if (!AllowedSignatureMethods.Contains(info.SignatureMethod ?? ""))
        {
            throw new SamlProtocolException(SamlStatus.RequestDenied, $"SignatureMethod {info.SignatureMethod} is not accepted; use {Saml2Names.RsaSha256}.");
        }

        // SAML core §5.4.2: exactly one Reference, to the element that carries the signature.
        if (info.References.Count != 1 || info.References[0] is not Reference reference)
        {
            throw new SamlProtocolException(SamlStatus.RequestDenied, "The signature must have exactly one Reference.");
        }

        if (reference.Uri != "#" + rootId)
        {
            throw new SamlProtocolException(SamlStatus.RequestDenied, "The signature's Reference does not point at the signed message's own ID.");
        }

        if (!AllowedDigestMethods.Contains(reference.DigestMethod ?? ""))
        {
            throw new SamlProtocolException(SamlStatus.RequestDenied, $"DigestMethod {reference.DigestMethod} is not accepted; use {Saml2Names.Sha256}.");
        }

        // SAML core §5.4.4: only the enveloped-signature and exclusive c14n transforms (no comments variant).
        foreach (Transform transform in reference.TransformChain)
        {
            if (transform.Algorithm is not (Saml2Names.EnvelopedSignature or Saml2Names.ExclusiveC14n))
            {
                throw new SamlProtocolException(SamlStatus.RequestDenied, $"Transform {transform.Algorithm} is not accepted.");
            }
        }
    }

    /// <summary>A SignedXml whose references can only ever resolve to the signed root element itself.</summary>
    private sealed class RootOnlySignedXml : SignedXml
    {
        private readonly XmlElement _root;

        public RootOnlySignedXml(XmlElement root)
            : base(root) => _root = root;

        public override XmlElement? GetIdElement(XmlDocument? document, string idValue) =>
            _root.GetAttribute("ID") == idValue ? _root : null;
    }
}
