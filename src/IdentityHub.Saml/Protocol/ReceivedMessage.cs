using System.Globalization;
using System.Xml;

namespace IdentityHub.Saml.Protocol;

/// <summary>What every SAML request or response IdentityHub receives carries (SAML core §3.2.1, §3.2.2).</summary>
public abstract record ReceivedMessage(XmlElement Root, string Id, string Issuer, DateTimeOffset IssueInstant, string? Destination)
{
    /// <summary>Reads the common attributes of <paramref name="root"/>, which must be samlp:<paramref name="localName"/>.</summary>
    protected static (string Id, string Issuer, DateTimeOffset IssueInstant, string? Destination) ReadCommon(XmlElement root, string localName)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (root.LocalName != localName || root.NamespaceURI != Saml2Names.Protocol)
        {
            throw new SamlProtocolException($"Expected a samlp:{localName}, got {root.LocalName}.");
        }

        // SAML core §3.2.2: the version is checked first and answered with VersionMismatch.
        if (root.GetAttribute("Version") != "2.0")
        {
            throw new SamlProtocolException(SamlStatus.VersionMismatch, "Only SAML Version=\"2.0\" is supported.");
        }

        var id = root.GetAttribute("ID");
        if (id.Length is 0 or > 256)
        {
            throw new SamlProtocolException("The message ID is missing or longer than 256 characters.");
        }

        if (!DateTimeOffset.TryParse(root.GetAttribute("IssueInstant"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var issued))
        {
            throw new SamlProtocolException("IssueInstant is missing or not an xs:dateTime.");
        }

        var issuer = root.ChildNodes.OfType<XmlElement>()
            .FirstOrDefault(e => e.LocalName == "Issuer" && e.NamespaceURI == Saml2Names.Assertion)?.InnerText.Trim();
        if (string.IsNullOrEmpty(issuer))
        {
            throw new SamlProtocolException("The message has no saml:Issuer naming the service provider.");
        }

        var destination = root.HasAttribute("Destination") ? root.GetAttribute("Destination") : null;
        return (id, issuer, issued, destination);
    }

    /// <summary>
    /// IssueInstant within [now - maxAge - skew, now + skew]; Destination, when present (and it must be
    /// when the message is signed, bindings §3.4.5.2), names the endpoint that received it.
    /// </summary>
    public void CheckFreshnessAndDestination(DateTimeOffset now, TimeSpan skew, TimeSpan maxAge, Uri endpoint, bool isSigned)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (IssueInstant > now + skew)
        {
            throw new SamlProtocolException(SamlStatus.RequestDenied, "IssueInstant is in the future; check the service provider's clock.");
        }

        if (IssueInstant < now - maxAge - skew)
        {
            throw new SamlProtocolException(SamlStatus.RequestDenied, "IssueInstant is too old; the message has expired.");
        }

        if (Destination is null)
        {
            if (isSigned)
            {
                throw new SamlProtocolException(SamlStatus.RequestDenied, "A signed message must carry Destination (bindings §3.4.5.2).");
            }

            return;
        }

        if (!string.Equals(Destination, endpoint.AbsoluteUri, StringComparison.Ordinal))
        {
            throw new SamlProtocolException(SamlStatus.RequestDenied, $"Destination {Destination} is not this endpoint ({endpoint.AbsoluteUri}).");
        }
    }

    protected static XmlElement? Child(XmlElement parent, string ns, string localName) =>
        parent.ChildNodes.OfType<XmlElement>().FirstOrDefault(e => e.LocalName == localName && e.NamespaceURI == ns);
}

/// <summary>SAML core §3.4.1: an AuthnRequest, as received.</summary>
public sealed record AuthnRequest(
    XmlElement Root, string Id, string Issuer, DateTimeOffset IssueInstant, string? Destination,
    string? AssertionConsumerServiceUrl, int? AssertionConsumerServiceIndex, string? ProtocolBinding,
    bool ForceAuthn, bool IsPassive, string? NameIdFormat, RequestedAuthnContext? RequestedContext = null)
    : ReceivedMessage(Root, Id, Issuer, IssueInstant, Destination)
{
    public static AuthnRequest Read(XmlDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var root = document.DocumentElement ?? throw new SamlProtocolException("The message is empty.");
        var (id, issuer, issued, destination) = ReadCommon(root, "AuthnRequest");
        int? index = null;
        if (root.HasAttribute("AssertionConsumerServiceIndex"))
        {
            index = int.TryParse(root.GetAttribute("AssertionConsumerServiceIndex"), NumberStyles.None, CultureInfo.InvariantCulture, out var i)
                ? i
                : throw new SamlProtocolException("AssertionConsumerServiceIndex is not an unsigned short.");
        }

        var policy = Child(root, Saml2Names.Protocol, "NameIDPolicy");
        return new AuthnRequest(
            root, id, issuer, issued, destination,
            root.HasAttribute("AssertionConsumerServiceURL") ? root.GetAttribute("AssertionConsumerServiceURL") : null,
            index,
            root.HasAttribute("ProtocolBinding") ? root.GetAttribute("ProtocolBinding") : null,
            IsTrue(root, "ForceAuthn"), IsTrue(root, "IsPassive"),
            policy is not null && policy.HasAttribute("Format") ? policy.GetAttribute("Format") : null,
            RequestedAuthnContext.Read(Child(root, Saml2Names.Protocol, "RequestedAuthnContext")));
    }

    private static bool IsTrue(XmlElement root, string name) => root.GetAttribute(name) is "true" or "1";
}

