namespace IdentityHub.Data.Access;

/// <summary>
/// The SAML 2.0 part of an <see cref="Application"/> (at most one per application): how IdentityHub, as
/// identity provider, talks to the application's service provider.
/// </summary>
public sealed class SamlServiceProvider
{
    // Metadata §2.3.2 allows 1024; 800 keeps the unique index within SQL Server's 1700-byte key limit.
    public const int EntityIdMaxLength = 800;
    public const int UrlMaxLength = 2048;

    public Guid Id { get; set; }

    public Guid ApplicationId { get; set; }

    /// <summary>The SP's entityID (metadata §2.3.2), unique across IdentityHub.</summary>
    public required string EntityId { get; set; }

    /// <summary>Indexed assertion consumer services; a Response only ever goes to one of these.</summary>
    public List<SamlAcsEndpoint> AssertionConsumerServices { get; set; } = [];

    public string? SingleLogoutUrl { get; set; }

    /// <summary>HTTP-Redirect or HTTP-POST binding URI for <see cref="SingleLogoutUrl"/>.</summary>
    public string? SingleLogoutBinding { get; set; }

    /// <summary>DER of the certificate whose key signs the SP's requests; the only key trusted for them.</summary>
    public byte[]? SigningCertificate { get; set; }

    /// <summary>DER of the certificate assertions are encrypted for; none means assertions are sent in clear (over TLS).</summary>
    public byte[]? EncryptionCertificate { get; set; }

    /// <summary>AuthnRequests without a valid signature are refused.</summary>
    public bool AuthnRequestsSigned { get; set; }

    public bool SignResponse { get; set; } = true;

    public bool SignAssertion { get; set; } = true;

    /// <summary>Whether /saml/idp-initiated may send this SP an unsolicited Response; off by default (a plain GET would be login CSRF).</summary>
    public bool AllowIdpInitiated { get; set; }

    /// <summary>persistent, emailAddress or unspecified (employee number) NameID format URI.</summary>
    public required string NameIdFormat { get; set; }

    /// <summary>Which user facts are sent, under which SAML attribute names.</summary>
    public List<SamlAttributeMapping> AttributeMappings { get; set; } = [];

    /// <summary>Random per SP: the persistent NameID is an HMAC of the user id under it, so SPs cannot correlate users.</summary>
    public required byte[] PairwiseSalt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>An indexed AssertionConsumerService endpoint (metadata §2.2.3).</summary>
public sealed record SamlAcsEndpoint(int Index, string Binding, string Url, bool IsDefault);

/// <summary>
/// One attribute sent in assertions: <see cref="Source"/> is a <see cref="SamlAttributeSources"/> value;
/// <see cref="NameFormat"/> the SAML core §8.2 URI its name is read as (null, as stored before it existed: basic).
/// </summary>
public sealed record SamlAttributeMapping(string Source, string Name, string? NameFormat = null);

public static class SamlAttributeSources
{
    public const string Name = "name";
    public const string Email = "email";
    public const string Department = "department";
    public const string EmployeeNumber = "employeeNumber";
    public const string Roles = "roles";
    public const string Permissions = "permissions";

    public static readonly IReadOnlyList<string> All = [Name, Email, Department, EmployeeNumber, Roles, Permissions];
}

/// <summary>A SAML request ID seen recently (replay cache); the key is a hash of issuer and ID.</summary>
public sealed class SamlSeenMessage
{
    public required string Key { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }
}
