using IdentityHub.Core.Directory;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IdentityHub.Server.AdminApi;

public sealed record DepartmentRequest(string? Code, string? Name, Guid? ParentId);

public sealed record MoveDepartmentRequest(Guid? ParentId);

/// <param name="RequireMfa">Everyone in the department and every department under it signs in with a second factor.</param>
public sealed record DepartmentMfaRequest(bool RequireMfa);

/// <summary>A department; <see cref="ParentName"/> names the parent beside its id.</summary>
/// <param name="RequireMfa">This department's own flag: its subtree signs in with a second factor (a department above may require it too).</param>
public sealed record DepartmentDto(Guid Id, string Code, string Name, Guid? ParentId, string Path, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? ParentName, bool RequireMfa);

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
        departments.MapPut("/{id:guid}/mfa", SetMfaAsync).RequireAuthorization(AdminApiPolicies.Directory).WithSummary("Require (or stop requiring) MFA for a department's subtree");
        departments.MapDelete("/{id:guid}", DeleteAsync).RequireAuthorization(AdminApiPolicies.Directory).WithSummary("Delete an empty department");
    }

    private static DepartmentDto ToDto(Department d) => new(d.Id, d.Code, d.Name, d.ParentId, d.Path, d.CreatedAt, d.UpdatedAt, d.Parent?.Name, d.RequireMfa);

    /// <summary>Lists departments; <c>q</c> searches code and name; <c>parentId</c> gives the direct children (<c>root=true</c> the top level).</summary>
    private static async Task<Results<Ok<Paged<DepartmentDto>>, ValidationProblem>> ListAsync(
        [AsParameters] ListQuery list, DepartmentQueries queries, CancellationToken cancellationToken, Guid? parentId = null, bool? root = null) =>
        await Listing.PageAsync(queries.Find(list.Search, parentId, root == true), list, Sort, ToDto, cancellationToken);

    /// <summary>The whole tree in one answer (what the console's tree view shows).</summary>
    private static async Task<Ok<IReadOnlyList<DepartmentNode>>> TreeAsync(DepartmentQueries queries, CancellationToken cancellationToken)
    {
        // The read model's depth-first order keeps children by name; nesting them keeps that order.
        var children = (await queries.TreeAsync(cancellationToken)).ToLookup(n => n.Department.ParentId);

        List<DepartmentNode> Build(Guid? parent) =>
            [.. children[parent].Select(n => new DepartmentNode(n.Department.Id, n.Department.Code, n.Department.Name, n.Users, Build(n.Department.Id)))];

        return TypedResults.Ok<IReadOnlyList<DepartmentNode>>(Build(null));
    }

    private static async Task<Results<Ok<DepartmentDto>, NotFound>> GetAsync(
        Guid id, DepartmentQueries queries, HttpContext http, CancellationToken cancellationToken)
    {
        var department = await queries.GetAsync(id, cancellationToken);
        if (department is null)
        {
            return TypedResults.NotFound();
        }

        ETags.Set(http, department.UpdatedAt);
        return TypedResults.Ok(ToDto(department));
    }

    private static async Task<CreatedAtRoute<DepartmentDto>> CreateAsync(
        DepartmentRequest request, Departments departments, DepartmentQueries queries, HttpContext http, CancellationToken cancellationToken)
    {
        var created = await departments.CreateAsync(InputOf(request), cancellationToken);
        var department = await queries.GetAsync(created.Id, cancellationToken) ?? created;
        ETags.Set(http, department.UpdatedAt);
        return TypedResults.CreatedAtRoute(ToDto(department), "GetDepartment", new { id = department.Id });
    }

    private static async Task<Results<Ok<DepartmentDto>, NotFound>> UpdateAsync(
        Guid id, DepartmentRequest request, IfMatch ifMatch, Departments departments, DepartmentQueries queries, HttpContext http, CancellationToken cancellationToken)
    {
        await departments.UpdateAsync(id, InputOf(request), ifMatch.Revision, cancellationToken);
        return await GetAsync(id, queries, http, cancellationToken);
    }

    /// <summary>Moves the department and its subtree under <c>parentId</c> (null = top level).</summary>
    private static async Task<Results<Ok<DepartmentDto>, NotFound>> MoveAsync(
        Guid id, MoveDepartmentRequest request, IfMatch ifMatch, Departments departments, DepartmentQueries queries, HttpContext http,
        CancellationToken cancellationToken)
    {
        await departments.MoveAsync(id, request.ParentId, ifMatch.Revision, cancellationToken);
        return await GetAsync(id, queries, http, cancellationToken);
    }

    private static async Task<Results<Ok<DepartmentDto>, NotFound>> SetMfaAsync(
        Guid id, DepartmentMfaRequest request, IfMatch ifMatch, Departments departments, DepartmentQueries queries, HttpContext http,
        CancellationToken cancellationToken)
    {
        await departments.SetRequireMfaAsync(id, request.RequireMfa, ifMatch.Revision, cancellationToken);
        return await GetAsync(id, queries, http, cancellationToken);
    }

    private static async Task<NoContent> DeleteAsync(Guid id, IfMatch ifMatch, Departments departments, CancellationToken cancellationToken)
    {
        await departments.DeleteAsync(id, ifMatch.Revision, cancellationToken);
        return TypedResults.NoContent();
    }

    private static DepartmentInput InputOf(DepartmentRequest r) => new(r.Code ?? "", r.Name ?? "", r.ParentId);
}
