using IdentityHub.Core;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Changes;
using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Connectors;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Provisioning.Monitoring;

/// <summary>A failed delivery; <see cref="UserDisplayName"/> is null when the person is no longer in the directory.</summary>
public sealed record ConnectorError(DateTimeOffset At, string UserId, long Version, int? StatusCode, string? Error, string? UserDisplayName = null);

/// <summary>A connector's health for the console: healthy, failing (recent or pending failures; a stale-version drop is none) or paused.</summary>
public sealed record ConnectorStatus(
    Guid ConnectorId, string Health, bool Paused, double LagSeconds, DateTimeOffset? OldestPendingAt, int Pending, int Failed, int Dead,
    DateTimeOffset? LastDeliveredAt, IReadOnlyList<ConnectorError> LastErrors);

/// <summary>A row that ran out of retries; <see cref="UserDisplayName"/> is null when the person is no longer in the directory.</summary>
public sealed record DeadLetter(long Id, string UserId, string Change, DateTimeOffset CreatedAt, int Attempts, string? LastError, string? UserDisplayName = null);

/// <summary>
/// One attempt in a connector's history; <paramref name="Outcome"/> is one of <see cref="DeliveryOutcomes"/> (nothing sent is not a success);
/// <see cref="UserDisplayName"/> is null when the person is no longer in the directory.
/// </summary>
public sealed record DeliveryRecord(
    long Id, string UserId, long Version, DateTimeOffset At, bool Succeeded, int? StatusCode, string? Error, int DurationMilliseconds, string Outcome, string? UserDisplayName = null);

/// <summary>What one connector holds about one person: the state it last sent, the rows still queued or dead, the latest deliveries.</summary>
public sealed record ConnectorUserHistory(
    Guid ConnectorId, string ConnectorName, string ApplicationName, string? ExternalId, long Version, int Pending, int Dead, IReadOnlyList<DeliveryRecord> Deliveries);

public sealed record DeliveryBucket(DateTimeOffset Start, int Deliveries, int Failures);

/// <summary>What the console and the admin API do with a connector's queue: watch it, replay its dead letters (pausing is <see cref="Connectors.Connectors"/>').</summary>
public sealed class ConnectorOperations(IdentityHubDbContext db, OutboxSignal signal, AuditTrail audit, TimeProvider clock)
{
    public const string Healthy = "healthy";
    public const string Failing = "failing";
    public const string PausedHealth = "paused";

    /// <summary>Buckets a chart shows at most.</summary>
    public const int MaxBuckets = 120;

    /// <summary>The connector's health and queue; <paramref name="paused"/> is the connector's own flag.</summary>
    public async Task<ConnectorStatus> StatusAsync(Guid connectorId, bool paused, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var rows = db.Outbox.AsNoTracking().Where(o => o.ConnectorId == connectorId);
        var pending = await rows.CountAsync(o => o.Status == OutboxStatus.Pending, cancellationToken);
        var failed = await rows.CountAsync(o => o.Status == OutboxStatus.Pending && o.Attempts > 0, cancellationToken);
        var dead = await rows.CountAsync(o => o.Status == OutboxStatus.Dead, cancellationToken);
        // Ids grow with time, so the lowest pending id is the oldest row (and ordering by id works on every provider).
        var oldest = await rows.Where(o => o.Status == OutboxStatus.Pending).OrderBy(o => o.Id).Select(o => (DateTimeOffset?)o.CreatedAt).FirstOrDefaultAsync(cancellationToken);
        var attempts = db.DeliveryAttempts.AsNoTracking().Where(a => a.ConnectorId == connectorId);
        // Neither a delivery that had nothing to send nor a stale drop (the target holds a newer version) says the target is failing.
        var lastSucceeded = await attempts.Where(a => !a.NothingSent && (a.Succeeded || a.Error == null || !a.Error.StartsWith(DeliveryOutcome.Stale.HistoryPrefix)))
            .OrderByDescending(a => a.Id).Select(a => (bool?)a.Succeeded).FirstOrDefaultAsync(cancellationToken);
        var lastDelivered = await attempts.Where(a => a.Succeeded).OrderByDescending(a => a.Id).Select(a => (DateTimeOffset?)a.At).FirstOrDefaultAsync(cancellationToken);
        var errors = await (from a in attempts.Where(a => !a.Succeeded && !a.NothingSent).OrderByDescending(a => a.Id).Take(10)
                            join u in db.Users on a.UserId equals u.Id into people
                            from u in people.DefaultIfEmpty()
                            orderby a.Id descending
                            select new ConnectorError(a.At, a.UserId, a.Version, a.StatusCode, a.Error, u == null ? null : u.DisplayName))
            .ToListAsync(cancellationToken);
        var health = paused ? PausedHealth : failed > 0 || lastSucceeded == false ? Failing : Healthy;
        var lag = oldest is { } at && now > at ? (now - at).TotalSeconds : 0;
        return new ConnectorStatus(connectorId, health, paused, lag, oldest, pending, failed, dead, lastDelivered, errors);
    }

    public Task<List<DeadLetter>> DeadLettersAsync(Guid connectorId, int skip, int take, CancellationToken cancellationToken) =>
        (from o in db.Outbox.AsNoTracking().Where(o => o.ConnectorId == connectorId && o.Status == OutboxStatus.Dead).OrderBy(o => o.Id).Skip(skip).Take(take)
         join u in db.Users on o.UserId equals u.Id into people
         from u in people.DefaultIfEmpty()
         orderby o.Id
         select new DeadLetter(o.Id, o.UserId, o.Change, o.CreatedAt, o.Attempts, o.LastError, u == null ? null : u.DisplayName))
        .ToListAsync(cancellationToken);

