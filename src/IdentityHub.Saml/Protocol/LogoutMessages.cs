using System.Security.Cryptography.X509Certificates;
using System.Xml;
using IdentityHub.Saml.Signing;

namespace IdentityHub.Saml.Protocol;

/// <summary>SAML core §3.7: the LogoutRequest and LogoutResponse IdentityHub sends.</summary>
public static class LogoutMessages
{
    /// <summary>A LogoutRequest telling a service provider the session ended. Signed enveloped when <paramref name="signWith"/> is given (POST binding).</summary>
    public static XmlDocument Request(
        string idpEntityId, Uri destination, string nameId, string nameIdFormat, string? spNameQualifier, string sessionIndex,
        DateTimeOffset now, X509Certificate2? signWith)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var document = new XmlDocument { PreserveWhitespace = true };
        var root = SamlXml.Element(document, "samlp", Saml2Names.Protocol, "LogoutRequest",
            ("ID", SamlXml.NewId()), ("Version", "2.0"), ("IssueInstant", SamlXml.Instant(now)), ("Destination", destination.AbsoluteUri),
            ("NotOnOrAfter", SamlXml.Instant(now.AddMinutes(5))));
        document.AppendChild(root);
        root.Add(SamlXml.Issuer(document, idpEntityId));
        root.Add(SamlXml.Element(document, "saml", Saml2Names.Assertion, "NameID", ("Format", nameIdFormat), ("SPNameQualifier", spNameQualifier))).Text(nameId);
        root.Add(SamlXml.Element(document, "samlp", Saml2Names.Protocol, "SessionIndex")).Text(sessionIndex);
        if (signWith is not null)
        {
            XmlSigning.SignEnveloped(root, signWith);
        }

        return document;
    }

    /// <summary>A LogoutResponse answering <paramref name="inResponseTo"/>.</summary>
    public static XmlDocument Response(
        string idpEntityId, Uri destination, string inResponseTo, string status, DateTimeOffset now, X509Certificate2? signWith)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var document = new XmlDocument { PreserveWhitespace = true };
        var root = SamlXml.Element(document, "samlp", Saml2Names.Protocol, "LogoutResponse",
            ("ID", SamlXml.NewId()), ("Version", "2.0"), ("IssueInstant", SamlXml.Instant(now)),
            ("Destination", destination.AbsoluteUri), ("InResponseTo", inResponseTo));
        document.AppendChild(root);
        root.Add(SamlXml.Issuer(document, idpEntityId));
        root.Add(SamlXml.Status(document, status));
        if (signWith is not null)
        {
            XmlSigning.SignEnveloped(root, signWith);
        }

        return document;
    }
}
