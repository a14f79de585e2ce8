using IdentityHub.Core.Access;
using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Changes;

/// <summary>
/// The outbox writes: for every change that alters what a downstream system should know of a user, one row per
/// affected (connector, user), added to the change's own transaction (saved by its SaveChanges). A connector hears
/// only of users in its scope (<see cref="IConnectorAudience"/>), so no receiver is sent the profile of someone without
/// access to its application. Nothing is sent from here; the dispatcher reads the rows after commit.
/// </summary>
public sealed class EntitlementChanges(IdentityHubDbContext db, IConnectorAudience audience, TimeProvider clock)
{
    /// <summary>
    /// How much later than a manager's own row their reports' rows fall due: a report's SCIM manager reference is the
    /// manager's id downstream, so the manager's own delivery should land first.
    /// </summary>
    public static readonly TimeSpan ReportsDelay = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The users' own data changed (profile, status, department). A connector hears of it when the user is in its
    /// scope (<see cref="IConnectorAudience"/>): roughly, they hold access in its application, or it was delivered the
    /// user before (it must learn of the change, or of the departure), or it provisions every user.
    /// </summary>
    public async Task UsersChangedAsync(IReadOnlyCollection<string> userIds, string change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        if (userIds.Count == 0)
        {
            return;
        }

        Queue(await audience.InScopeAsync(userIds, applicationIds: null, cancellationToken), change, dueAt: null);
    }

    /// <summary>
    /// The users' rights in these applications changed: their connectors hear of it, at <paramref name="dueAt"/> when
    /// the change takes effect later. Everyone named had or has access there, so no scope check applies.
    /// </summary>
    public async Task AccessChangedAsync(
        IReadOnlyCollection<string> userIds, IReadOnlyCollection<Guid> applicationIds, string change, CancellationToken cancellationToken, DateTimeOffset? dueAt = null)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        ArgumentNullException.ThrowIfNull(applicationIds);
        if (userIds.Count == 0 || applicationIds.Count == 0)
        {
            return;
        }

        var connectors = await db.Connectors.AsNoTracking().Where(c => applicationIds.Contains(c.ApplicationId)).Select(c => c.Id).ToListAsync(cancellationToken);
        Queue([.. connectors.SelectMany(c => userIds.Select(u => new ConnectorUser(c, u)))], change, dueAt);
    }

    /// <summary>
    /// An assignment of the user was granted, ended or expired: the user may have just appeared at these applications'
    /// connectors or left them, so their direct reports (whose manager reference points there) are queued too.
    /// </summary>
    public async Task AssignmentChangedAsync(
        string userId, IReadOnlyCollection<Guid> applicationIds, string change, CancellationToken cancellationToken, DateTimeOffset? dueAt = null)
    {
        await AccessChangedAsync([userId], applicationIds, change, cancellationToken, dueAt);
        await ReportsChangedAsync([userId], applicationIds, cancellationToken, dueAt);
    }

    /// <summary>
    /// Something the managers' reports carry changed (the manager's employee number, or the manager's presence
    /// downstream): each direct report in scope of the connectors (of <paramref name="applicationIds"/>, or all) is
    /// queued, <see cref="ReportsDelay"/> after <paramref name="after"/> (default now).
    /// </summary>
    public async Task ReportsChangedAsync(
        IReadOnlyCollection<string> managerIds, IReadOnlyCollection<Guid>? applicationIds, CancellationToken cancellationToken, DateTimeOffset? after = null)
    {
        ArgumentNullException.ThrowIfNull(managerIds);
        var reports = await db.Users.AsNoTracking().Where(u => u.ManagerId != null && managerIds.Contains(u.ManagerId)).Select(u => u.Id).ToListAsync(cancellationToken);
        if (reports.Count == 0)
        {
            return;
        }

        Queue(await audience.InScopeAsync(reports, applicationIds, cancellationToken), "manager.changed", (after ?? clock.GetUtcNow()) + ReportsDelay);
    }

    /// <summary>
    /// Departments were renamed, recoded or moved: users whose own department is among <paramref name="memberOf"/>
    /// carry its code and name; rights scoped to one of <paramref name="scopes"/> carry the scope's code and its path
    /// of names, so their holders' rights changed in the applications of those rights.
    /// </summary>
    public async Task DepartmentsChangedAsync(IReadOnlyCollection<Guid> memberOf, IReadOnlyCollection<Guid> scopes, string change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(memberOf);
        ArgumentNullException.ThrowIfNull(scopes);
        var members = await db.Users.AsNoTracking().Where(u => u.DepartmentId != null && memberOf.Contains(u.DepartmentId.Value)).Select(u => u.Id).ToListAsync(cancellationToken);
        await UsersChangedAsync(members, change, cancellationToken);

        var scoped = await db.RoleAssignments.AsNoTracking()
            .Where(a => a.EndedAt == null && a.DepartmentId != null && scopes.Contains(a.DepartmentId.Value))
            .Select(a => new { a.UserId, a.RoleId, a.Role!.ApplicationId })
            .ToListAsync(cancellationToken);
        foreach (var role in scoped.GroupBy(a => (a.RoleId, a.ApplicationId)))
        {
            var applications = await RoleApplications.OfRoleAsync(db, role.Key.RoleId, role.Key.ApplicationId, cancellationToken);
            await AccessChangedAsync([.. role.Select(a => a.UserId).Distinct(StringComparer.Ordinal)], applications, change, cancellationToken);
        }
    }

    private void Queue(IReadOnlyCollection<ConnectorUser> pairs, string change, DateTimeOffset? dueAt)
    {
        var now = Revision.Now(clock);
        // One change may reach a user along two paths (a member who also holds a right scoped there): one row is enough.
        var queued = db.ChangeTracker.Entries<OutboxEntry>().Where(e => e.State == EntityState.Added && e.Entity.Change == change)
            .Select(e => (e.Entity.ConnectorId, e.Entity.UserId)).ToHashSet();
        foreach (var (connectorId, userId) in pairs)
        {
            if (!queued.Add((connectorId, userId)))
            {
                continue;
            }

            db.Outbox.Add(new OutboxEntry
            {
                ConnectorId = connectorId,
                UserId = userId,
                Change = change,
                CreatedAt = now,
                DueAt = dueAt is { } later && later > now ? later : now,
                Status = OutboxStatus.Pending,
            });
        }
    }
}
