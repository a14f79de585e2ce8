using IdentityHub.Data;
using IdentityHub.Saml.Metadata;
using IdentityHub.Server.Saml;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.AdminApi;

/// <summary>The answer to a metadata import: the registration, and the endpoints left out because their binding is not supported.</summary>
public sealed record SamlMetadataImportResponse(SamlServiceProviderDto ServiceProvider, IReadOnlyList<SkippedEndpoint> Skipped);

/// <summary>/applications/{id}/saml: the application's SAML service provider, by fields or from its metadata.</summary>
public static class ApplicationSamlApi
{
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
        services.AddHttpClient(SamlServiceProviderRegistry.MetadataHttpClient, client =>
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

    private static async Task<Results<Ok<SamlServiceProviderDto>, NotFound, ValidationProblem>> PutAsync(
        Guid id, SamlServiceProviderDto request, SamlServiceProviderRegistry registry, CancellationToken cancellationToken)
    {
        var outcome = await registry.SaveAsync(id, request, cancellationToken);
        return !outcome.ApplicationFound ? TypedResults.NotFound()
            : outcome.Saved is { } saved ? TypedResults.Ok(saved)
            : TypedResults.ValidationProblem(outcome.Errors);
    }

    private static async Task<Results<NoContent, NotFound>> DeleteAsync(Guid id, SamlServiceProviderRegistry registry, CancellationToken cancellationToken) =>
        await registry.DeleteAsync(id, cancellationToken) ? TypedResults.NoContent() : TypedResults.NotFound();

    /// <summary>Registers (or replaces) the SP from its metadata; endpoints with bindings IdentityHub does not speak are listed in "skipped".</summary>
    private static async Task<Results<Ok<SamlMetadataImportResponse>, NotFound, ValidationProblem>> ImportMetadataAsync(
        Guid id, SamlMetadataImportRequest request, SamlServiceProviderRegistry registry, CancellationToken cancellationToken)
    {
        var outcome = await registry.ImportAsync(id, request, cancellationToken);
        return !outcome.ApplicationFound ? TypedResults.NotFound()
            : outcome.Saved is { } saved ? TypedResults.Ok(new SamlMetadataImportResponse(saved, outcome.Skipped))
            : TypedResults.ValidationProblem(outcome.Errors);
    }
}
