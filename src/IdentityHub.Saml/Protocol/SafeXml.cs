using System.Xml;

namespace IdentityHub.Saml.Protocol;

/// <summary>
/// The only way IdentityHub parses SAML XML received from outside: no DTD (XXE, entity expansion), no
/// external resolution, bounded size, whitespace preserved (signatures cover it), and every ID unique
/// (signature wrapping relies on two elements answering to one ID).
/// </summary>
public static class SafeXml
{
    /// <summary>Far above any real AuthnRequest or LogoutRequest, far below anything harmful.</summary>
    public const int MaxMessageChars = 256 * 1024;

    /// <summary>Characters entity references may expand to in one message.</summary>
    public const int MaxCharactersFromEntities = 1024;

    private static readonly string[] IdAttributeNames = ["ID", "Id", "id", "AssertionID"];

    public static XmlDocument Parse(string xml, int maxChars = MaxMessageChars)
    {
        ArgumentNullException.ThrowIfNull(xml);
        if (xml.Length > maxChars)
        {
            throw new SamlProtocolException($"The SAML message is larger than {maxChars} characters.");
        }

        var settings = new XmlReaderSettings
        {
            // XXE and "billion laughs": a DTD is refused outright rather than ignored.
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            // No DTD means no declared entities; a small cap still bounds expansion should that ever change (0 is "unlimited").
            MaxCharactersFromEntities = MaxCharactersFromEntities,
            MaxCharactersInDocument = maxChars,
            IgnoreProcessingInstructions = true,
            // Comments can split a signed text node (the "comment truncation" attack); exc-c14n ignores them anyway.
            IgnoreComments = true,
        };
        var document = new XmlDocument { PreserveWhitespace = true, XmlResolver = null };
        try
        {
            using var reader = XmlReader.Create(new StringReader(xml), settings);
            document.Load(reader);
        }
        catch (XmlException ex)
        {
            throw new SamlProtocolException("The SAML message is not acceptable XML (DTDs are not allowed): " + ex.Message, ex);
        }

        RejectDuplicateIds(document);
        return document;
    }

    /// <summary>XML Signature Wrapping needs two elements with the same ID; a unique ID per document defeats it.</summary>
    public static void RejectDuplicateIds(XmlDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (XmlElement element in document.SelectNodes("//*")!)
        {
            foreach (var name in IdAttributeNames)
            {
                if (element.GetAttributeNode(name) is { } id && !seen.Add(id.Value))
                {
                    throw new SamlProtocolException($"The ID '{id.Value}' appears more than once in the message.");
                }
            }
        }
    }

    public static XmlNamespaceManager Namespaces(XmlDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var ns = new XmlNamespaceManager(document.NameTable);
        ns.AddNamespace("samlp", Saml2Names.Protocol);
        ns.AddNamespace("saml", Saml2Names.Assertion);
        ns.AddNamespace("md", Saml2Names.Metadata);
        ns.AddNamespace("ds", Saml2Names.XmlDsig);
        ns.AddNamespace("xenc", Saml2Names.XmlEnc);
        return ns;
    }
}
