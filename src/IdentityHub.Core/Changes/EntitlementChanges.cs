using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Changes;

/// <summary>
/// The outbox writes: for every change that alters what a downstream system should know of a user, one
/// row per affected (connector, user), added to the change's own transaction (saved by its SaveChanges).
/// Nothing is sent from here; the dispatcher reads the rows after commit.
/// </summary>
public sealed class EntitlementChanges(IdentityHubDbContext db, TimeProvider clock)
{
    /// <summary>The users' own data changed (profile, status, department): every connector hears of it.</summary>
    public Task UsersChangedAsync(IReadOnlyCollection<string> userIds, string change, CancellationToken cancellationToken) =>
        QueueAsync(userIds, db.Connectors, change, dueAt: null, cancellationToken);

    /// <summary>
    /// The users' rights in these applications changed (see <see cref="Access.RoleApplications"/>). Connectors of
    /// those applications hear of it, at <paramref name="dueAt"/> when the change takes effect later.
    /// </summary>
    public Task AccessChangedAsync(
        IReadOnlyCollection<string> userIds, IReadOnlyCollection<Guid> applicationIds, string change, CancellationToken cancellationToken, DateTimeOffset? dueAt = null) =>
        QueueAsync(userIds, db.Connectors.Where(c => applicationIds.Contains(c.ApplicationId)), change, dueAt, cancellationToken);

    private async Task QueueAsync(IReadOnlyCollection<string> userIds, IQueryable<Connector> connectors, string change, DateTimeOffset? dueAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        if (userIds.Count == 0)
        {
            return;
        }

        var connectorIds = await connectors.Select(c => c.Id).ToListAsync(cancellationToken);
        var now = Revision.Now(clock);
        foreach (var connectorId in connectorIds)
        {
            foreach (var userId in userIds.Distinct(StringComparer.Ordinal))
            {
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
}
