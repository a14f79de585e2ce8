using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Access;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IdentityHub.Server.AdminApi;

public sealed record PermissionRequest(string? Name, string? Description, Dictionary<string, string>? Parameters);

public sealed record PermissionDto(
    Guid Id, Guid ApplicationId, string Name, string? Description, IReadOnlyDictionary<string, string> Parameters,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>/applications/{applicationId}/permissions: what an application lets people do, with default parameters.</summary>
public static class PermissionsApi
{
    private static readonly SortFields<Permission> Sort = new SortFields<Permission>("name")
        .Add("name", p => p.Name)
        .Add("createdAt", p => p.CreatedAt)
        .Add("updatedAt", p => p.UpdatedAt);

    public static void MapPermissionsApi(this IEndpointRouteBuilder api)
    {
        var permissions = api.MapGroup("/applications/{applicationId:guid}/permissions");
        permissions.MapGet("/", ListAsync).WithSummary("List an application's permissions");
        permissions.MapGet("/{id:guid}", GetAsync).WithName("GetPermission").WithSummary("Get a permission");
        permissions.MapPost("/", CreateAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Create a permission");
        permissions.MapPut("/{id:guid}", UpdateAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Update a permission");
        permissions.MapDelete("/{id:guid}", DeleteAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Delete a permission");
    }

    internal static PermissionDto ToDto(Permission p) => new(p.Id, p.ApplicationId, p.Name, p.Description, p.Parameters, p.CreatedAt, p.UpdatedAt);

    private static async Task<Results<Ok<Paged<PermissionDto>>, ValidationProblem, NotFound>> ListAsync(
        Guid applicationId, [AsParameters] ListQuery list, ApplicationQueries applications, PermissionQueries permissions, CancellationToken cancellationToken)
    {
        if (!await applications.ExistsAsync(applicationId, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        var page = await Listing.PageAsync(permissions.Find(applicationId, list.Search), list, Sort, ToDto, cancellationToken);
        return page.Result is Ok<Paged<PermissionDto>> ok ? ok : (ValidationProblem)page.Result;
    }

    private static async Task<Results<Ok<PermissionDto>, NotFound>> GetAsync(
        Guid applicationId, Guid id, PermissionQueries permissions, HttpContext http, CancellationToken cancellationToken)
    {
        if (await permissions.GetAsync(applicationId, id, cancellationToken) is not { } permission)
        {
            return TypedResults.NotFound();
        }

        ETags.Set(http, permission.UpdatedAt);
        return TypedResults.Ok(ToDto(permission));
    }

    private static async Task<CreatedAtRoute<PermissionDto>> CreateAsync(
        Guid applicationId, PermissionRequest request, Permissions permissions, HttpContext http, CancellationToken cancellationToken)
    {
        var permission = await permissions.CreateAsync(applicationId, InputOf(request), cancellationToken);
        ETags.Set(http, permission.UpdatedAt);
        return TypedResults.CreatedAtRoute(ToDto(permission), "GetPermission", new { applicationId, id = permission.Id });
    }

    private static async Task<Results<Ok<PermissionDto>, NotFound>> UpdateAsync(
        Guid applicationId, Guid id, PermissionRequest request, IfMatch ifMatch, Permissions permissions, PermissionQueries queries,
        HttpContext http, CancellationToken cancellationToken)
    {
        if (!await queries.ExistsAsync(applicationId, id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        var permission = await permissions.UpdateAsync(id, InputOf(request), ifMatch.Revision, cancellationToken);
        ETags.Set(http, permission.UpdatedAt);
        return TypedResults.Ok(ToDto(permission));
    }

    private static async Task<Results<NoContent, NotFound>> DeleteAsync(
        Guid applicationId, Guid id, IfMatch ifMatch, Permissions permissions, PermissionQueries queries, CancellationToken cancellationToken)
    {
        if (!await queries.ExistsAsync(applicationId, id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        await permissions.DeleteAsync(id, ifMatch.Revision, cancellationToken);
        return TypedResults.NoContent();
    }

    private static PermissionInput InputOf(PermissionRequest r) => new(r.Name ?? "", r.Description, r.Parameters ?? []);
}
