using IdentityHub.Core.Access;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.AdminApi;

public sealed record AssignmentRequest(
    string? UserId, Guid? RoleId, Guid? DepartmentId, DateTimeOffset? ValidFrom, DateTimeOffset? ValidUntil, string? Reason);

public sealed record EndAssignmentRequest(string? Reason);

public sealed record AssignmentDto(
    Guid Id, string UserId, Guid RoleId, Guid? DepartmentId, DateTimeOffset ValidFrom, DateTimeOffset? ValidUntil, string Reason,
    string GrantedBy, DateTimeOffset GrantedAt, DateTimeOffset? EndedAt, string? EndedBy, string? EndReason, bool Active);

/// <summary>/assignments: who holds which role, where and until when. Grants go through every rule of the Core (SoD, delegation).</summary>
public static class AssignmentsApi
{
    private static readonly SortFields<RoleAssignment> Sort = new SortFields<RoleAssignment>("-grantedAt")
        .Add("grantedAt", a => a.GrantedAt)
        .Add("validFrom", a => a.ValidFrom)
        .Add("validUntil", a => a.ValidUntil)
        .Add("endedAt", a => a.EndedAt);

    public static void MapAssignmentsApi(this IEndpointRouteBuilder api)
    {
        var assignments = api.MapGroup("/assignments");
        assignments.MapGet("/", ListAsync).WithSummary("List role assignments");
        assignments.MapGet("/{id:guid}", GetAsync).WithName("GetAssignment").WithSummary("Get a role assignment");
        assignments.MapPost("/", GrantAsync).RequireAuthorization(AdminApiPolicies.Assignments).WithSummary("Grant a role")
            .WithDescription("validFrom and validUntil are instants; validUntil is exclusive, the first instant the assignment no longer counts. "
                + "The console's \"valid until 2027-06-30, last day included\" is stored and returned as 2027-07-01T00:00:00Z.");
        assignments.MapPost("/{id:guid}/end", EndAsync).RequireAuthorization(AdminApiPolicies.Assignments).WithSummary("End a role assignment now");
    }

    internal static AssignmentDto ToDto(RoleAssignment a, DateTimeOffset now) => new(
        a.Id, a.UserId, a.RoleId, a.DepartmentId, a.ValidFrom, a.ValidUntil, a.Reason, a.GrantedBy, a.GrantedAt,
        a.EndedAt, a.EndedBy, a.EndReason, a.IsActiveAt(now));

    /// <summary>Lists assignments by user, role, application, department scope; <c>active=true</c> only those counting now.</summary>
    private static async Task<Results<Ok<Paged<AssignmentDto>>, ValidationProblem>> ListAsync(
        [AsParameters] ListQuery list, IdentityHubDbContext db, TimeProvider clock, CancellationToken cancellationToken,
        string? userId = null, Guid? roleId = null, Guid? applicationId = null, Guid? departmentId = null, bool? active = null)
    {
        var now = clock.GetUtcNow();
        var query = db.RoleAssignments.AsNoTracking();
        if (userId is not null)
        {
            query = query.Where(a => a.UserId == userId);
        }

        if (roleId is { } role)
        {
            query = query.Where(a => a.RoleId == role);
        }

        if (applicationId is { } application)
        {
            query = query.Where(a => a.Role!.ApplicationId == application);
        }

        if (departmentId is { } department)
        {
            query = query.Where(a => a.DepartmentId == department);
        }

        if (active is { } isActive)
        {
            query = query.Where(isActive ? RoleAssignment.ActiveAt(now) : RoleAssignment.InactiveAt(now));
        }

        return await Listing.PageAsync(query, list, Sort, a => ToDto(a, now), cancellationToken);
    }

    private static async Task<Results<Ok<AssignmentDto>, NotFound>> GetAsync(
        Guid id, IdentityHubDbContext db, TimeProvider clock, HttpContext http, CancellationToken cancellationToken)
    {
        var assignment = await db.RoleAssignments.AsNoTracking().SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (assignment is null)
        {
            return TypedResults.NotFound();
        }

        ETags.Set(http, assignment.UpdatedAt);
        return TypedResults.Ok(ToDto(assignment, clock.GetUtcNow()));
    }

    /// <summary>Grants a role; the Core refuses unknown users or roles, until before from, SoD conflicts and out-of-delegation grants.</summary>
    private static async Task<CreatedAtRoute<AssignmentDto>> GrantAsync(
        AssignmentRequest request, RoleAssignments assignments, TimeProvider clock, HttpContext http, CancellationToken cancellationToken)
    {
        var assignment = await assignments.GrantAsync(
            new AssignmentInput(request.UserId, request.RoleId, request.DepartmentId, request.ValidFrom, request.ValidUntil, request.Reason),
            cancellationToken);
        ETags.Set(http, assignment.UpdatedAt);
        return TypedResults.CreatedAtRoute(ToDto(assignment, clock.GetUtcNow()), "GetAssignment", new { id = assignment.Id });
    }

    private static async Task<Results<Ok<AssignmentDto>, NotFound>> EndAsync(
        Guid id, EndAssignmentRequest? request, IfMatch ifMatch, RoleAssignments assignments, IdentityHubDbContext db, TimeProvider clock, HttpContext http,
        CancellationToken cancellationToken)
    {
        await assignments.EndAsync(id, request?.Reason, ifMatch.Revision, cancellationToken);
        return await GetAsync(id, db, clock, http, cancellationToken);
    }
}
