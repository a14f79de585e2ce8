using IdentityHub.Data;
using IdentityHub.Data.Access;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Queries;

/// <summary>
/// Which assignments a list shows: by person, role, application, department scope; <see cref="Active"/> true for those
/// counting now (false: ended, expired or not started), <see cref="CurrentOrUpcoming"/> for those not ended or expired;
/// <see cref="Role"/> is part of a role's key or display name.
/// </summary>
public sealed record AssignmentFilter(
    string? UserId = null, Guid? RoleId = null, Guid? ApplicationId = null, Guid? DepartmentId = null, bool? Active = null,
    bool CurrentOrUpcoming = false, string? Role = null);

/// <summary>Reads of role assignments shared by the console and the admin API, each with its role, application and scope loaded.</summary>
public sealed class AssignmentQueries(IdentityHubDbContext db, TimeProvider clock)
{
    public Task<RoleAssignment?> GetAsync(Guid id, CancellationToken cancellationToken) =>
        Loaded().SingleOrDefaultAsync(a => a.Id == id, cancellationToken);

    /// <summary>The assignments the filter picks, unordered for the caller's sort.</summary>
    public IQueryable<RoleAssignment> Find(AssignmentFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var now = clock.GetUtcNow();
        var query = Loaded();
        if (filter.UserId is { } userId)
        {
            query = query.Where(a => a.UserId == userId);
        }

        if (filter.RoleId is { } role)
        {
            query = query.Where(a => a.RoleId == role);
        }

        if (filter.ApplicationId is { } application)
        {
            query = query.Where(a => a.Role!.ApplicationId == application);
        }

        if (filter.DepartmentId is { } department)
        {
            query = query.Where(a => a.DepartmentId == department);
        }

        if (filter.Active is { } active)
        {
            query = query.Where(active ? RoleAssignment.ActiveAt(now) : RoleAssignment.InactiveAt(now));
        }

        if (filter.CurrentOrUpcoming)
        {
            query = query.Where(RoleAssignment.CurrentOrUpcomingAt(now));
        }

        // The key or the display name people know it by ("expense-approver", "Finance approver").
        return query.WhereAnyContains(filter.Role, a => a.Role!.Name, a => a.Role!.DisplayName);
    }

    /// <summary>The first <paramref name="limit"/> assignments the filter picks, the latest granted first.</summary>
    public async Task<IReadOnlyList<RoleAssignment>> ListAsync(AssignmentFilter filter, int limit, CancellationToken cancellationToken) =>
        await Find(filter).OrderByDescending(a => a.GrantedAt).Take(limit).ToListAsync(cancellationToken);

    /// <summary>Every assignment of a person, ended ones too, the latest granted first.</summary>
    public async Task<IReadOnlyList<RoleAssignment>> OfUserAsync(string userId, CancellationToken cancellationToken) =>
        await Find(new AssignmentFilter(UserId: userId)).OrderByDescending(a => a.GrantedAt).ToListAsync(cancellationToken);

    public Task<int> CountActiveAsync(CancellationToken cancellationToken) =>
        db.RoleAssignments.CountAsync(RoleAssignment.ActiveAt(clock.GetUtcNow()), cancellationToken);

    private IQueryable<RoleAssignment> Loaded() =>
        db.RoleAssignments.AsNoTracking().Include(a => a.Role).ThenInclude(r => r!.Application).Include(a => a.Department);
}
