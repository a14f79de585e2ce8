using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Access;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IdentityHub.Server.AdminApi;

public sealed record AssignmentRequest(
    string? UserId, Guid? RoleId, Guid? DepartmentId, DateTimeOffset? ValidFrom, DateTimeOffset? ValidUntil, string? Reason);

public sealed record EndAssignmentRequest(string? Reason);

/// <summary>
/// An assignment; the names beside the ids (<see cref="UserDisplayName"/>, <see cref="RoleName"/> and its display name, the
/// role's application, <see cref="DepartmentName"/> for the scope) are what people read.
/// </summary>
public sealed record AssignmentDto(
    Guid Id, string UserId, Guid RoleId, Guid? DepartmentId, DateTimeOffset ValidFrom, DateTimeOffset? ValidUntil, string Reason,
    string GrantedBy, DateTimeOffset GrantedAt, DateTimeOffset? EndedAt, string? EndedBy, string? EndReason, bool Active,
    string? UserName, string? UserDisplayName, string? RoleName, string? RoleDisplayName, Guid? ApplicationId, string? ApplicationName, string? DepartmentName);

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

    /// <summary>The assignments (role, application and department loaded) with the names of their people, in one look-up.</summary>
    internal static async Task<IReadOnlyList<AssignmentDto>> ToDtosAsync(
        IReadOnlyList<RoleAssignment> assignments, UserQueries users, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var people = await users.NamesAsync(assignments.Select(a => a.UserId), cancellationToken);
        return [.. assignments.Select(a => ToDto(a, people.GetValueOrDefault(a.UserId), now))];
    }

    private static AssignmentDto ToDto(RoleAssignment a, PersonName? person, DateTimeOffset now) => new(
        a.Id, a.UserId, a.RoleId, a.DepartmentId, a.ValidFrom, a.ValidUntil, a.Reason, a.GrantedBy, a.GrantedAt,
        a.EndedAt, a.EndedBy, a.EndReason, a.IsActiveAt(now),
        person?.UserName, person?.DisplayName, a.Role?.Name, a.Role?.DisplayName, a.Role?.ApplicationId, a.Role?.Application?.Name, a.Department?.Name);

    /// <summary>Lists assignments by user, role, application, department scope; <c>active=true</c> only those counting now.</summary>
    private static async Task<Results<Ok<Paged<AssignmentDto>>, ValidationProblem>> ListAsync(
        [AsParameters] ListQuery list, AssignmentQueries queries, UserQueries users, TimeProvider clock, CancellationToken cancellationToken,
        string? userId = null, Guid? roleId = null, Guid? applicationId = null, Guid? departmentId = null, bool? active = null)
    {
        var now = clock.GetUtcNow();
        var query = queries.Find(new AssignmentFilter(userId, roleId, applicationId, departmentId, active));
        return await Listing.PageAsync(query, list, Sort, (page, ct) => ToDtosAsync(page, users, now, ct), cancellationToken);
    }

    private static async Task<Results<Ok<AssignmentDto>, NotFound>> GetAsync(
        Guid id, AssignmentQueries queries, UserQueries users, TimeProvider clock, HttpContext http, CancellationToken cancellationToken)
    {
        var assignment = await queries.GetAsync(id, cancellationToken);
        if (assignment is null)
        {
            return TypedResults.NotFound();
        }

        ETags.Set(http, assignment.UpdatedAt);
        return TypedResults.Ok((await ToDtosAsync([assignment], users, clock.GetUtcNow(), cancellationToken))[0]);
    }

    /// <summary>Grants a role; the Core refuses unknown users or roles, until before from, SoD conflicts and out-of-delegation grants.</summary>
    private static async Task<CreatedAtRoute<AssignmentDto>> GrantAsync(
        AssignmentRequest request, RoleAssignments assignments, AssignmentQueries queries, UserQueries users, TimeProvider clock, HttpContext http,
        CancellationToken cancellationToken)
    {
        var granted = await assignments.GrantAsync(
            new AssignmentInput(request.UserId, request.RoleId, request.DepartmentId, request.ValidFrom, request.ValidUntil, request.Reason),
            cancellationToken);
        var assignment = await queries.GetAsync(granted.Id, cancellationToken) ?? granted;
        ETags.Set(http, assignment.UpdatedAt);
        return TypedResults.CreatedAtRoute((await ToDtosAsync([assignment], users, clock.GetUtcNow(), cancellationToken))[0], "GetAssignment", new { id = assignment.Id });
    }

    private static async Task<Results<Ok<AssignmentDto>, NotFound>> EndAsync(
        Guid id, EndAssignmentRequest? request, IfMatch ifMatch, RoleAssignments assignments, AssignmentQueries queries, UserQueries users, TimeProvider clock,
        HttpContext http, CancellationToken cancellationToken)
    {
        await assignments.EndAsync(id, request?.Reason, ifMatch.Revision, cancellationToken);
        return await GetAsync(id, queries, users, clock, http, cancellationToken);
    }
}
