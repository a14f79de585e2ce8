using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Access;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IdentityHub.Server.AdminApi;

public sealed record RolePermissionRequest(Guid PermissionId, Dictionary<string, string>? Parameters);

/// <param name="Name">The key tokens carry: letters, digits, '.', '_' or '-' (<c>expense-approver</c>).</param>
/// <param name="DisplayName">What people read, any text up to 200 characters ("Finance approver"); optional.</param>
public sealed record RoleRequest(
    Guid? ApplicationId, string? Name, string? Description, bool Delegable, IReadOnlyList<RolePermissionRequest>? Permissions, string? DisplayName = null);

public sealed record RolePermissionDto(Guid PermissionId, IReadOnlyDictionary<string, string> Parameters);

public sealed record RoleDto(
    Guid Id, Guid? ApplicationId, string Name, string? DisplayName, string? Description, bool Delegable, IReadOnlyList<RolePermissionDto> Permissions,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>/roles: bundles of one application's permissions (or global roles); <c>delegable</c> lets HR administrators assign them.</summary>
public static class RolesApi
{
    private static readonly SortFields<Role> Sort = new SortFields<Role>("name")
        .Add("name", r => r.Name)
        .Add("displayName", r => r.DisplayName)
        .Add("delegable", r => r.Delegable)
        .Add("createdAt", r => r.CreatedAt)
        .Add("updatedAt", r => r.UpdatedAt);

    public static void MapRolesApi(this IEndpointRouteBuilder api)
    {
        var roles = api.MapGroup("/roles");
        roles.MapGet("/", ListAsync).WithSummary("List roles");
        roles.MapGet("/{id:guid}", GetAsync).WithName("GetRole").WithSummary("Get a role");
        roles.MapPost("/", CreateAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Create a role");
        roles.MapPut("/{id:guid}", UpdateAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Update a role");
        roles.MapDelete("/{id:guid}", DeleteAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Delete a role");
    }

    internal static RoleDto ToDto(Role r) => new(
        r.Id, r.ApplicationId, r.Name, r.DisplayName, r.Description, r.Delegable,
        [.. r.Permissions.Select(p => new RolePermissionDto(p.PermissionId, p.Parameters))], r.CreatedAt, r.UpdatedAt);

    /// <summary>Lists roles; <c>applicationId</c> filters by application, <c>global=true</c> gives the global roles; <c>q</c> searches key, display name and description.</summary>
    private static async Task<Results<Ok<Paged<RoleDto>>, ValidationProblem>> ListAsync(
        [AsParameters] ListQuery list, RoleQueries roles, CancellationToken cancellationToken,
        Guid? applicationId = null, bool? global = null, bool? delegable = null) =>
        await Listing.PageAsync(roles.Find(new RoleFilter(applicationId, global == true, delegable, list.Search)), list, Sort, ToDto, cancellationToken);

    private static async Task<Results<Ok<RoleDto>, NotFound>> GetAsync(
        Guid id, RoleQueries roles, HttpContext http, CancellationToken cancellationToken)
    {
        if (await roles.GetAsync(id, cancellationToken) is not { } role)
        {
            return TypedResults.NotFound();
        }

        ETags.Set(http, role.UpdatedAt);
        return TypedResults.Ok(ToDto(role));
    }

    private static async Task<Results<CreatedAtRoute<RoleDto>, NotFound>> CreateAsync(
        RoleRequest request, Roles roles, RoleQueries queries, HttpContext http, CancellationToken cancellationToken)
    {
        var role = await roles.CreateAsync(InputOf(request), cancellationToken);
        var created = await GetAsync(role.Id, queries, http, cancellationToken);
        return created.Result is Ok<RoleDto> ok
            ? TypedResults.CreatedAtRoute(ok.Value, "GetRole", new { id = role.Id })
            : TypedResults.NotFound();
    }

    private static async Task<Results<Ok<RoleDto>, NotFound>> UpdateAsync(
        Guid id, RoleRequest request, IfMatch ifMatch, Roles roles, RoleQueries queries, HttpContext http, CancellationToken cancellationToken)
    {
        await roles.UpdateAsync(id, InputOf(request), ifMatch.Revision, cancellationToken);
        return await GetAsync(id, queries, http, cancellationToken);
    }

    private static async Task<NoContent> DeleteAsync(Guid id, IfMatch ifMatch, Roles roles, CancellationToken cancellationToken)
    {
        await roles.DeleteAsync(id, ifMatch.Revision, cancellationToken);
        return TypedResults.NoContent();
    }

    private static RoleInput InputOf(RoleRequest r) => new(
        r.ApplicationId, r.Name ?? "", r.Description, r.Delegable,
        [.. (r.Permissions ?? []).Select(p => new RolePermissionInput(p.PermissionId, p.Parameters))], r.DisplayName);
}
