using IdentityHub.Core.Access;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Queries;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.AdminApi;

public sealed record UserRequest(
    string? UserName, string? DisplayName, string? Email, string? PhoneNumber, string? EmployeeNumber,
    Guid? DepartmentId, string? ManagerId, string? InitialPassword = null);

public sealed record UserDto(
    string Id, string? UserName, string DisplayName, string? Email, string? PhoneNumber, string? EmployeeNumber, string Status,
    Guid? DepartmentId, string? ManagerId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>Why a status change happened, recorded in the audit trail.</summary>
public sealed record StatusChangeRequest(string? Reason);

public sealed record AdminRolesRequest(IReadOnlyList<string>? Roles, IReadOnlyList<Guid>? AdministeredDepartments);

public sealed record AdminRolesDto(string UserId, IReadOnlyList<string> Roles, IReadOnlyList<Guid> AdministeredDepartments);

public sealed record EntitlementDto(
    Guid ApplicationId, string ApplicationName, string Permission, IReadOnlyDictionary<string, string> Parameters,
    Guid RoleId, string RoleName, Guid AssignmentId, Guid? DepartmentId, string? DepartmentName, DateTimeOffset? ValidUntil, string Reason);

/// <summary>/users: the people who sign in, their status, their rights and why they hold them.</summary>
public static class UsersApi
{
    private static readonly SortFields<UserAccount> Sort = new SortFields<UserAccount>("displayName")
        .Add("displayName", u => u.DisplayName)
        .Add("userName", u => u.UserName)
        .Add("employeeNumber", u => u.EmployeeNumber)
        .Add("email", u => u.Email)
        .Add("status", u => u.Status)
        .Add("createdAt", u => u.CreatedAt)
        .Add("updatedAt", u => u.UpdatedAt);

    public static void MapUsersApi(this IEndpointRouteBuilder api)
    {
        var users = api.MapGroup("/users");
        users.MapGet("/", ListAsync).WithSummary("List users");
        users.MapGet("/{id}", GetAsync).WithName("GetUser").WithSummary("Get a user");
        users.MapGet("/{id}/entitlements", EntitlementsAsync).WithSummary("Get a user's effective permissions, with the reason for each");
        users.MapGet("/{id}/assignments", AssignmentsAsync).WithSummary("List a user's role assignments");
        users.MapPost("/", CreateAsync).RequireAuthorization(AdminApiPolicies.Directory).WithSummary("Create a user");
        users.MapPut("/{id}", UpdateAsync).RequireAuthorization(AdminApiPolicies.Directory).WithSummary("Update a user");
        users.MapPost("/{id}/suspend", SuspendAsync).RequireAuthorization(AdminApiPolicies.Directory).WithSummary("Suspend a user (sessions end, assignments stay)");
        users.MapPost("/{id}/reactivate", ReactivateAsync).RequireAuthorization(AdminApiPolicies.Directory).WithSummary("Reactivate a suspended user");
        users.MapPost("/{id}/leave", LeaveAsync).RequireAuthorization(AdminApiPolicies.Directory).WithSummary("Mark a user as left (sessions and assignments end)");
        users.MapPost("/{id}/end-sessions", EndSessionsAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("End a user's sessions and revoke their tokens");
        users.MapGet("/{id}/admin-roles", AdminRolesAsync).WithSummary("Get a user's admin roles");
        users.MapPut("/{id}/admin-roles", SetAdminRolesAsync).RequireAuthorization(AdminApiPolicies.SuperAdmin).WithSummary("Set a user's admin roles and administered departments");
    }

    internal static UserDto ToDto(UserAccount u) => new(
        u.Id, u.UserName, u.DisplayName, u.Email, u.PhoneNumber, u.EmployeeNumber, u.Status.ToString().ToLowerInvariant(),
        u.DepartmentId, u.ManagerId, u.CreatedAt, u.UpdatedAt);

    /// <summary>Lists users; <c>q</c> searches names, user name, email and employee number; <c>department</c> includes its subtree.</summary>
    private static async Task<Results<Ok<Paged<UserDto>>, ValidationProblem>> ListAsync(
        [AsParameters] ListQuery list, IdentityHubDbContext db, CancellationToken cancellationToken,
        Guid? department = null, string? status = null)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var query = db.Users.AsNoTracking().WhereAnyContains(list.Search, u => u.DisplayName, u => u.UserName, u => u.Email, u => u.EmployeeNumber);
        if (status is not null)
        {
            if (Enum.TryParse<UserStatus>(status, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed))
            {
                query = query.Where(u => u.Status == parsed);
            }
            else
            {
                errors["status"] = [$"Unknown status \"{status}\"; use active, suspended or left."];
            }
        }

        if (department is { } departmentId)
        {
            var path = await db.Departments.Where(d => d.Id == departmentId).Select(d => d.Path).SingleOrDefaultAsync(cancellationToken);
            if (path is null)
            {
                errors["department"] = [$"No department has the id {departmentId}."];
            }
            else
            {
                var subtree = db.Departments.Where(d => d.Path.StartsWith(path)).Select(d => (Guid?)d.Id);
                query = query.Where(u => subtree.Contains(u.DepartmentId));
            }
        }

        return await Listing.PageAsync(query, list, Sort, ToDto, cancellationToken, errors);
    }

    private static async Task<Results<Ok<UserDto>, NotFound>> GetAsync(
        string id, IdentityHubDbContext db, HttpContext http, CancellationToken cancellationToken)
    {
        var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (user is null)
        {
            return TypedResults.NotFound();
        }

        ETags.Set(http, user.UpdatedAt);
        return TypedResults.Ok(ToDto(user));
    }

    private static async Task<CreatedAtRoute<UserDto>> CreateAsync(
        UserRequest request, UserDirectory directory, HttpContext http, CancellationToken cancellationToken)
    {
        var user = await directory.CreateAsync(InputOf(request), request.InitialPassword, cancellationToken);
        ETags.Set(http, user.UpdatedAt);
        return TypedResults.CreatedAtRoute(ToDto(user), "GetUser", new { id = user.Id });
    }

    private static async Task<Ok<UserDto>> UpdateAsync(
        string id, UserRequest request, IfMatch ifMatch, UserDirectory directory, HttpContext http, CancellationToken cancellationToken)
    {
        var user = await directory.UpdateAsync(id, InputOf(request), ifMatch.Revision, cancellationToken);
        ETags.Set(http, user.UpdatedAt);
        return TypedResults.Ok(ToDto(user));
    }

    private static async Task<Results<Ok<UserDto>, NotFound>> SuspendAsync(
        string id, StatusChangeRequest? request, IfMatch ifMatch, UserDirectory directory, IdentityHubDbContext db, HttpContext http, CancellationToken cancellationToken)
    {
        await directory.SuspendAsync(id, request?.Reason, ifMatch.Revision, cancellationToken);
        return await GetAsync(id, db, http, cancellationToken);
    }

    private static async Task<Results<Ok<UserDto>, NotFound>> ReactivateAsync(
        string id, IfMatch ifMatch, UserDirectory directory, IdentityHubDbContext db, HttpContext http, CancellationToken cancellationToken)
    {
        await directory.ReactivateAsync(id, ifMatch.Revision, cancellationToken);
        return await GetAsync(id, db, http, cancellationToken);
    }

    /// <summary>Marks the user as having left: disabled, sessions and tokens ended, every assignment ended.</summary>
    private static async Task<Results<Ok<UserDto>, NotFound>> LeaveAsync(
        string id, StatusChangeRequest? request, IfMatch ifMatch, UserDirectory directory, IdentityHubDbContext db, HttpContext http, CancellationToken cancellationToken)
    {
        await directory.MarkLeftAsync(id, request?.Reason, ifMatch.Revision, cancellationToken);
        return await GetAsync(id, db, http, cancellationToken);
    }

    private static async Task<NoContent> EndSessionsAsync(string id, UserDirectory directory, CancellationToken cancellationToken)
    {
        await directory.EndSessionsAsync(id, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>The user's effective permissions, each with the assignment that grants it and why ("granted by assignment X of role Y...").</summary>
    private static async Task<Results<Ok<IReadOnlyList<EntitlementDto>>, NotFound>> EntitlementsAsync(
        string id, EffectiveEntitlements entitlements, IdentityHubDbContext db, CancellationToken cancellationToken, Guid? applicationId = null)
    {
        if (!await db.Users.AnyAsync(u => u.Id == id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        var grants = await entitlements.ExplainAsync(id, applicationId, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<EntitlementDto>>([.. grants.Select(g => new EntitlementDto(
            g.ApplicationId, g.ApplicationName, g.Permission, g.Parameters, g.RoleId, g.RoleName, g.AssignmentId,
            g.DepartmentId, g.DepartmentName, g.ValidUntil, g.Reason))]);
    }

    private static async Task<Results<Ok<IReadOnlyList<AssignmentDto>>, NotFound>> AssignmentsAsync(
        string id, IdentityHubDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!await db.Users.AnyAsync(u => u.Id == id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        var now = clock.GetUtcNow();
        var assignments = await db.RoleAssignments.AsNoTracking().Where(a => a.UserId == id)
            .OrderByDescending(a => a.GrantedAt).ToListAsync(cancellationToken);
        return TypedResults.Ok<IReadOnlyList<AssignmentDto>>([.. assignments.Select(a => AssignmentsApi.ToDto(a, now))]);
    }

    private static async Task<Results<Ok<AdminRolesDto>, NotFound>> AdminRolesAsync(
        string id, UserManager<UserAccount> userManager, IdentityHubDbContext db, CancellationToken cancellationToken)
    {
        var user = await userManager.FindByIdAsync(id);
        if (user is null)
        {
            return TypedResults.NotFound();
        }

        var departments = await db.AdministeredDepartments.AsNoTracking().Where(a => a.UserId == id)
            .Select(a => a.DepartmentId).ToListAsync(cancellationToken);
        return TypedResults.Ok(new AdminRolesDto(id, [.. (await userManager.GetRolesAsync(user)).Order(StringComparer.Ordinal)], departments));
    }

    /// <summary>Replaces the user's admin roles and the department subtrees they administer (super administrators only).</summary>
    private static async Task<Results<Ok<AdminRolesDto>, NotFound>> SetAdminRolesAsync(
        string id, AdminRolesRequest request, UserDirectory directory, UserManager<UserAccount> userManager, IdentityHubDbContext db,
        CancellationToken cancellationToken)
    {
        await directory.SetAdminRolesAsync(id, request.Roles ?? [], request.AdministeredDepartments ?? [], cancellationToken);
        return await AdminRolesAsync(id, userManager, db, cancellationToken);
    }

    private static UserInput InputOf(UserRequest r) =>
        new(r.UserName, r.DisplayName, r.Email, r.PhoneNumber, r.EmployeeNumber, r.DepartmentId, r.ManagerId);
}
