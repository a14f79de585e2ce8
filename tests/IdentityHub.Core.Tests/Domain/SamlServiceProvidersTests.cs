using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Access;
using IdentityHub.Saml;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Core.Tests.Domain;

/// <summary>The SAML service provider rules of <see cref="SamlServiceProviders"/>, on each real database: every refusal changes nothing.</summary>
public abstract class SamlServiceProvidersTests<TDatabase>(TDatabase database) : IClassFixture<TDatabase>
    where TDatabase : DomainDatabase
{
    private static readonly string Certificate = NewCertificate();

    [PrerequisiteTheory]
    [InlineData("no entityId", "entityId")]
    [InlineData("relative ACS URL", "assertionConsumerServices[0].url")]
    [InlineData("unknown ACS binding", "assertionConsumerServices[1].binding")]
    [InlineData("no HTTP-POST ACS", "assertionConsumerServices")]
    [InlineData("two ACS with one index", "assertionConsumerServices")]
    [InlineData("relative SLO URL", "singleLogoutUrl")]
    [InlineData("unknown SLO binding", "singleLogoutBinding")]
    [InlineData("not a certificate", "signingCertificate")]
    [InlineData("signed requests without a certificate", "signingCertificate")]
    [InlineData("kerberos NameID", "nameIdFormat")]
    [InlineData("unknown attribute source", "attributeMappings[0].source")]
    [InlineData("empty attribute name", "attributeMappings[0].name")]
    [InlineData("unknown attribute NameFormat", "attributeMappings[0].nameFormat")]
    public async Task SaveAsync_BadField_IsRefusedNamingTheFieldAndChangesNothing(string broken, string field)
    {
        var application = await CreateApplicationAsync();
        var registered = await SaveAsync(application, Valid());
        var events = await SamlEventCountAsync(application);

        var error = await Assert.ThrowsAsync<RuleViolation>(() => SaveAsync(application, Broken(broken), registered.Revision));

        Assert.Equal(ViolationKind.Invalid, error.Kind);
        Assert.True(error.Errors.ContainsKey(field), string.Join("; ", error.Errors.Keys));
        Assert.Equal(Comparable(registered), await ReadAsync(application));
        Assert.Equal(events, await SamlEventCountAsync(application));
    }

    [PrerequisiteTheory]
    [InlineData("unknown application", ViolationKind.NotFound, null)]
    [InlineData("entityID of another application", ViolationKind.Conflict, "entityId")]
    [InlineData("stale revision", ViolationKind.Stale, null)]
    [InlineData("revision of an SP that is gone", ViolationKind.Stale, null)]
    public async Task SaveAsync_RefusedForTheState_HasTheKindAndChangesNothing(string situation, ViolationKind kind, string? field)
    {
        var other = await CreateApplicationAsync();
        var taken = await SaveAsync(other, Valid());
        var application = situation == "unknown application" ? Guid.NewGuid() : await CreateApplicationAsync();
        long? revision = null;
        if (situation == "stale revision")
        {
            revision = (await SaveAsync(application, Valid())).Revision - 1;
        }
        else if (situation == "revision of an SP that is gone")
        {
            revision = taken.Revision;
        }

        var input = situation == "entityID of another application" ? Valid() with { EntityId = taken.Registration.EntityId } : Valid();
        var before = await ReadAsync(application);

        var error = await Assert.ThrowsAsync<RuleViolation>(() => SaveAsync(application, input, revision));

        Assert.Equal(kind, error.Kind);
        if (field is not null)
        {
            Assert.True(error.Errors.ContainsKey(field), string.Join("; ", error.Errors.Keys));
        }

        Assert.Equal(before, await ReadAsync(application));
        Assert.Equal(Comparable(taken), await ReadAsync(other));
    }

    [PrerequisiteTheory]
    [InlineData("neither XML nor URL", null, null)]
    [InlineData("file URL", null, "file:///etc/passwd")]
    [InlineData("DTD", "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>", null)]
    [InlineData("not metadata", "<x/>", null)]
    public async Task ImportAsync_UnusableMetadata_IsRefusedNamingMetadataXml(string broken, string? xml, string? url)
    {
        var application = await CreateApplicationAsync();

        var error = await Assert.ThrowsAsync<RuleViolation>(() => database.RunAsync(s =>
            s.GetRequiredService<SamlServiceProviders>().ImportAsync(application, new SamlMetadataImportRequest(xml, url), null, CancellationToken.None)));

        Assert.True(error.Errors.ContainsKey("metadataXml"), $"{broken}: {string.Join("; ", error.Errors.Keys)}");
        Assert.Equal(ViolationKind.Invalid, error.Kind);
        Assert.Null(await ReadAsync(application));
    }

    [PrerequisiteFact]
    public async Task SaveAsync_ThenUpdateWithTheReadRevision_SavesAndAuditsBoth()
    {
        var application = await CreateApplicationAsync();
        var registered = await SaveAsync(application, Valid());

        var updated = await SaveAsync(application, Valid() with
        {
            AttributeMappings = [new SamlAttributeMappingDto("email", "urn:oid:0.9.2342.19200300.100.1.3", "uri")],
        }, registered.Revision);

        var mapping = Assert.Single(updated.Registration.AttributeMappings!);
        Assert.Equal(AttributeNameFormats.Uri, mapping.NameFormat);
        Assert.Equal(Comparable(updated), await ReadAsync(application));
        var events = await database.RunAsync(s => DomainDatabase.Db(s).AuditEvents.AsNoTracking()
            .Where(e => e.TargetId == application.ToString() && e.Type.StartsWith("saml.")).OrderBy(e => e.Sequence).Select(e => e.Type).ToListAsync());
        Assert.Equal(["saml.registered", "saml.updated"], events);
    }

    [PrerequisiteTheory]
    [InlineData("no SP", ViolationKind.NotFound)]
    [InlineData("stale revision", ViolationKind.Stale)]
    public async Task DeleteAsync_Refused_KeepsTheSp(string situation, ViolationKind kind)
    {
        var application = await CreateApplicationAsync();
        var registered = situation == "no SP" ? null : await SaveAsync(application, Valid());

        var error = await Assert.ThrowsAsync<RuleViolation>(() => database.RunAsync(s =>
            s.GetRequiredService<SamlServiceProviders>().DeleteAsync(application, registered?.Revision - 1, CancellationToken.None)));

        Assert.Equal(kind, error.Kind);
        Assert.Equal(registered is null ? null : Comparable(registered), await ReadAsync(application));
    }

    private Task<SamlServiceProviderView> SaveAsync(Guid application, SamlServiceProviderDto input, long? revision = null) =>
        database.RunAsync(s => s.GetRequiredService<SamlServiceProviders>().SaveAsync(application, input, revision, CancellationToken.None));

    /// <summary>The SP as stored, compared by value (the registration's lists as arrays).</summary>
    private async Task<string?> ReadAsync(Guid application) =>
        await database.RunAsync(s => s.GetRequiredService<SamlServiceProviderQueries>().OfApplicationAsync(application, CancellationToken.None)) is { } view
            ? Comparable(view)
            : null;

    private static string Comparable(SamlServiceProviderView view) => System.Text.Json.JsonSerializer.Serialize(view);

    private Task<int> SamlEventCountAsync(Guid application) =>
        database.RunAsync(s => DomainDatabase.Db(s).AuditEvents.CountAsync(e => e.TargetId == application.ToString() && e.Type.StartsWith("saml.")));

    private Task<Guid> CreateApplicationAsync() => database.RunAsync(async s =>
    {
        var application = new Application { Id = Guid.NewGuid(), Name = DomainDatabase.NewCode("saml"), CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow };
        DomainDatabase.Db(s).Applications.Add(application);
        await DomainDatabase.Db(s).SaveChangesAsync();
        return application.Id;
    });

    private static SamlServiceProviderDto Valid()
    {
        var id = Guid.NewGuid().ToString("N")[..10];
        return new SamlServiceProviderDto(
            $"https://sp-{id}.example.test/saml",
            [new SamlAcsDto(0, Saml2Names.HttpPostBinding, $"https://sp-{id}.example.test/acs", IsDefault: true)],
            $"https://sp-{id}.example.test/slo", Saml2Names.HttpRedirectBinding,
            SigningCertificate: Certificate, AuthnRequestsSigned: true,
            AttributeMappings: [new SamlAttributeMappingDto("name", "displayName")]);
    }

    private static SamlServiceProviderDto Broken(string broken)
    {
        var valid = Valid();
        var acs = valid.AssertionConsumerServices[0];
        return broken switch
        {
            "no entityId" => valid with { EntityId = " " },
            "relative ACS URL" => valid with { AssertionConsumerServices = [acs with { Url = "/acs" }] },
            "unknown ACS binding" => valid with { AssertionConsumerServices = [acs, acs with { Index = 1, Binding = "urn:oasis:names:tc:SAML:2.0:bindings:PAOS" }] },
            "no HTTP-POST ACS" => valid with { AssertionConsumerServices = [acs with { Binding = Saml2Names.HttpRedirectBinding }] },
            "two ACS with one index" => valid with { AssertionConsumerServices = [acs, acs with { IsDefault = false }] },
            "relative SLO URL" => valid with { SingleLogoutUrl = "/slo" },
            "unknown SLO binding" => valid with { SingleLogoutBinding = "urn:oasis:names:tc:SAML:2.0:bindings:SOAP" },
            "not a certificate" => valid with { SigningCertificate = "bm90IGEgY2VydGlmaWNhdGU=" },
            "signed requests without a certificate" => valid with { SigningCertificate = null },
            "kerberos NameID" => valid with { NameIdFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos" },
            "unknown attribute source" => valid with { AttributeMappings = [new SamlAttributeMappingDto("salary", "salary")] },
            "empty attribute name" => valid with { AttributeMappings = [new SamlAttributeMappingDto("email", " ")] },
            "unknown attribute NameFormat" => valid with { AttributeMappings = [new SamlAttributeMappingDto("email", "mail", "x500")] },
            _ => throw new ArgumentOutOfRangeException(nameof(broken), broken, null),
        };
    }

    private static string NewCertificate()
    {
        using var rsa = RSA.Create(2048);
        using var certificate = new CertificateRequest("CN=sp", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        return Convert.ToBase64String(certificate.Export(X509ContentType.Cert));
    }
}

public sealed class SqliteSamlServiceProvidersTests(SqliteDomainDatabase database) : SamlServiceProvidersTests<SqliteDomainDatabase>(database);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlSamlServiceProvidersTests(PostgreSqlDomainDatabase database) : SamlServiceProvidersTests<PostgreSqlDomainDatabase>(database);
