using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IdentityHub.Data.Access;
using IdentityHub.Saml;
using IdentityHub.Saml.Metadata;

namespace IdentityHub.Server.Saml;

public sealed record SamlAcsDto(int Index, string Binding, string Url, bool IsDefault = false);

public sealed record SamlAttributeMappingDto(string Source, string Name);

/// <summary>The SAML part of an application, as the admin API reads and writes it. Certificates: base64 DER or PEM.</summary>
public sealed record SamlServiceProviderDto(
    string EntityId,
    IReadOnlyList<SamlAcsDto> AssertionConsumerServices,
    string? SingleLogoutUrl = null,
    string? SingleLogoutBinding = null,
    string? SigningCertificate = null,
    string? EncryptionCertificate = null,
    bool AuthnRequestsSigned = false,
    bool SignResponse = true,
    bool SignAssertion = true,
    string NameIdFormat = NameIdFormats.Persistent,
    IReadOnlyList<SamlAttributeMappingDto>? AttributeMappings = null,
    bool AllowIdpInitiated = false);

/// <summary>Register from SP metadata: the XML itself, or an http(s) URL to fetch it from.</summary>
public sealed record SamlMetadataImportRequest(string? MetadataXml = null, string? MetadataUrl = null, string? NameIdFormat = null, bool AllowIdpInitiated = false);

/// <summary>Checks an SP registration field by field and copies it onto the entity.</summary>
public static class SamlRegistration
{
    private static readonly HashSet<string> Bindings = [Saml2Names.HttpPostBinding, Saml2Names.HttpRedirectBinding];

    public static Dictionary<string, string[]> Validate(SamlServiceProviderDto dto)
    {
        ArgumentNullException.ThrowIfNull(dto);
        var errors = new Dictionary<string, string[]>();
        void Fail(string field, string message) => errors[field] = [message];

        if (string.IsNullOrWhiteSpace(dto.EntityId) || dto.EntityId.Length > SamlServiceProvider.EntityIdMaxLength)
        {
            Fail("entityId", $"entityId is required and at most {SamlServiceProvider.EntityIdMaxLength} characters.");
        }

        var acs = dto.AssertionConsumerServices ?? [];
        if (!acs.Any(a => a.Binding == Saml2Names.HttpPostBinding))
        {
            Fail("assertionConsumerServices", "At least one assertion consumer service with the HTTP-POST binding is required.");
        }

        for (var i = 0; i < acs.Count; i++)
        {
            if (!IsAbsoluteHttpUrl(acs[i].Url))
            {
                Fail($"assertionConsumerServices[{i}].url", "The URL must be an absolute http or https URL.");
            }

            if (!Bindings.Contains(acs[i].Binding))
            {
                Fail($"assertionConsumerServices[{i}].binding", $"The binding must be {Saml2Names.HttpPostBinding}.");
            }
        }

        if (acs.GroupBy(a => a.Index).Any(g => g.Count() > 1))
        {
            Fail("assertionConsumerServices", "Each assertion consumer service needs its own index.");
        }

        if (dto.SingleLogoutUrl is not null && !IsAbsoluteHttpUrl(dto.SingleLogoutUrl))
        {
            Fail("singleLogoutUrl", "The URL must be an absolute http or https URL.");
        }

        if (dto.SingleLogoutUrl is not null && !Bindings.Contains(dto.SingleLogoutBinding ?? ""))
        {
            Fail("singleLogoutBinding", "singleLogoutBinding must be the HTTP-Redirect or HTTP-POST binding URI.");
        }

        CheckCertificate(dto.SigningCertificate, "signingCertificate", errors);
        CheckCertificate(dto.EncryptionCertificate, "encryptionCertificate", errors);
        if (dto.AuthnRequestsSigned && dto.SigningCertificate is null)
        {
            Fail("signingCertificate", "A signing certificate is required when AuthnRequests must be signed.");
        }

        if (NameIdFormatUri(dto.NameIdFormat) is null)
        {
            Fail("nameIdFormat", "nameIdFormat must be persistent, emailAddress or unspecified.");
        }

        foreach (var (mapping, i) in (dto.AttributeMappings ?? []).Select((m, i) => (m, i)))
        {
            if (!SamlAttributeSources.All.Contains(mapping.Source))
            {
                Fail($"attributeMappings[{i}].source", $"source must be one of {string.Join(", ", SamlAttributeSources.All)}.");
            }

            if (string.IsNullOrWhiteSpace(mapping.Name) || mapping.Name.Length > 256)
            {
                Fail($"attributeMappings[{i}].name", "name is required and at most 256 characters.");
            }
        }

        return errors;
    }

