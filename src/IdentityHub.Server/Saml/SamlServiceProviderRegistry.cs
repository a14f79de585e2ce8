using System.Security.Cryptography;
using IdentityHub.Core.Audit;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Saml.Metadata;
using IdentityHub.Saml.Protocol;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Saml;

/// <summary>What registering an SP came to: the registration saved, or the field errors; and the metadata endpoints left out.</summary>
public sealed record SamlRegistrationOutcome(
    bool ApplicationFound, SamlServiceProviderDto? Saved, IReadOnlyDictionary<string, string[]> Errors, IReadOnlyList<SkippedEndpoint> Skipped)
{
    public static readonly SamlRegistrationOutcome NoApplication = new(false, null, new Dictionary<string, string[]>(), []);

    public static SamlRegistrationOutcome Invalid(string field, string message) =>
        new(true, null, new Dictionary<string, string[]> { [field] = [message] }, []);
}

/// <summary>
/// The SAML part of an application, registered, replaced or removed: the one place its rules run, for the
/// admin API and the console alike; every change is audited in its own transaction.
/// </summary>
public sealed class SamlServiceProviderRegistry(IdentityHubDbContext db, AuditTrail audit, IHttpClientFactory http, TimeProvider clock)
{
    public const string MetadataHttpClient = "saml-metadata";

    /// <summary>Registers (or replaces) the SP of <paramref name="applicationId"/> field by field.</summary>
    public async Task<SamlRegistrationOutcome> SaveAsync(Guid applicationId, SamlServiceProviderDto request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!await db.Applications.AnyAsync(a => a.Id == applicationId, cancellationToken))
        {
            return SamlRegistrationOutcome.NoApplication;
        }

        var errors = SamlRegistration.Validate(request);
        if (errors.Count > 0)
        {
            return new SamlRegistrationOutcome(true, null, errors, []);
        }

        var entityId = request.EntityId.Trim();
        if (await db.SamlServiceProviders.AnyAsync(s => s.EntityId == entityId && s.ApplicationId != applicationId, cancellationToken))
        {
            return DuplicateEntityId();
        }

        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var sp = await db.SamlServiceProviders.SingleOrDefaultAsync(s => s.ApplicationId == applicationId, cancellationToken);
        var before = sp is null ? null : SamlRegistration.Read(sp);
        if (sp is null)
        {
            sp = new SamlServiceProvider
            {
                Id = Guid.NewGuid(), ApplicationId = applicationId, EntityId = entityId, NameIdFormat = "",
                PairwiseSalt = RandomNumberGenerator.GetBytes(32), CreatedAt = now,
            };
            db.SamlServiceProviders.Add(sp);
        }

        SamlRegistration.Apply(request, sp);
        sp.UpdatedAt = now;
        var saved = SamlRegistration.Read(sp);
        try
        {
            await audit.RecordAsync(before is null ? "saml.registered" : "saml.updated", "application", applicationId.ToString(), before, saved, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another request registered the same entityID (or this application's SP) at the same time.
            return DuplicateEntityId();
        }

        return new SamlRegistrationOutcome(true, saved, new Dictionary<string, string[]>(), []);
    }

    /// <summary>Registers (or replaces) the SP from its metadata, given inline or fetched from an http(s) URL.</summary>
    public async Task<SamlRegistrationOutcome> ImportAsync(Guid applicationId, SamlMetadataImportRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!await db.Applications.AnyAsync(a => a.Id == applicationId, cancellationToken))
        {
            return SamlRegistrationOutcome.NoApplication;
        }

        string xml;
        if (request.MetadataXml is { Length: > 0 } inline)
        {
            xml = inline;
        }
        else if (Uri.TryCreate(request.MetadataUrl, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttps || url.Scheme == Uri.UriSchemeHttp))
        {
            if (await FetchAsync(url, cancellationToken) is not { } fetched)
            {
                return SamlRegistrationOutcome.Invalid("metadataUrl", "The metadata could not be fetched (unreachable, too slow, or larger than 512 KiB).");
            }

            if (fetched.Error is not null)
            {
                return SamlRegistrationOutcome.Invalid("metadataUrl", fetched.Error);
            }

            xml = fetched.Xml!;
        }
        else
        {
            return SamlRegistrationOutcome.Invalid("metadataXml", "Give metadataXml, or metadataUrl as an absolute http or https URL.");
        }

        SpMetadataInfo info;
        try
        {
            info = SpMetadata.Read(xml);
        }
        catch (SamlProtocolException ex)
        {
            return SamlRegistrationOutcome.Invalid("metadataXml", ex.Message);
        }

        var registration = SamlRegistration.FromMetadata(info, SamlRegistration.NameIdFormatUri(request.NameIdFormat), request.AllowIdpInitiated);
        return await SaveAsync(applicationId, registration, cancellationToken) with { Skipped = info.Skipped };
    }

    /// <summary>False when the application has no SP.</summary>
    public async Task<bool> DeleteAsync(Guid applicationId, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var sp = await db.SamlServiceProviders.SingleOrDefaultAsync(s => s.ApplicationId == applicationId, cancellationToken);
        if (sp is null)
        {
            return false;
        }

        await audit.RecordAsync("saml.deleted", "application", applicationId.ToString(), SamlRegistration.Read(sp), after: null, cancellationToken);
        db.SamlServiceProviders.Remove(sp);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private sealed record Fetched(string? Xml, string? Error);

    /// <summary>Null when the address cannot be reached in time or the body is too large.</summary>
    private async Task<Fetched?> FetchAsync(Uri url, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.CreateClient(MetadataHttpClient).GetAsync(url, cancellationToken);
            // Redirects are not followed (the client refuses them): a 3xx is answered like any other failure.
            return response.IsSuccessStatusCode
                ? new Fetched(await response.Content.ReadAsStringAsync(cancellationToken), null)
                : new Fetched(null, $"Fetching the metadata answered {(int)response.StatusCode}; redirects are not followed.");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    private static SamlRegistrationOutcome DuplicateEntityId() =>
        SamlRegistrationOutcome.Invalid("entityId", "Another application already registered this entityID.");
}
