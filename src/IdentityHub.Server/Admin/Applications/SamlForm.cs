using System.Security.Cryptography;
using IdentityHub.Core.Access;
using IdentityHub.Data.Access;
using IdentityHub.Saml;

namespace IdentityHub.Server.Admin.Applications;

/// <summary>
/// The console's edit form of an SP: every field the admin API takes, as plain form fields. Rows whose URL or
/// attribute name is left empty are ignored, so the form always carries a spare row to fill in.
/// </summary>
public sealed class SamlForm
{
    /// <summary>The revision of the SP the page showed (If-Match); none when registering.</summary>
    public long? Revision { get; set; }

    public string? EntityId { get; set; }

    public List<SamlAcsRow> AssertionConsumerServices { get; set; } = [];

    /// <summary>The row (position in the form) of the default assertion consumer service.</summary>
    public int? DefaultAcs { get; set; }

    public string? SingleLogoutUrl { get; set; }

    public string? SingleLogoutBinding { get; set; }

    /// <summary>persistent, transient, emailAddress or unspecified.</summary>
    public string? NameIdFormat { get; set; }

    public bool SignResponse { get; set; }

    public bool SignAssertion { get; set; }

    public bool AuthnRequestsSigned { get; set; }

    public bool AllowIdpInitiated { get; set; }

    public string? SigningCertificate { get; set; }

    public string? EncryptionCertificate { get; set; }

    public List<SamlMappingRow> AttributeMappings { get; set; } = [];

    /// <summary>The form for <paramref name="sp"/>, or an empty one with the API's defaults to register by hand; one spare row each.</summary>
    public static SamlForm Of(SamlServiceProviderDto? sp, long? revision)
    {
        var form = sp is null
            ? new SamlForm { SignResponse = true, SignAssertion = true, NameIdFormat = "persistent", DefaultAcs = 0 }
            : new SamlForm
            {
                Revision = revision,
                EntityId = sp.EntityId,
                AssertionConsumerServices = [.. sp.AssertionConsumerServices.OrderBy(a => a.Index).Select(a => new SamlAcsRow { Index = a.Index, Binding = a.Binding, Url = a.Url })],
                SingleLogoutUrl = sp.SingleLogoutUrl,
                SingleLogoutBinding = sp.SingleLogoutBinding,
                NameIdFormat = ShortNameIdFormat(sp.NameIdFormat),
                SignResponse = sp.SignResponse,
                SignAssertion = sp.SignAssertion,
                AuthnRequestsSigned = sp.AuthnRequestsSigned,
                AllowIdpInitiated = sp.AllowIdpInitiated,
                SigningCertificate = Pem(sp.SigningCertificate),
                EncryptionCertificate = Pem(sp.EncryptionCertificate),
                AttributeMappings = [.. (sp.AttributeMappings ?? []).Select(m => new SamlMappingRow { Name = m.Name, NameFormat = ShortNameFormat(m.NameFormat), Source = m.Source })],
            };
        if (sp is not null)
        {
            var ordered = sp.AssertionConsumerServices.OrderBy(a => a.Index).ToList();
            var byDefault = ordered.FindIndex(a => a.IsDefault);
            form.DefaultAcs = byDefault >= 0 ? byDefault : 0;
        }

        return form.WithSpareRows();
    }

    /// <summary>The form with one more empty row of the kind <paramref name="kind"/> (acs or mapping).</summary>
    public SamlForm WithEmptyRow(string kind)
    {
        if (kind == "acs")
        {
            AssertionConsumerServices.Add(SpareAcs());
        }
        else
        {
            AttributeMappings.Add(new SamlMappingRow());
        }

        return this;
    }

    /// <summary>The rows that say something, in order: what the Core checks, so its row numbers in field names match the form's.</summary>
    public SamlForm WithoutEmptyRows()
    {
        var defaultRow = DefaultAcs is { } d && d >= 0 && d < AssertionConsumerServices.Count ? AssertionConsumerServices[d] : null;
        AssertionConsumerServices = [.. AssertionConsumerServices.Where(a => !a.Remove && !string.IsNullOrWhiteSpace(a.Url))];
        DefaultAcs = defaultRow is null ? null : AssertionConsumerServices.IndexOf(defaultRow);
        AttributeMappings = [.. AttributeMappings.Where(m => !m.Remove && !string.IsNullOrWhiteSpace(m.Name))];
        return this;
    }

    /// <summary>The form as the API's registration; rows are taken as they are (see <see cref="WithoutEmptyRows"/>).</summary>
    public SamlServiceProviderDto ToDto() => new(
        EntityId?.Trim() ?? "",
        [.. AssertionConsumerServices.Select((a, i) => new SamlAcsDto(a.Index ?? i, a.Binding ?? "", a.Url!.Trim(), i == DefaultAcs))],
        Blank(SingleLogoutUrl),
        Blank(SingleLogoutUrl) is null ? null : SingleLogoutBinding,
        Blank(SigningCertificate),
        Blank(EncryptionCertificate),
        AuthnRequestsSigned,
        SignResponse,
        SignAssertion,
        NameIdFormat ?? "",
        [.. AttributeMappings.Select(m => new SamlAttributeMappingDto(m.Source ?? "", m.Name!.Trim(), m.NameFormat))],
        AllowIdpInitiated);

    /// <summary>A form shown again after a refusal keeps its rows and gets its spare ones back.</summary>
    public SamlForm WithSpareRows()
    {
        if (!AssertionConsumerServices.Any(a => string.IsNullOrWhiteSpace(a.Url)))
        {
            AssertionConsumerServices.Add(SpareAcs());
        }

        if (!AttributeMappings.Any(m => string.IsNullOrWhiteSpace(m.Name)))
        {
            AttributeMappings.Add(new SamlMappingRow());
        }

        return this;
    }

    public static string ShortNameIdFormat(string? uri) => uri switch
    {
        NameIdFormats.EmailAddress => "emailAddress",
        NameIdFormats.Transient => "transient",
        NameIdFormats.Unspecified => "unspecified",
        _ => "persistent",
    };

    public static string ShortNameFormat(string? uri) => uri switch
    {
        AttributeNameFormats.Uri or "uri" => "uri",
        AttributeNameFormats.Unspecified or "unspecified" => "unspecified",
        _ => "basic",
    };

    private SamlAcsRow SpareAcs() => new()
    {
        Index = AssertionConsumerServices.Count == 0 ? 0 : AssertionConsumerServices.Max(a => a.Index ?? 0) + 1,
        Binding = Saml2Names.HttpPostBinding,
    };

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string? Pem(string? base64Der) =>
        base64Der is null ? null : new string(PemEncoding.Write("CERTIFICATE", Convert.FromBase64String(base64Der)));
}

public sealed class SamlAcsRow
{
    public int? Index { get; set; }

    public string? Binding { get; set; }

    public string? Url { get; set; }

    public bool Remove { get; set; }
}

public sealed class SamlMappingRow
{
    public string? Name { get; set; }

    /// <summary>basic, uri or unspecified (SAML core §8.2).</summary>
    public string? NameFormat { get; set; }

    /// <summary>A <see cref="SamlAttributeSources"/> value.</summary>
    public string? Source { get; set; }

    public bool Remove { get; set; }
}
