namespace IdentityHub.Server.Saml;

/// <summary>The Saml configuration section.</summary>
public sealed class SamlSettings
{
    /// <summary>The IdP entityID; default: this server's /saml/metadata address.</summary>
    public string? EntityId { get; init; }

    /// <summary>
    /// The public origin (and path base) the SAML endpoints are published under: Saml:BaseUrl, else Oidc:Issuer.
    /// Null: taken from each request's scheme and Host header, which only a trusted front end may set.
    /// </summary>
    public Uri? BaseUrl { get; init; }

    /// <summary>Clock difference tolerated with service providers (IssueInstant checks, assertion NotBefore).</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How old a received request may be (and how long its ID is remembered against replay).</summary>
    public TimeSpan MessageLifetime { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a message ID is remembered against replay: as long as its IssueInstant can still be accepted
    /// (its lifetime, with the skew allowed on both sides).
    /// </summary>
    public TimeSpan ReplayWindow => MessageLifetime + (2 * ClockSkew);

    /// <summary>How long an assertion may be used (Conditions/@NotOnOrAfter, SubjectConfirmationData/@NotOnOrAfter).</summary>
    public TimeSpan AssertionLifetime { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Every service provider must sign its AuthnRequests (and the metadata says WantAuthnRequestsSigned="true"); when false,
    /// only those registered with authnRequestsSigned must, and the metadata leaves the attribute out.
    /// </summary>
    public bool RequireSignedAuthnRequests { get; init; }

    public static SamlSettings From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var baseUrl = configuration["Saml:BaseUrl"] is { Length: > 0 } configured ? configured : configuration["Oidc:Issuer"];
        return new()
        {
            EntityId = configuration["Saml:EntityId"] is { Length: > 0 } id ? id : null,
            BaseUrl = string.IsNullOrEmpty(baseUrl) ? null : AbsoluteHttpUrl(baseUrl),
            ClockSkew = configuration.GetValue("Saml:ClockSkew", TimeSpan.FromMinutes(2)),
            MessageLifetime = configuration.GetValue("Saml:MessageLifetime", TimeSpan.FromMinutes(5)),
            AssertionLifetime = configuration.GetValue("Saml:AssertionLifetime", TimeSpan.FromMinutes(5)),
            RequireSignedAuthnRequests = configuration.GetValue("Saml:RequireSignedAuthnRequests", false),
        };
    }

    private static Uri AbsoluteHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp) && uri.Query.Length == 0 && uri.Fragment.Length == 0
            ? uri
            : throw new InvalidOperationException($"Saml:BaseUrl (or Oidc:Issuer) must be an absolute http or https URL without query or fragment, not '{value}'.");
}

/// <summary>This IdP's own addresses, from the configured base URL or, when none is configured, the request's base address.</summary>
public sealed record SamlIdpEndpoints(string EntityId, Uri Metadata, Uri SingleSignOn, Uri SingleLogout)
{
    public const string MetadataPath = "/saml/metadata";
    public const string SingleSignOnPath = "/saml/sso";
    public const string SingleLogoutPath = "/saml/slo";
    public const string ResumePath = "/saml/sso/resume";
    public const string IdpInitiatedPath = "/saml/idp-initiated";

    public static SamlIdpEndpoints Of(HttpContext context, SamlSettings settings)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(settings);
        // A configured origin wins: a forged Host header, or a TLS proxy in front, must not change the Issuer or Destination checks.
        var root = settings.BaseUrl is { } configured
            ? configured.GetLeftPart(UriPartial.Path).TrimEnd('/')
            : $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}";
        var metadata = new Uri(root + MetadataPath);
        return new SamlIdpEndpoints(settings.EntityId ?? metadata.AbsoluteUri, metadata, new Uri(root + SingleSignOnPath), new Uri(root + SingleLogoutPath));
    }
}
