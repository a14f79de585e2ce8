using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IdentityHub.Data.Access;
using IdentityHub.Saml;
using IdentityHub.Saml.Metadata;

namespace IdentityHub.Core.Access;

public sealed record SamlAcsDto(int Index, string Binding, string Url, bool IsDefault = false);

/// <summary>One attribute sent in assertions; <paramref name="NameFormat"/> is basic, uri or unspecified (short name or SAML core §8.2 URI), basic when omitted.</summary>
public sealed record SamlAttributeMappingDto(string Source, string Name, string? NameFormat = null);

/// <summary>The SAML part of an application, as the admin API and the console read and write it. Certificates: base64 DER or PEM.</summary>
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

/// <summary>
/// The rules of an SP registration, field by field, and its copy onto and from the entity. Field names and English
/// texts are the admin API's; each message has a code (<c>admin.error.saml.*</c>) so the console can say it in Chinese.
/// </summary>
public static class SamlServiceProviderRegistration
{
    public const int AttributeNameMaxLength = 256;

    private static readonly HashSet<string> Bindings = [Saml2Names.HttpPostBinding, Saml2Names.HttpRedirectBinding];

    /// <summary>Every problem of <paramref name="dto"/> at once; nothing is thrown.</summary>
    public static FieldErrors Validate(SamlServiceProviderDto dto)
    {
        ArgumentNullException.ThrowIfNull(dto);
        var errors = new FieldErrors();
        if (string.IsNullOrWhiteSpace(dto.EntityId) || dto.EntityId.Length > SamlServiceProvider.EntityIdMaxLength)
        {
            errors.Add("entityId", $"entityId is required and at most {SamlServiceProvider.EntityIdMaxLength} characters.",
                "saml.entityId", SamlServiceProvider.EntityIdMaxLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var acs = dto.AssertionConsumerServices ?? [];
        // Profiles §4.1.2: the Response of the web browser SSO profile is delivered by HTTP-POST here.
        if (!acs.Any(a => a?.Binding == Saml2Names.HttpPostBinding))
        {
            errors.Add("assertionConsumerServices", "At least one assertion consumer service with the HTTP-POST binding is required.", "saml.acsPostRequired");
        }

        for (var i = 0; i < acs.Count; i++)
        {
            if (!IsAbsoluteHttpUrl(acs[i]?.Url))
            {
                errors.Add($"assertionConsumerServices[{i}].url", "The URL must be an absolute http or https URL.", "saml.url");
            }

            if (!Bindings.Contains(acs[i]?.Binding ?? ""))
            {
                errors.Add($"assertionConsumerServices[{i}].binding", $"The binding must be {Saml2Names.HttpPostBinding}.", "saml.acsBinding", Saml2Names.HttpPostBinding);
            }
        }

        if (acs.Where(a => a is not null).GroupBy(a => a.Index).Any(g => g.Count() > 1))
        {
            errors.Add("assertionConsumerServices", "Each assertion consumer service needs its own index.", "saml.acsIndex");
        }

        if (dto.SingleLogoutUrl is not null && !IsAbsoluteHttpUrl(dto.SingleLogoutUrl))
        {
            errors.Add("singleLogoutUrl", "The URL must be an absolute http or https URL.", "saml.url");
        }

        if (dto.SingleLogoutUrl is not null && !Bindings.Contains(dto.SingleLogoutBinding ?? ""))
        {
            errors.Add("singleLogoutBinding", "singleLogoutBinding must be the HTTP-Redirect or HTTP-POST binding URI.", "saml.sloBinding");
        }

        CheckCertificate(dto.SigningCertificate, "signingCertificate", errors);
        CheckCertificate(dto.EncryptionCertificate, "encryptionCertificate", errors);
        if (dto.AuthnRequestsSigned && dto.SigningCertificate is null)
        {
            errors.Add("signingCertificate", "A signing certificate is required when AuthnRequests must be signed.", "saml.signingRequired");
        }

        if (NameIdFormatUri(dto.NameIdFormat) is null)
        {
            errors.Add("nameIdFormat", "nameIdFormat must be persistent, transient, emailAddress or unspecified.", "saml.nameIdFormat");
        }

        ValidateMappings(dto.AttributeMappings ?? [], errors);
        return errors;
    }

    /// <summary>Accepts the short names or the full URIs of SAML core §8.3.</summary>
    public static string? NameIdFormatUri(string? format) => format switch
    {
        "persistent" or NameIdFormats.Persistent => NameIdFormats.Persistent,
        "transient" or NameIdFormats.Transient => NameIdFormats.Transient,
        "emailAddress" or NameIdFormats.EmailAddress => NameIdFormats.EmailAddress,
        "unspecified" or NameIdFormats.Unspecified => NameIdFormats.Unspecified,
        _ => null,
    };

    /// <summary>Accepts the short names or the full URIs of SAML core §8.2; none means basic.</summary>
    public static string? AttributeNameFormatUri(string? format) => format switch
    {
        null or "" or "basic" or AttributeNameFormats.Basic => AttributeNameFormats.Basic,
        "uri" or AttributeNameFormats.Uri => AttributeNameFormats.Uri,
        "unspecified" or AttributeNameFormats.Unspecified => AttributeNameFormats.Unspecified,
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
        sp.AttributeMappings = (dto.AttributeMappings ?? [])
            .Select(m => new SamlAttributeMapping(m.Source, m.Name.Trim(), AttributeNameFormatUri(m.NameFormat))).ToList();
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
            sp.AttributeMappings.Select(m => new SamlAttributeMappingDto(m.Source, m.Name, m.NameFormat ?? AttributeNameFormats.Basic)).ToList(),
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

    private static void ValidateMappings(IReadOnlyList<SamlAttributeMappingDto?> mappings, FieldErrors errors)
    {
        for (var i = 0; i < mappings.Count; i++)
        {
            var mapping = mappings[i];
            if (mapping is null || !SamlAttributeSources.All.Contains(mapping.Source))
            {
                errors.Add($"attributeMappings[{i}].source", $"source must be one of {string.Join(", ", SamlAttributeSources.All)}.",
                    "saml.attributeSource", string.Join(", ", SamlAttributeSources.All));
            }

            if (string.IsNullOrWhiteSpace(mapping?.Name) || mapping.Name.Length > AttributeNameMaxLength)
            {
                errors.Add($"attributeMappings[{i}].name", $"name is required and at most {AttributeNameMaxLength} characters.",
                    "saml.attributeName", AttributeNameMaxLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            if (AttributeNameFormatUri(mapping?.NameFormat) is null)
            {
                errors.Add($"attributeMappings[{i}].nameFormat", "nameFormat must be basic, uri or unspecified.", "saml.attributeNameFormat");
            }
        }
    }

    private static bool IsAbsoluteHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp) && uri.Fragment.Length == 0;

    private static void CheckCertificate(string? value, string field, FieldErrors errors)
    {
        if (value is null)
        {
            return;
        }

        try
        {
            using var certificate = X509CertificateLoader.LoadCertificate(Der(value)!);
            using var rsa = certificate.GetRSAPublicKey();
            if (rsa is null)
            {
                errors.Add(field, "The certificate must hold an RSA key.", "saml.certificateRsa");
            }
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            errors.Add(field, "The value is not an X.509 certificate (base64 DER or PEM).", "saml.certificate");
        }
    }

    /// <summary>The DER bytes of a base64 DER or PEM certificate text.</summary>
    public static byte[]? Der(string? value)
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
