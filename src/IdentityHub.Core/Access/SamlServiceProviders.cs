using System.Security.Cryptography;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Outbound;
using IdentityHub.Core.Queries;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Saml.Metadata;
using IdentityHub.Saml.Protocol;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Core.Access;

/// <summary>A metadata import: the registration saved, and the endpoints left out because IdentityHub does not speak their binding.</summary>
public sealed record SamlMetadataImported(SamlServiceProviderView ServiceProvider, IReadOnlyList<SkippedEndpoint> Skipped);

/// <summary>
/// The SAML part of an application, registered, replaced or removed: the one writer of <c>SamlServiceProviders</c>,
/// for the admin API and the console alike. Refuses with <see cref="RuleViolation"/>; every change is audited in its
/// own transaction; <c>expectedRevision</c> is the If-Match of the caller (null: no check).
/// </summary>
public sealed class SamlServiceProviders(IdentityHubDbContext db, AuditTrail audit, IHttpClientFactory http, TimeProvider clock)
{
    public const string MetadataHttpClient = "saml-metadata";

    private const string What = "SAML service provider";

    /// <summary>The client that fetches SP metadata: no redirects, no inward addresses (SSRF, <see cref="OutboundAddressGuard"/>), short timeout, bounded body.</summary>
    internal static void AddMetadataClient(IServiceCollection services) =>
        services.AddHttpClient(MetadataHttpClient, client =>
            {
                client.Timeout = TimeSpan.FromSeconds(10);
                client.MaxResponseContentBufferSize = SpMetadata.MaxChars;
            })
            .ConfigurePrimaryHttpMessageHandler(provider =>
                provider.GetRequiredService<OutboundAddressGuard>().Protect(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }));

    /// <summary>Registers (or replaces) the SP of <paramref name="applicationId"/> field by field.</summary>
    public async Task<SamlServiceProviderView> SaveAsync(Guid applicationId, SamlServiceProviderDto input, long? expectedRevision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        await EnsureApplicationAsync(applicationId, cancellationToken);
        SamlServiceProviderRegistration.Validate(input).ThrowIfAny();
        var entityId = input.EntityId.Trim();
        if (await db.SamlServiceProviders.AnyAsync(s => s.EntityId == entityId && s.ApplicationId != applicationId, cancellationToken))
        {
            throw RuleViolation.Field("entityId", "Another application already registered this entityID.", ViolationKind.Conflict, "saml.entityIdTaken");
        }

        var sp = await db.SamlServiceProviders.SingleOrDefaultAsync(s => s.ApplicationId == applicationId, cancellationToken);
        CheckRevision(sp, expectedRevision);
        var before = sp is null ? null : SamlServiceProviderRegistration.Read(sp);
        var now = Revision.Now(clock);
        if (sp is null)
        {
            sp = new SamlServiceProvider
            {
                Id = Guid.NewGuid(), ApplicationId = applicationId, EntityId = entityId, NameIdFormat = "",
                PairwiseSalt = RandomNumberGenerator.GetBytes(32), CreatedAt = now,
            };
            db.SamlServiceProviders.Add(sp);
        }

        SamlServiceProviderRegistration.Apply(input, sp);
        sp.UpdatedAt = before is null ? now : Revision.After(sp.UpdatedAt, clock);
        var after = SamlServiceProviderRegistration.Read(sp);
        await db.InTransactionAsync(async () =>
        {
            await audit.RecordAsync(before is null ? "saml.registered" : "saml.updated", "application", applicationId.ToString(), before, after, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return SamlServiceProviderView.Of(sp);
    }

    /// <summary>Registers (or replaces) the SP from its metadata, given inline or fetched from an http(s) URL.</summary>
    public async Task<SamlMetadataImported> ImportAsync(Guid applicationId, SamlMetadataImportRequest request, long? expectedRevision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await EnsureApplicationAsync(applicationId, cancellationToken);
        var xml = request.MetadataXml is { Length: > 0 } inline ? inline
            : Uri.TryCreate(request.MetadataUrl, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttps || url.Scheme == Uri.UriSchemeHttp)
                ? await FetchAsync(url, cancellationToken)
                : throw RuleViolation.Field("metadataXml", "Give metadataXml, or metadataUrl as an absolute http or https URL.", ViolationKind.Invalid, "saml.metadataSource");

        SpMetadataInfo info;
        try
        {
            info = SpMetadata.Read(xml);
        }
        catch (SamlProtocolException ex)
        {
            throw RuleViolation.Field("metadataXml", ex.Message, ViolationKind.Invalid, "saml.metadataInvalid", ex.Message);
        }

        var registration = SamlServiceProviderRegistration.FromMetadata(info, SamlServiceProviderRegistration.NameIdFormatUri(request.NameIdFormat), request.AllowIdpInitiated);
        return new SamlMetadataImported(await SaveAsync(applicationId, registration, expectedRevision, cancellationToken), info.Skipped);
    }

    public async Task DeleteAsync(Guid applicationId, long? expectedRevision, CancellationToken cancellationToken)
    {
        await EnsureApplicationAsync(applicationId, cancellationToken);
        var sp = await db.SamlServiceProviders.SingleOrDefaultAsync(s => s.ApplicationId == applicationId, cancellationToken)
            ?? throw new RuleViolation(ViolationKind.NotFound, $"Application '{applicationId}' has no SAML service provider.");
        CheckRevision(sp, expectedRevision);
        await db.InTransactionAsync(async () =>
        {
            await audit.RecordAsync("saml.deleted", "application", applicationId.ToString(), SamlServiceProviderRegistration.Read(sp), after: null, cancellationToken);
            db.SamlServiceProviders.Remove(sp);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
    }

    private async Task EnsureApplicationAsync(Guid applicationId, CancellationToken cancellationToken)
    {
        if (!await db.Applications.AnyAsync(a => a.Id == applicationId, cancellationToken))
        {
            throw RuleViolation.NotFound("application", applicationId);
        }
    }

    /// <summary>RFC 9110 §13.1.1: an If-Match names a current representation; one for an SP removed meanwhile matches nothing.</summary>
    private static void CheckRevision(SamlServiceProvider? sp, long? expectedRevision)
    {
        if (sp is not null)
        {
            Revision.Check(What, sp.UpdatedAt, expectedRevision);
        }
        else if (expectedRevision is not null)
        {
            throw RuleViolation.Coded(ViolationKind.Stale, $"The {What} was changed by someone else since you read it; reload it and try again.", "stale");
        }
    }

    /// <summary>The metadata document at <paramref name="url"/>; a refusal naming metadataUrl when it cannot be had.</summary>
    private async Task<string> FetchAsync(Uri url, CancellationToken cancellationToken)
    {
        // One message for a refused connection, a timeout, an error status and a blocked address: the answer must not map the network.
        var unreachable = RuleViolation.Field("metadataUrl", $"The metadata {OutboundAddressGuard.CouldNotBeFetched} (unreachable, refused, too slow, not allowed, or larger than 512 KiB; redirects are not followed).",
            ViolationKind.Invalid, "saml.metadataUnreachable");
        try
        {
            using var response = await http.CreateClient(MetadataHttpClient).GetAsync(url, cancellationToken);
            return response.IsSuccessStatusCode ? await response.Content.ReadAsStringAsync(cancellationToken) : throw unreachable;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            throw unreachable;
        }
    }
}