    public Task<int> CountDeadLettersAsync(Guid connectorId, CancellationToken cancellationToken) =>
        db.Outbox.CountAsync(o => o.ConnectorId == connectorId && o.Status == OutboxStatus.Dead, cancellationToken);

    /// <summary>Puts dead rows back in the queue, due now with a fresh attempt count; <paramref name="rowId"/> null replays them all.</summary>
    public async Task<int> ReplayAsync(Guid connectorId, long? rowId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var replayed = await db.Outbox
            .Where(o => o.ConnectorId == connectorId && o.Status == OutboxStatus.Dead && (rowId == null || o.Id == rowId))
            .ExecuteUpdateAsync(s => s
                .SetProperty(o => o.Status, OutboxStatus.Pending)
                .SetProperty(o => o.Attempts, 0)
                .SetProperty(o => o.DueAt, now)
                .SetProperty(o => o.ClaimedBy, (string?)null)
                .SetProperty(o => o.ClaimedUntil, (DateTimeOffset?)null), cancellationToken);
        if (replayed > 0)
        {
            await audit.RecordAsync("connector.dead-letters-replayed", "connector", connectorId.ToString(), null, new { rowId, replayed }, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        if (replayed > 0)
        {
            signal.Notify();
        }

        return replayed;
    }

    public Task<List<DeliveryRecord>> HistoryAsync(Guid connectorId, string? userId, int take, CancellationToken cancellationToken) =>
        (from a in db.DeliveryAttempts.AsNoTracking().Where(a => a.ConnectorId == connectorId && (userId == null || a.UserId == userId))
             .OrderByDescending(a => a.Id).Take(take)
         join u in db.Users on a.UserId equals u.Id into people
         from u in people.DefaultIfEmpty()
         orderby a.Id descending
         select new DeliveryRecord(a.Id, a.UserId, a.Version, a.At, a.Succeeded, a.StatusCode, a.Error, a.DurationMilliseconds, DeliveryOutcomes.Of(a.Succeeded, a.NothingSent), u == null ? null : u.DisplayName))
        .ToListAsync(cancellationToken);

    /// <summary>
    /// One person's deliveries, per connector (those that sent, queued or hold anything about them), connectors by name:
    /// the state last sent, the rows pending and dead, the latest <paramref name="perConnector"/> attempts.
    /// </summary>
    public async Task<IReadOnlyList<ConnectorUserHistory>> UserHistoryAsync(string userId, int perConnector, CancellationToken cancellationToken)
    {
        var connectors = await db.Connectors.AsNoTracking().Select(c => new { c.Id, c.Name, Application = c.Application!.Name }).ToListAsync(cancellationToken);
        var states = await db.ConnectorUserStates.AsNoTracking().Where(s => s.UserId == userId).ToDictionaryAsync(s => s.ConnectorId, cancellationToken);
        var queued = await db.Outbox.AsNoTracking().Where(o => o.UserId == userId)
            .GroupBy(o => new { o.ConnectorId, o.Status }).Select(g => new { g.Key.ConnectorId, g.Key.Status, Count = g.Count() }).ToListAsync(cancellationToken);
        var result = new List<ConnectorUserHistory>();
        foreach (var connector in connectors.OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            var deliveries = await HistoryAsync(connector.Id, userId, perConnector, cancellationToken);
            var state = states.GetValueOrDefault(connector.Id);
            var pending = queued.Where(q => q.ConnectorId == connector.Id && q.Status == OutboxStatus.Pending).Sum(q => q.Count);
            var dead = queued.Where(q => q.ConnectorId == connector.Id && q.Status == OutboxStatus.Dead).Sum(q => q.Count);
            if (deliveries.Count > 0 || state is not null || pending + dead > 0)
            {
                result.Add(new ConnectorUserHistory(connector.Id, connector.Name, connector.Application, state?.ExternalId, state?.Version ?? 0, pending, dead, deliveries));
            }
        }

        return result;
    }

    /// <summary>Deliveries and failures per bucket over the last <see cref="MaxBuckets"/> buckets, oldest first (the console's chart).</summary>
    public async Task<List<DeliveryBucket>> StatsAsync(Guid connectorId, TimeSpan bucket, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var end = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % bucket.Ticks), TimeSpan.Zero) + bucket;
        var start = end - (bucket * MaxBuckets);
        var attempts = await db.DeliveryAttempts.AsNoTracking().Where(a => a.ConnectorId == connectorId && a.At >= start)
            .Select(a => new { a.At, a.Succeeded, a.NothingSent }).ToListAsync(cancellationToken);
        var counts = attempts.GroupBy(a => (a.At.UtcTicks - start.UtcTicks) / bucket.Ticks)
            .ToDictionary(g => g.Key, g => (Deliveries: g.Count(a => a.Succeeded), Failures: g.Count(a => !a.Succeeded && !a.NothingSent)));
        return [.. Enumerable.Range(0, MaxBuckets)
            .Select(i => (i, counts.GetValueOrDefault(i)))
            .SkipWhile(x => x.Item2 == default && x.i < MaxBuckets - 60)
            .Select(x => new DeliveryBucket(start + (bucket * x.i), x.Item2.Deliveries, x.Item2.Failures))];
    }
}
