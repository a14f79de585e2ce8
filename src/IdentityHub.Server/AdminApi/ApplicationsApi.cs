using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Access;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IdentityHub.Server.AdminApi;

/// <param name="LaunchUrl">Where the portal sends an employee to start the application: https (http only on localhost).</param>
/// <param name="IconUrl">The portal's icon: an https URL or a base64 data: URI of an image.</param>
/// <param name="Theme">The theme folder its sign-in pages use; empty for the global theme.</param>
/// <param name="RevokeTokensOnAccessLoss">Losing a role there revokes the user's refresh tokens of its client; default true (on create), unchanged when omitted (on update).</param>
/// <param name="Mfa">"required": signing in to it (OIDC or SAML) always takes a second factor, stepping up a one-factor session; "default": the user's own policy decides. Default "default" (on create), unchanged when omitted (on update).</param>
public sealed record ApplicationRequest(
    string? Name, string? Description, bool? RevokeTokensOnAccessLoss = null, string? LaunchUrl = null, string? IconUrl = null, string? Theme = null,
    string? Mfa = null);

/// <param name="Mfa">"required" or "default" (see the request).</param>
public sealed record ApplicationDto(
    Guid Id, string Name, string? Description, string? OidcClientId, string? LaunchUrl, string? IconUrl, string? Theme,
    bool RevokeTokensOnAccessLoss, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string Mfa);

public sealed record ApplicationPage(IReadOnlyList<ApplicationDto> Items, int Page, int PageSize, int Total);

/// <summary>/applications: the connected systems. Their OIDC client is in <see cref="ApplicationOidcApi"/>.</summary>
public static class ApplicationsApi
{
    private const int MaxPageSize = 100;

    public static void MapApplicationsApi(this IEndpointRouteBuilder api)
    {
        var applications = api.MapGroup("/applications");
        applications.MapGet("/", ListAsync).WithSummary("List applications");
        applications.MapGet("/{id:guid}", GetAsync).WithName("GetApplication").WithSummary("Get an application");
        applications.MapPost("/", CreateAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Create an application");
        applications.MapPut("/{id:guid}", UpdateAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Update an application");
        applications.MapDelete("/{id:guid}", DeleteAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Delete an application");
    }

    internal static ApplicationDto ToDto(Application a) => new(
        a.Id, a.Name, a.Description, a.OidcClientId, a.LaunchUrl, a.IconUrl, a.Theme, a.RevokeTokensOnAccessLoss, a.CreatedAt, a.UpdatedAt,
        a.RequireMfa ? Applications.MfaRequired : Applications.MfaDefault);

    /// <summary>Applications by name; <c>q</c> keeps those whose name or description contains the text.</summary>
    private static async Task<Results<Ok<ApplicationPage>, ValidationProblem>> ListAsync(
        ApplicationQueries applications, CancellationToken cancellationToken, int page = 1, int pageSize = 20, string? q = null)
    {
        if (page < 1)
        {
            return Problems.Invalid("page", "page starts at 1.");
        }

        if (pageSize is < 1 or > MaxPageSize)
        {
            return Problems.Invalid("pageSize", $"pageSize must be between 1 and {MaxPageSize}.");
        }

        var (items, total) = await applications.PageAsync(page, pageSize, string.IsNullOrWhiteSpace(q) ? null : q.Trim(), cancellationToken);
        return TypedResults.Ok(new ApplicationPage([.. items.Select(ToDto)], page, pageSize, total));
    }

    private static async Task<Results<Ok<ApplicationDto>, NotFound>> GetAsync(
        Guid id, ApplicationQueries applications, HttpContext http, CancellationToken cancellationToken)
    {
        if (await applications.GetAsync(id, cancellationToken) is not { } application)
        {
            return TypedResults.NotFound();
        }

        ETags.Set(http, application.UpdatedAt);
        return TypedResults.Ok(ToDto(application));
    }

    private static async Task<CreatedAtRoute<ApplicationDto>> CreateAsync(
        ApplicationRequest request, Applications applications, HttpContext http, CancellationToken cancellationToken)
    {
        var application = await applications.CreateAsync(InputOf(request), cancellationToken);
        ETags.Set(http, application.UpdatedAt);
        return TypedResults.CreatedAtRoute(ToDto(application), "GetApplication", new { id = application.Id });
    }

    /// <summary>Replaces the application (PUT); RFC 9110 §13.1.1 If-Match refuses a stale change with 412.</summary>
    private static async Task<Ok<ApplicationDto>> UpdateAsync(
        Guid id, ApplicationRequest request, IfMatch ifMatch, Applications applications, HttpContext http, CancellationToken cancellationToken)
    {
        var application = await applications.UpdateAsync(id, InputOf(request), ifMatch.Revision, cancellationToken);
        ETags.Set(http, application.UpdatedAt);
        return TypedResults.Ok(ToDto(application));
    }

    /// <summary>
    /// Deletes the application with its OIDC client, SAML service provider and permissions; 409 naming the roles,
    /// separation-of-duty rules and connectors still attached (extension members <c>roles</c>, <c>sodRules</c>, <c>connectors</c>).
    /// </summary>
    private static async Task<NoContent> DeleteAsync(Guid id, IfMatch ifMatch, Applications applications, CancellationToken cancellationToken)
    {
        await applications.DeleteAsync(id, ifMatch.Revision, cancellationToken);
        return TypedResults.NoContent();
    }

    private static ApplicationInput InputOf(ApplicationRequest r) =>
        new(r.Name, r.Description, r.LaunchUrl, r.IconUrl, r.Theme, r.RevokeTokensOnAccessLoss, r.Mfa);
}
