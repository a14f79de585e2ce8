using IdentityHub.Core.Changes;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Data.Provisioning;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Provisioning.Connectors;

/// <summary>
/// The one rule for "which users a connector hears of", used by the outbox writes (through Core's
/// <see cref="IConnectorAudience"/>), by full syncs (initial and on demand) and by drift checks: users who hold access
/// in the connector's application now (an assignment active now whose role grants there, see
/// <see cref="RoleAssignment.ActiveAt"/> and <see cref="RoleAssignment.GrantsIn"/>), or every user when the connector's
/// kind says it provisions everyone; and users the connector was delivered and whose receiver still knows them, so it
/// learns of their changes and their departure. A user outside it never has their profile sent there.
/// </summary>
public sealed class ConnectorAudience(IdentityHubDbContext db, ConnectorKinds kinds, TimeProvider clock) : IConnectorAudience
{
    // The events after which the receiver no longer knows the user, as SentState prefixes ("{event}:{fingerprint}").
    private const string ForgottenEvent = ConnectorUserState.DeletedEvent + ":";
    private const string NoneEvent = ConnectorUserState.NoneEvent + ":";

    /// <summary>The ids of the users <paramref name="connector"/> hears of, as a query (its kind and settings decide "everyone").</summary>
    public IQueryable<string> Of(Connector connector)
    {
        ArgumentNullException.ThrowIfNull(connector);
        var now = clock.GetUtcNow();
        var applicationId = connector.ApplicationId;
        var connectorId = connector.Id;
        var entitled = kinds.Find(connector.Kind)?.ProvisionsEveryone(connector.Settings) == true
            ? db.Users.AsNoTracking().Select(u => u.Id)
            : db.RoleAssignments.AsNoTracking().Where(RoleAssignment.ActiveAt(now)).Where(RoleAssignment.GrantsIn(applicationId)).Select(a => a.UserId);
        // A receiver last told the user left (user.deleted) or never told of them (none) does not know them any more.
        var known = db.ConnectorUserStates.AsNoTracking()
            .Where(s => s.ConnectorId == connectorId && s.LastDeliveredAt != null
                && !(s.SentState != null && (s.SentState.StartsWith(ForgottenEvent) || s.SentState.StartsWith(NoneEvent))))
            .Select(s => s.UserId);
        return entitled.Union(known);
    }

    public async Task<IReadOnlyList<ConnectorUser>> InScopeAsync(
        IReadOnlyCollection<string> userIds, IReadOnlyCollection<Guid>? applicationIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        if (userIds.Count == 0)
        {
            return [];
        }

        var query = db.Connectors.AsNoTracking();
        if (applicationIds is not null)
        {
            query = query.Where(c => applicationIds.Contains(c.ApplicationId));
        }

        var connectors = await query.ToListAsync(cancellationToken);
        var ids = userIds.Distinct(StringComparer.Ordinal).ToList();
        var inScope = new HashSet<ConnectorUser>();
        foreach (var connector in connectors)
        {
            var members = await Of(connector).Where(u => ids.Contains(u)).ToListAsync(cancellationToken);
            inScope.UnionWith(members.Select(u => new ConnectorUser(connector.Id, u)));
        }

        // User by user, in the caller's order, so rows are queued as the change named the users.
        return [.. ids.SelectMany(u => connectors.Select(c => new ConnectorUser(c.Id, u))).Where(inScope.Contains)];
    }
}