    /// <summary>Accepts the short names or the full URIs of SAML core §8.3.</summary>
    public static string? NameIdFormatUri(string? format) => format switch
    {
        "persistent" or NameIdFormats.Persistent => NameIdFormats.Persistent,
        "emailAddress" or NameIdFormats.EmailAddress => NameIdFormats.EmailAddress,
        "unspecified" or NameIdFormats.Unspecified => NameIdFormats.Unspecified,
        _ => null,
    };

    public static void Apply(SamlServiceProviderDto dto, SamlServiceProvider sp)
    {
        ArgumentNullException.ThrowIfNull(dto);
        ArgumentNullException.ThrowIfNull(sp);
        sp.EntityId = dto.EntityId.Trim();
        sp.AssertionConsumerServices = dto.AssertionConsumerServices.Select(a => new SamlAcsEndpoint(a.Index, a.Binding, a.Url, a.IsDefault)).ToList();
        sp.SingleLogoutUrl = dto.SingleLogoutUrl;
        sp.SingleLogoutBinding = dto.SingleLogoutUrl is null ? null : dto.SingleLogoutBinding;
        sp.SigningCertificate = Der(dto.SigningCertificate);
        sp.EncryptionCertificate = Der(dto.EncryptionCertificate);
        sp.AuthnRequestsSigned = dto.AuthnRequestsSigned;
        sp.SignResponse = dto.SignResponse;
        sp.SignAssertion = dto.SignAssertion;
        sp.AllowIdpInitiated = dto.AllowIdpInitiated;
        sp.NameIdFormat = NameIdFormatUri(dto.NameIdFormat)!;
        sp.AttributeMappings = (dto.AttributeMappings ?? []).Select(m => new SamlAttributeMapping(m.Source, m.Name)).ToList();
    }

    public static SamlServiceProviderDto Read(SamlServiceProvider sp)
    {
        ArgumentNullException.ThrowIfNull(sp);
        return new SamlServiceProviderDto(
            sp.EntityId,
            sp.AssertionConsumerServices.Select(a => new SamlAcsDto(a.Index, a.Binding, a.Url, a.IsDefault)).ToList(),
            sp.SingleLogoutUrl, sp.SingleLogoutBinding,
            sp.SigningCertificate is null ? null : Convert.ToBase64String(sp.SigningCertificate),
            sp.EncryptionCertificate is null ? null : Convert.ToBase64String(sp.EncryptionCertificate),
            sp.AuthnRequestsSigned, sp.SignResponse, sp.SignAssertion, sp.NameIdFormat,
            sp.AttributeMappings.Select(m => new SamlAttributeMappingDto(m.Source, m.Name)).ToList(),
            sp.AllowIdpInitiated);
    }

    public static SamlServiceProviderDto FromMetadata(SpMetadataInfo info, string? nameIdFormat, bool allowIdpInitiated)
    {
        ArgumentNullException.ThrowIfNull(info);
        return new SamlServiceProviderDto(
            info.EntityId,
            info.AssertionConsumerServices.Select(a => new SamlAcsDto(a.Index, a.Binding, a.Location, a.IsDefault)).ToList(),
            info.SingleLogoutUrl, info.SingleLogoutBinding,
            info.SigningCertificate is null ? null : Convert.ToBase64String(info.SigningCertificate),
            info.EncryptionCertificate is null ? null : Convert.ToBase64String(info.EncryptionCertificate),
            info.AuthnRequestsSigned,
            NameIdFormat: nameIdFormat ?? info.NameIdFormat ?? NameIdFormats.Persistent,
            AllowIdpInitiated: allowIdpInitiated);
    }

    private static bool IsAbsoluteHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp) && uri.Fragment.Length == 0;

    private static void CheckCertificate(string? value, string field, Dictionary<string, string[]> errors)
    {
        if (value is null)
        {
            return;
        }

        try
        {
            using var certificate = X509CertificateLoader.LoadCertificate(Der(value)!);
            if (certificate.GetRSAPublicKey() is not { } rsa)
            {
                errors[field] = ["The certificate must hold an RSA key."];
                return;
            }

            rsa.Dispose();
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            errors[field] = ["The value is not an X.509 certificate (base64 DER or PEM)."];
        }
    }

    private static byte[]? Der(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var text = value.Trim();
        if (text.StartsWith("-----BEGIN", StringComparison.Ordinal))
        {
            var lines = text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("-----", StringComparison.Ordinal));
            text = string.Concat(lines);
        }

        return Convert.FromBase64String(string.Concat(text.Where(c => !char.IsWhiteSpace(c))));
    }
}
