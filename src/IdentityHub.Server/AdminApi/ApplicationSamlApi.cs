using System.Security.Cryptography;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Saml.Metadata;
using IdentityHub.Saml.Protocol;
using IdentityHub.Server.Saml;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.AdminApi;

/// <summary>/applications/{id}/saml: the application's SAML service provider, by fields or from its metadata.</summary>
public static class ApplicationSamlApi
{
    public const string MetadataHttpClient = "saml-metadata";
    private const int MaxMetadataBytes = SpMetadata.MaxChars;

    public static void MapApplicationSamlApi(this IEndpointRouteBuilder api)
    {
        var saml = api.MapGroup("/applications/{id:guid}/saml");
        saml.MapGet("/", GetAsync);
        saml.MapPut("/", PutAsync).RequireAuthorization(AdminApiPolicies.Security);
        saml.MapDelete("/", DeleteAsync).RequireAuthorization(AdminApiPolicies.Security);
        saml.MapPost("/metadata", ImportMetadataAsync).RequireAuthorization(AdminApiPolicies.Security);
    }

    /// <summary>The client that fetches SP metadata: no redirects (SSRF), short timeout, bounded body.</summary>
    public static void AddSamlMetadataClient(this IServiceCollection services) =>
        services.AddHttpClient(MetadataHttpClient, client =>
            {
                client.Timeout = TimeSpan.FromSeconds(10);
                client.MaxResponseContentBufferSize = MaxMetadataBytes;
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });

    private static async Task<Results<Ok<SamlServiceProviderDto>, NotFound>> GetAsync(Guid id, IdentityHubDbContext db, CancellationToken cancellationToken)
    {
        var sp = await db.SamlServiceProviders.AsNoTracking().SingleOrDefaultAsync(s => s.ApplicationId == id, cancellationToken);
        return sp is null ? TypedResults.NotFound() : TypedResults.Ok(SamlRegistration.Read(sp));
    }

    private static Task<Results<Ok<SamlServiceProviderDto>, NotFound, ValidationProblem>> PutAsync(
        Guid id, SamlServiceProviderDto request, IdentityHubDbContext db, TimeProvider clock, CancellationToken cancellationToken) =>
        SaveAsync(id, request, db, clock, cancellationToken);

    private static async Task<Results<NoContent, NotFound>> DeleteAsync(Guid id, IdentityHubDbContext db, CancellationToken cancellationToken)
    {
        var deleted = await db.SamlServiceProviders.Where(s => s.ApplicationId == id).ExecuteDeleteAsync(cancellationToken);
        return deleted == 0 ? TypedResults.NotFound() : TypedResults.NoContent();
    }

    /// <summary>Registers (or replaces) the SP from its metadata, given inline or fetched from an http(s) URL.</summary>
    private static async Task<Results<Ok<SamlServiceProviderDto>, NotFound, ValidationProblem>> ImportMetadataAsync(
        Guid id, SamlMetadataImportRequest request, IdentityHubDbContext db, IHttpClientFactory http, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!await db.Applications.AnyAsync(a => a.Id == id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        string xml;
        if (request.MetadataXml is { Length: > 0 } inline)
        {
            xml = inline;
        }
        else if (Uri.TryCreate(request.MetadataUrl, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttps || url.Scheme == Uri.UriSchemeHttp))
        {
            try
            {
                using var response = await http.CreateClient(MetadataHttpClient).GetAsync(url, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    return Invalid("metadataUrl", $"Fetching the metadata answered {(int)response.StatusCode}.");
                }

                xml = await response.Content.ReadAsStringAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                return Invalid("metadataUrl", "The metadata could not be fetched (unreachable, too slow, or larger than 512 KiB).");
            }
        }
        else
        {
            return Invalid("metadataXml", "Give metadataXml, or metadataUrl as an absolute http or https URL.");
        }

        SpMetadataInfo info;
        try
        {
            info = SpMetadata.Read(xml);
        }
        catch (SamlProtocolException ex)
        {
            return Invalid("metadataXml", ex.Message);
        }

        return await SaveAsync(id, SamlRegistration.FromMetadata(info, SamlRegistration.NameIdFormatUri(request.NameIdFormat)), db, clock, cancellationToken);
    }

    private static async Task<Results<Ok<SamlServiceProviderDto>, NotFound, ValidationProblem>> SaveAsync(
        Guid id, SamlServiceProviderDto request, IdentityHubDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!await db.Applications.AnyAsync(a => a.Id == id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        var errors = SamlRegistration.Validate(request);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var entityId = request.EntityId.Trim();
        if (await db.SamlServiceProviders.AnyAsync(s => s.EntityId == entityId && s.ApplicationId != id, cancellationToken))
        {
            return DuplicateEntityId();
        }

        var now = clock.GetUtcNow();
        var sp = await db.SamlServiceProviders.SingleOrDefaultAsync(s => s.ApplicationId == id, cancellationToken);
        if (sp is null)
        {
            sp = new SamlServiceProvider
            {
                Id = Guid.NewGuid(), ApplicationId = id, EntityId = entityId, NameIdFormat = "",
                PairwiseSalt = RandomNumberGenerator.GetBytes(32), CreatedAt = now,
            };
            db.SamlServiceProviders.Add(sp);
        }

        SamlRegistration.Apply(request, sp);
        sp.UpdatedAt = now;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another request registered the same entityID (or this application's SP) at the same time.
            return DuplicateEntityId();
        }

        return TypedResults.Ok(SamlRegistration.Read(sp));
    }

    private static ValidationProblem DuplicateEntityId() =>
        Invalid("entityId", "Another application already registered this entityID.");

    private static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
}