/// <summary>What a requested authentication context asks of the sign-in.</summary>
public enum AuthnContextDemand
{
    /// <summary>A password session does (or nothing was requested).</summary>
    Any,

    /// <summary>Only a session with a second factor does.</summary>
    MultiFactor,

    /// <summary>No class IdentityHub can give meets the request: Core §3.3.2.2.1, answer NoAuthnContext.</summary>
    Unsatisfiable,
}

/// <summary>SAML core §3.3.2.2.1: the AuthnContextClassRefs an SP asks for and how they compare (exact by default).</summary>
public sealed record RequestedAuthnContext(string Comparison, IReadOnlyList<string> ClassRefs)
{
    // The classes IdentityHub gives, weakest first.
    private static readonly string[] Known = [AuthnContextClasses.PasswordProtectedTransport, AuthnContextClasses.MultiFactor];

    public static RequestedAuthnContext? Read(XmlElement? element)
    {
        if (element is null)
        {
            return null;
        }

        var refs = element.ChildNodes.OfType<XmlElement>()
            .Where(e => e.LocalName == "AuthnContextClassRef" && e.NamespaceURI == Saml2Names.Assertion)
            .Select(e => e.InnerText.Trim())
            .ToList();
        var comparison = element.HasAttribute("Comparison") ? element.GetAttribute("Comparison") : "exact";
        return comparison is "exact" or "minimum" or "maximum" or "better"
            ? new RequestedAuthnContext(comparison, refs)
            : throw new SamlProtocolException($"RequestedAuthnContext Comparison '{comparison}' is not exact, minimum, maximum or better.");
    }

    /// <summary>What the request demands of the session, by the rank of the known classes it names.</summary>
    public AuthnContextDemand Demand()
    {
        var ranks = ClassRefs.Select(c => Array.IndexOf(Known, c)).Where(r => r >= 0).ToList();
        if (ranks.Count == 0)
        {
            // Only classes IdentityHub never gives (an empty request asks for nothing).
            return ClassRefs.Count == 0 ? AuthnContextDemand.Any : AuthnContextDemand.Unsatisfiable;
        }

        return Comparison switch
        {
            // At least as strong as one of them, or stronger than one: the weakest named sets the floor.
            "minimum" or "exact" => ranks.Min() == 0 ? AuthnContextDemand.Any : AuthnContextDemand.MultiFactor,
            "better" => ranks.Min() == 0 ? AuthnContextDemand.MultiFactor : AuthnContextDemand.Unsatisfiable,
            _ => AuthnContextDemand.Any,
        };
    }
}

/// <summary>SAML core §3.7.1: a LogoutRequest, as received.</summary>
public sealed record LogoutRequest(
    XmlElement Root, string Id, string Issuer, DateTimeOffset IssueInstant, string? Destination,
    string NameId, IReadOnlyList<string> SessionIndexes, DateTimeOffset? NotOnOrAfter = null)
    : ReceivedMessage(Root, Id, Issuer, IssueInstant, Destination)
{
    public static LogoutRequest Read(XmlDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var root = document.DocumentElement ?? throw new SamlProtocolException("The message is empty.");
        var (id, issuer, issued, destination) = ReadCommon(root, "LogoutRequest");
        var nameId = Child(root, Saml2Names.Assertion, "NameID")?.InnerText.Trim()
            ?? throw new SamlProtocolException("The LogoutRequest has no saml:NameID (encrypted identifiers are not supported).");
        var indexes = root.ChildNodes.OfType<XmlElement>()
            .Where(e => e.LocalName == "SessionIndex" && e.NamespaceURI == Saml2Names.Protocol)
            .Select(e => e.InnerText.Trim())
            .ToList();
        DateTimeOffset? notOnOrAfter = null;
        if (root.HasAttribute("NotOnOrAfter"))
        {
            notOnOrAfter = DateTimeOffset.TryParse(root.GetAttribute("NotOnOrAfter"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expiry)
                ? expiry
                : throw new SamlProtocolException("NotOnOrAfter is not an xs:dateTime.");
        }

        return new LogoutRequest(root, id, issuer, issued, destination, nameId, indexes, notOnOrAfter);
    }

    /// <summary>Core §3.7.1: past NotOnOrAfter the request has expired and is not acted on (the skew allowed for the SP's clock).</summary>
    public void CheckNotExpired(DateTimeOffset now, TimeSpan skew)
    {
        if (NotOnOrAfter is { } expiry && now - skew >= expiry)
        {
            throw new SamlProtocolException(SamlStatus.RequestDenied, "The LogoutRequest has expired (its NotOnOrAfter has passed).");
        }
    }
}

/// <summary>SAML core §3.7.2: a LogoutResponse, as received.</summary>
public sealed record LogoutResponse(
    XmlElement Root, string Id, string Issuer, DateTimeOffset IssueInstant, string? Destination, string? InResponseTo, string Status)
    : ReceivedMessage(Root, Id, Issuer, IssueInstant, Destination)
{
    public static LogoutResponse Read(XmlDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var root = document.DocumentElement ?? throw new SamlProtocolException("The message is empty.");
        var (id, issuer, issued, destination) = ReadCommon(root, "LogoutResponse");
        var status = Child(root, Saml2Names.Protocol, "Status") is { } s && Child(s, Saml2Names.Protocol, "StatusCode") is { } code
            ? code.GetAttribute("Value")
            : throw new SamlProtocolException("The LogoutResponse has no samlp:Status.");
        return new LogoutResponse(root, id, issuer, issued, destination, root.HasAttribute("InResponseTo") ? root.GetAttribute("InResponseTo") : null, status);
    }
}
