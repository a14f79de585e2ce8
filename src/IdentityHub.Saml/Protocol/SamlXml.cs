using System.Globalization;
using System.Security.Cryptography;
using System.Xml;

namespace IdentityHub.Saml.Protocol;

/// <summary>Small helpers for writing SAML elements IdentityHub sends.</summary>
public static class SamlXml
{
    /// <summary>SAML core §1.3.4: an xs:ID with at least 128 bits of randomness, starting with a letter or '_'.</summary>
    public static string NewId() => "_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

    /// <summary>SAML core §1.3.3: UTC, no time zone offset.</summary>
    public static string Instant(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    public static XmlElement Element(XmlDocument document, string prefix, string ns, string localName, params (string Name, string? Value)[] attributes)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(attributes);
        var element = document.CreateElement(prefix, localName, ns);
        foreach (var (name, value) in attributes)
        {
            if (value is not null)
            {
                element.SetAttribute(name, value);
            }
        }

        return element;
    }

    public static XmlElement Add(this XmlElement parent, XmlElement child)
    {
        ArgumentNullException.ThrowIfNull(parent);
        parent.AppendChild(child);
        return child;
    }

    public static XmlElement Text(this XmlElement element, string text)
    {
        ArgumentNullException.ThrowIfNull(element);
        element.AppendChild(element.OwnerDocument.CreateTextNode(text));
        return element;
    }

    public static XmlElement Issuer(XmlDocument document, string entityId) =>
        Element(document, "saml", Saml2Names.Assertion, "Issuer").Text(entityId);

    public static XmlElement Status(XmlDocument document, string code, string? message = null)
    {
        var status = Element(document, "samlp", Saml2Names.Protocol, "Status");
        var codeElement = status.Add(Element(document, "samlp", Saml2Names.Protocol, "StatusCode", ("Value", TopLevel(code))));
        if (TopLevel(code) != code)
        {
            // SAML core §3.2.2.2: second-level codes nest under a top-level one.
            codeElement.Add(Element(document, "samlp", Saml2Names.Protocol, "StatusCode", ("Value", code)));
        }

        if (message is not null)
        {
            status.Add(Element(document, "samlp", Saml2Names.Protocol, "StatusMessage").Text(message));
        }

        return status;
    }

    private static string TopLevel(string code) => code switch
    {
        SamlStatus.Success or SamlStatus.Requester or SamlStatus.Responder or SamlStatus.VersionMismatch => code,
        SamlStatus.NoPassive or SamlStatus.RequestDenied or SamlStatus.InvalidNameIdPolicy => SamlStatus.Requester,
        _ => SamlStatus.Responder,
    };
}
