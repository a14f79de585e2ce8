using System.Security.Cryptography.X509Certificates;
using System.Xml;
using IdentityHub.Saml.Protocol;
using IdentityHub.Saml.Signing;

namespace IdentityHub.Saml.Assertions;

/// <summary>One SAML attribute with its values (SAML core §2.7.3.1), its Name read as <paramref name="NameFormat"/> says (§8.2).</summary>
public sealed record AttributeValues(string Name, IReadOnlyList<string> Values, string NameFormat = AttributeNameFormats.Basic);

/// <summary>Everything that goes into a successful login Response.</summary>
public sealed record LoginResponseContent
{
    public required string IdpEntityId { get; init; }
    public required string SpEntityId { get; init; }
    public required Uri AssertionConsumerService { get; init; }
    /// <summary>Null for IdP-initiated login (profiles §4.1.5: no InResponseTo then).</summary>
    public string? InResponseTo { get; init; }
    public required string NameId { get; init; }
    public required string NameIdFormat { get; init; }
    public required string SessionIndex { get; init; }
    public required DateTimeOffset AuthnInstant { get; init; }
    public required string AuthnContextClass { get; init; }
    public IReadOnlyList<AttributeValues> Attributes { get; init; } = [];
    public required DateTimeOffset Now { get; init; }
    /// <summary>Subtracted from NotBefore, so a service provider whose clock is slightly behind accepts the assertion.</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromMinutes(2);
    public TimeSpan Lifetime { get; init; } = TimeSpan.FromMinutes(5);
    public bool SignResponse { get; init; } = true;
    public bool SignAssertion { get; init; } = true;
    /// <summary>When set, the assertion is sent as an EncryptedAssertion for this certificate's key.</summary>
    public X509Certificate2? EncryptFor { get; init; }
}

/// <summary>SAML core §3.3.3 and profiles §4.1.4.2: the Response IdentityHub posts to an assertion consumer service.</summary>
public static class LoginResponse
{
    public static XmlDocument Build(LoginResponseContent content, X509Certificate2 signingCertificate)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(signingCertificate);
        var document = new XmlDocument { PreserveWhitespace = true };
        var response = ResponseRoot(document, content.IdpEntityId, content.AssertionConsumerService, content.InResponseTo, content.Now);
        response.Add(SamlXml.Status(document, SamlStatus.Success));
        var assertion = response.Add(Assertion(document, content));
        if (content.SignAssertion)
        {
            XmlSigning.SignEnveloped(assertion, signingCertificate);
        }

        if (content.EncryptFor is not null)
        {
            // Sign, then encrypt (SAML core §6.1): the service provider decrypts, then checks the signature.
            AssertionEncryption.Encrypt(assertion, content.EncryptFor);
        }

        if (content.SignResponse)
        {
            XmlSigning.SignEnveloped(response, signingCertificate);
        }

        return document;
    }

    /// <summary>A Response carrying only a failure status (e.g. NoPassive), always signed.</summary>
    public static XmlDocument Error(
        string idpEntityId, Uri assertionConsumerService, string? inResponseTo, string status, string message, DateTimeOffset now, X509Certificate2 signingCertificate)
    {
        var document = new XmlDocument { PreserveWhitespace = true };
        var response = ResponseRoot(document, idpEntityId, assertionConsumerService, inResponseTo, now);
        response.Add(SamlXml.Status(document, status, message));
        XmlSigning.SignEnveloped(response, signingCertificate);
        return document;
    }

    private static XmlElement ResponseRoot(XmlDocument document, string idpEntityId, Uri destination, string? inResponseTo, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var response = SamlXml.Element(document, "samlp", Saml2Names.Protocol, "Response",
            ("ID", SamlXml.NewId()), ("Version", "2.0"), ("IssueInstant", SamlXml.Instant(now)),
            ("Destination", destination.AbsoluteUri), ("InResponseTo", inResponseTo));
        response.SetAttribute("xmlns:saml", Saml2Names.Assertion);
        document.AppendChild(response);
        response.Add(SamlXml.Issuer(document, idpEntityId));
        return response;
    }

    private static XmlElement Assertion(XmlDocument document, LoginResponseContent c)
    {
        const string A = Saml2Names.Assertion;
        var notOnOrAfter = SamlXml.Instant(c.Now + c.Lifetime);
        var assertion = SamlXml.Element(document, "saml", A, "Assertion",
            ("ID", SamlXml.NewId()), ("Version", "2.0"), ("IssueInstant", SamlXml.Instant(c.Now)));
        assertion.Add(SamlXml.Issuer(document, c.IdpEntityId));

        // Profiles §4.1.4.2: a bearer SubjectConfirmation naming the ACS, the request and an expiry.
        var subject = assertion.Add(SamlXml.Element(document, "saml", A, "Subject"));
        subject.Add(SamlXml.Element(document, "saml", A, "NameID", ("Format", c.NameIdFormat), ("SPNameQualifier", c.NameIdFormat == NameIdFormats.Persistent ? c.SpEntityId : null))).Text(c.NameId);
        var confirmation = subject.Add(SamlXml.Element(document, "saml", A, "SubjectConfirmation", ("Method", Saml2Names.BearerConfirmation)));
        confirmation.Add(SamlXml.Element(document, "saml", A, "SubjectConfirmationData",
            ("NotOnOrAfter", notOnOrAfter), ("Recipient", c.AssertionConsumerService.AbsoluteUri), ("InResponseTo", c.InResponseTo)));

        var conditions = assertion.Add(SamlXml.Element(document, "saml", A, "Conditions",
            ("NotBefore", SamlXml.Instant(c.Now - c.ClockSkew)), ("NotOnOrAfter", notOnOrAfter)));
        conditions.Add(SamlXml.Element(document, "saml", A, "AudienceRestriction"))
            .Add(SamlXml.Element(document, "saml", A, "Audience")).Text(c.SpEntityId);

        var authn = assertion.Add(SamlXml.Element(document, "saml", A, "AuthnStatement",
            ("AuthnInstant", SamlXml.Instant(c.AuthnInstant)), ("SessionIndex", c.SessionIndex)));
        authn.Add(SamlXml.Element(document, "saml", A, "AuthnContext"))
            .Add(SamlXml.Element(document, "saml", A, "AuthnContextClassRef")).Text(c.AuthnContextClass);

        var withValues = c.Attributes.Where(a => a.Values.Count > 0).ToList();
        if (withValues.Count > 0)
        {
            var statement = assertion.Add(SamlXml.Element(document, "saml", A, "AttributeStatement"));
            foreach (var attribute in withValues)
            {
                var element = statement.Add(SamlXml.Element(document, "saml", A, "Attribute",
                    ("Name", attribute.Name), ("NameFormat", attribute.NameFormat)));
                foreach (var value in attribute.Values)
                {
                    element.Add(SamlXml.Element(document, "saml", A, "AttributeValue")).Text(value);
                }
            }
        }

        return assertion;
    }
}
