namespace IdentityHub.Saml;

/// <summary>The URIs SAML 2.0 names things with (core, bindings, metadata), in one place.</summary>
public static class Saml2Names
{
    public const string Protocol = "urn:oasis:names:tc:SAML:2.0:protocol";
    public const string Assertion = "urn:oasis:names:tc:SAML:2.0:assertion";
    public const string Metadata = "urn:oasis:names:tc:SAML:2.0:metadata";
    public const string XmlDsig = "http://www.w3.org/2000/09/xmldsig#";
    public const string XmlEnc = "http://www.w3.org/2001/04/xmlenc#";

    public const string HttpRedirectBinding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
    public const string HttpPostBinding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

    public const string RsaSha256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
    public const string Sha256 = "http://www.w3.org/2001/04/xmlenc#sha256";
    public const string ExclusiveC14n = "http://www.w3.org/2001/10/xml-exc-c14n#";
    public const string EnvelopedSignature = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

    public const string BearerConfirmation = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
    public const string EntityNameIdFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
    public const string AttributeNameFormatBasic = AttributeNameFormats.Basic;
}

/// <summary>SAML core §8.2: how a service provider is to read an Attribute's Name.</summary>
public static class AttributeNameFormats
{
    /// <summary>A simple name (an xs:Name such as <c>email</c>); what IdentityHub sends unless told otherwise.</summary>
    public const string Basic = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";
    /// <summary>A URI, such as the <c>urn:oid:</c> names of the eduPerson and X.500 profiles.</summary>
    public const string Uri = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri";
    public const string Unspecified = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified";

    public static readonly IReadOnlyList<string> Supported = [Basic, Uri, Unspecified];
}

/// <summary>SAML core §8.3: the NameID formats IdentityHub issues.</summary>
public static class NameIdFormats
{
    /// <summary>A pairwise-stable opaque id per (SP, user).</summary>
    public const string Persistent = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
    public const string EmailAddress = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
    /// <summary>IdentityHub sends the employee number under this format.</summary>
    public const string Unspecified = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
    /// <summary>Core §8.3.8: a random value for one session at one SP.</summary>
    public const string Transient = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";

    public static readonly IReadOnlyList<string> Supported = [Persistent, Transient, EmailAddress, Unspecified];
}

/// <summary>SAML core §3.2.2.2: top-level and second-level status codes.</summary>
public static class SamlStatus
{
    public const string Success = "urn:oasis:names:tc:SAML:2.0:status:Success";
    public const string Requester = "urn:oasis:names:tc:SAML:2.0:status:Requester";
    public const string Responder = "urn:oasis:names:tc:SAML:2.0:status:Responder";
    public const string VersionMismatch = "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch";
    public const string RequestDenied = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied";
    public const string NoPassive = "urn:oasis:names:tc:SAML:2.0:status:NoPassive";
    public const string InvalidNameIdPolicy = "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy";
    public const string PartialLogout = "urn:oasis:names:tc:SAML:2.0:status:PartialLogout";
    public const string NoAuthnContext = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext";
}

/// <summary>SAML authentication context classes (authn-context §3.4).</summary>
public static class AuthnContextClasses
{
    /// <summary>Authn-context §3.4.12: a password over a protected (TLS) session.</summary>
    public const string PasswordProtectedTransport = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";

    /// <summary>
    /// REFEDS MFA Profile (2017): "two or more factors" without naming them; the OASIS classes (e.g.
    /// MobileTwoFactorContract, authn-context §3.4.5) each name one specific device and registration process.
    /// </summary>
    public const string MultiFactor = "https://refeds.org/profile/mfa";

    /// <summary>Authn-context §3.4.25: the IdP does not say how the user authenticated.</summary>
    public const string Unspecified = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified";

    /// <summary>
    /// The class for a session's RFC 8176 "amr" values: a second factor (mfa, otp, hwk) wins over the password
    /// (pwd); a session that records neither is <see cref="Unspecified"/> rather than claimed to be a password.
    /// </summary>
    public static string ForMethods(IEnumerable<string> amr)
    {
        ArgumentNullException.ThrowIfNull(amr);
        var methods = amr.ToHashSet(StringComparer.Ordinal);
        return methods.Overlaps(["mfa", "otp", "hwk"]) ? MultiFactor
            : methods.Contains("pwd") ? PasswordProtectedTransport
            : Unspecified;
    }
}
