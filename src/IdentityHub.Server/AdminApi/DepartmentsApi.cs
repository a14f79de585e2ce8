using IdentityHub.Core.Directory;
using IdentityHub.Core.Queries;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.AdminApi;

public sealed record DepartmentRequest(string? Code, string? Name, Guid? ParentId);

public sealed record MoveDepartmentRequest(Guid? ParentId);

public sealed record DepartmentDto(Guid Id, string Code, string Name, Guid? ParentId, string Path, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A department in the tree, with its direct user count and its children.</summary>
public sealed record DepartmentNode(Guid Id, string Code, string Name, int Users, IReadOnlyList<DepartmentNode> Children);

/// <summary>/departments: the company's tree. A change of parent is a move; the Core refuses cycles.</summary>
public static class DepartmentsApi
{
    private static readonly SortFields<Department> Sort = new SortFields<Department>("name")
        .Add("name", d => d.Name)
        .Add("code", d => d.Code)
        .Add("path", d => d.Path)
        .Add("createdAt", d => d.CreatedAt)
        .Add("updatedAt", d => d.UpdatedAt);

    public static void MapDepartmentsApi(this IEndpointRouteBuilder api)
    {
        var departments = api.MapGroup("/departments");
        departments.MapGet("/", ListAsync).WithSummary("List departments");
        departments.MapGet("/tree", TreeAsync).WithSummary("Get the department tree");
        departments.MapGet("/{id:guid}", GetAsync).WithName("GetDepartment").WithSummary("Get a department");
        departments.MapPost("/", CreateAsync).RequireAuthorization(AdminApiPolicies.Directory).WithSummary("Create a department");
        departments.MapPut("/{id:guid}", UpdateAsync).RequireAuthorization(AdminApiPolicies.Directory).WithSummary("Rename or recode a department");
        departments.MapPost("/{id:guid}/move", MoveAsync).RequireAuthorization(AdminApiPolicies.Directory).WithSummary("Move a department and its subtree");
        departments.MapDelete("/{id:guid}", DeleteAsync).RequireAuthorization(AdminApiPolicies.Directory).WithSummary("Delete an empty department");
    }

    internal static DepartmentDto ToDto(Department d) => new(d.Id, d.Code, d.Name, d.ParentId, d.Path, d.CreatedAt, d.UpdatedAt);

    /// <summary>Lists departments; <c>q</c> searches code and name; <c>parentId</c> gives the direct children (<c>root=true</c> the top level).</summary>
    private static async Task<Results<Ok<Paged<DepartmentDto>>, ValidationProblem>> ListAsync(
        [AsParameters] ListQuery list, IdentityHubDbContext db, CancellationToken cancellationToken, Guid? parentId = null, bool? root = null)
    {
        var query = db.Departments.AsNoTracking().WhereAnyContains(list.Search, d => d.Name, d => d.Code);

        if (parentId is { } parent)
        {
            query = query.Where(d => d.ParentId == parent);
        }
        else if (root == true)
        {
            query = query.Where(d => d.ParentId == null);
        }

        return await Listing.PageAsync(query, list, Sort, ToDto, cancellationToken);
    }

    /// <summary>The whole tree in one answer (what the console's tree view shows).</summary>
    private static async Task<Ok<IReadOnlyList<DepartmentNode>>> TreeAsync(IdentityHubDbContext db, CancellationToken cancellationToken)
    {
        var all = await db.Departments.AsNoTracking().Select(d => new { d.Id, d.Code, d.Name, d.ParentId }).ToListAsync(cancellationToken);
        var users = await db.Users.AsNoTracking().Where(u => u.DepartmentId != null).GroupBy(u => u.DepartmentId)
            .Select(g => new { Id = g.Key!.Value, Count = g.Count() }).ToDictionaryAsync(g => g.Id, g => g.Count, cancellationToken);
        var children = all.ToLookup(d => d.ParentId);

        List<DepartmentNode> Build(Guid? parent) =>
            [.. children[parent].OrderBy(d => d.Name, StringComparer.CurrentCulture)
                .Select(d => new DepartmentNode(d.Id, d.Code, d.Name, users.GetValueOrDefault(d.Id), Build(d.Id)))];

        return TypedResults.Ok<IReadOnlyList<DepartmentNode>>(Build(null));
    }

    private static async Task<Results<Ok<DepartmentDto>, NotFound>> GetAsync(
        Guid id, IdentityHubDbContext db, HttpContext http, CancellationToken cancellationToken)
    {
        var department = await db.Departments.AsNoTracking().SingleOrDefaultAsync(d => d.Id == id, cancellationToken);
        if (department is null)
        {
            return TypedResults.NotFound();
        }

        ETags.Set(http, department.UpdatedAt);
        return TypedResults.Ok(ToDto(department));
    }

    private static async Task<CreatedAtRoute<DepartmentDto>> CreateAsync(
        DepartmentRequest request, Departments departments, HttpContext http, CancellationToken cancellationToken)
    {
        var department = await departments.CreateAsync(InputOf(request), cancellationToken);
        ETags.Set(http, department.UpdatedAt);
        return TypedResults.CreatedAtRoute(ToDto(department), "GetDepartment", new { id = department.Id });
    }

    private static async Task<Ok<DepartmentDto>> UpdateAsync(
        Guid id, DepartmentRequest request, IfMatch ifMatch, Departments departments, HttpContext http, CancellationToken cancellationToken)
    {
        var department = await departments.UpdateAsync(id, InputOf(request), ifMatch.Revision, cancellationToken);
        ETags.Set(http, department.UpdatedAt);
        return TypedResults.Ok(ToDto(department));
    }

    /// <summary>Moves the department and its subtree under <c>parentId</c> (null = top level).</summary>
    private static async Task<Results<Ok<DepartmentDto>, NotFound>> MoveAsync(
        Guid id, MoveDepartmentRequest request, IfMatch ifMatch, Departments departments, IdentityHubDbContext db, HttpContext http,
        CancellationToken cancellationToken)
    {
        await departments.MoveAsync(id, request.ParentId, ifMatch.Revision, cancellationToken);
        return await GetAsync(id, db, http, cancellationToken);
    }

    private static async Task<NoContent> DeleteAsync(Guid id, IfMatch ifMatch, Departments departments, CancellationToken cancellationToken)
    {
        await departments.DeleteAsync(id, ifMatch.Revision, cancellationToken);
        return TypedResults.NoContent();
    }

    private static DepartmentInput InputOf(DepartmentRequest r) => new(r.Code ?? "", r.Name ?? "", r.ParentId);
}
