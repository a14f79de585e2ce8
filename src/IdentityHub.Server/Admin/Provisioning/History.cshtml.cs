using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Provisioning.Monitoring;
using IdentityHub.Provisioning.Queries;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Admin.Provisioning;

public sealed record ConnectorHistory(Guid ConnectorId, string ConnectorName, string ApplicationName, string? ExternalId, long Version, int Pending, int Dead, IReadOnlyList<DeliveryRecord> Deliveries);

/// <summary>One user's deliveries, per connector: what was sent (version), when, and how it went.</summary>
public sealed class HistoryModel(IdentityHubDbContext db, ConnectorQueries queries, ConnectorOperations operations) : ConsolePageModel
{
    private const int PerConnector = 50;

    public string UserId { get; private set; } = "";

    public UserAccount? Account { get; private set; }

    public IReadOnlyList<ConnectorHistory> Connectors { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync([FromQuery] string? user, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(user))
        {
            return Page();
        }

        UserId = user;
        Account = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == user, cancellationToken);
        var connectors = (await queries.AllAsync(cancellationToken)).OrderBy(c => c.Name, StringComparer.Ordinal);
        var states = await db.ConnectorUserStates.AsNoTracking().Where(s => s.UserId == user).ToDictionaryAsync(s => s.ConnectorId, cancellationToken);
        var queued = await db.Outbox.AsNoTracking().Where(o => o.UserId == user)
            .GroupBy(o => new { o.ConnectorId, o.Status }).Select(g => new { g.Key.ConnectorId, g.Key.Status, Count = g.Count() }).ToListAsync(cancellationToken);
        var result = new List<ConnectorHistory>();
        foreach (var connector in connectors)
        {
            var deliveries = await operations.HistoryAsync(connector.Id, user, PerConnector, cancellationToken);
            var state = states.GetValueOrDefault(connector.Id);
            var pending = queued.Where(q => q.ConnectorId == connector.Id && q.Status == Data.Provisioning.OutboxStatus.Pending).Sum(q => q.Count);
            var dead = queued.Where(q => q.ConnectorId == connector.Id && q.Status == Data.Provisioning.OutboxStatus.Dead).Sum(q => q.Count);
            if (deliveries.Count > 0 || state is not null || pending + dead > 0)
            {
                result.Add(new ConnectorHistory(connector.Id, connector.Name, connector.ApplicationName, state?.ExternalId, state?.Version ?? 0, pending, dead, deliveries));
            }
        }

        Connectors = result;
        return Page();
    }
}
