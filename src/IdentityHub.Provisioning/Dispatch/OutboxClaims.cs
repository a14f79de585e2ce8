using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Provisioning.Dispatch;

/// <summary>The due rows of one (connector, user), claimed together so they go out as one delivery (coalescing).</summary>
public sealed record ClaimedPair(Guid ConnectorId, string UserId, IReadOnlyList<long> RowIds, IReadOnlyList<string> Changes, string ClaimToken);

/// <summary>
/// Claims due rows for this dispatcher. Per (connector, user) there is never more than one live claim, so deliveries
/// of one user stay in order and never overlap, while several nodes share the work: the database provider's
/// <see cref="IOutboxLocking"/> locks the pairs it can take (PostgreSQL <c>FOR UPDATE SKIP LOCKED</c>, SQL Server
/// <c>UPDLOCK, READPAST, ROWLOCK</c>, SQLite's single writer). Inside the lock, rows of a pair are claimed only when no
/// row of that pair holds a live claim. Each connector is asked for its own share (oldest pairs first), so one
/// connector's backlog never hides another's change.
/// </summary>
public sealed class OutboxClaims(IdentityHubDbContext db, IOutboxLocking locking, TimeProvider clock)
{
    /// <summary>
    /// Claims up to <paramref name="room"/>(connector) pairs of every connector with due rows (<paramref name="defaultRoom"/>
    /// for connectors not named); a connector with no room is not asked. Returns the pairs, oldest first per connector.
    /// </summary>
    public async Task<IReadOnlyList<ClaimedPair>> ClaimAsync(
        string node, IReadOnlyDictionary<Guid, int> room, int defaultRoom, TimeSpan claimTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(room);
        var now = clock.GetUtcNow();
        var candidates = await CandidatePairsAsync(now, room, defaultRoom, cancellationToken);
        if (candidates.Count == 0)
        {
            return [];
        }

        var token = $"{node}/{Guid.NewGuid():N}";
        var until = now + claimTimeout;
        await locking.EnsureLockRowsAsync(db, candidates, cancellationToken);
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            var locked = await locking.LockPairsAsync(db, candidates, cancellationToken);
            foreach (var group in locked.GroupBy(p => p.ConnectorId))
            {
                var connectorId = group.Key;
                var users = group.Select(p => p.UserId).ToList();
                await db.Outbox
                    .Where(o => o.ConnectorId == connectorId && users.Contains(o.UserId)
                        && o.Status == OutboxStatus.Pending && o.DueAt <= now
                        && (o.ClaimedUntil == null || o.ClaimedUntil <= now)
                        && !db.Outbox.Any(x => x.ConnectorId == o.ConnectorId && x.UserId == o.UserId && x.ClaimedUntil > now)
                        && db.Connectors.Any(c => c.Id == o.ConnectorId && !c.Paused))
                    .ExecuteUpdateAsync(s => s.SetProperty(o => o.ClaimedBy, token).SetProperty(o => o.ClaimedUntil, until), cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        var rows = await db.Outbox.AsNoTracking().Where(o => o.ClaimedBy == token)
            .Select(o => new { o.Id, o.ConnectorId, o.UserId, o.Change })
            .ToListAsync(cancellationToken);
        return [.. rows
            .GroupBy(r => (r.ConnectorId, r.UserId))
            .Select(g => new ClaimedPair(g.Key.ConnectorId, g.Key.UserId, [.. g.Select(r => r.Id).Order()], [.. g.Select(r => r.Change).Distinct(StringComparer.Ordinal)], token))
            .OrderBy(p => p.RowIds[0])];
    }

    /// <summary>
    /// Extends a claim to now + <paramref name="claimTimeout"/> if it still holds (not lapsed, not taken by another node);
    /// returns the new end, or null when the claim is lost. Run inside the transaction that fixes the version, so a
    /// version is only ever assigned under a live claim. A renewal that races another node's claim at the very instant
    /// the claim lapses may deadlock with it on PostgreSQL or SQL Server; the database then aborts one, and either way
    /// only one of them delivers.
    /// </summary>
    public async Task<DateTimeOffset?> RenewAsync(ClaimedPair pair, TimeSpan claimTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pair);
        var now = clock.GetUtcNow();
        var until = now + claimTimeout;
        var renewed = await db.Outbox
            .Where(o => o.ClaimedBy == pair.ClaimToken && o.ConnectorId == pair.ConnectorId && o.UserId == pair.UserId && o.ClaimedUntil > now)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.ClaimedUntil, until), cancellationToken);
        return renewed > 0 ? until : null;
    }

    /// <summary>
    /// <see cref="RenewAsync(ClaimedPair, TimeSpan, CancellationToken)"/> for a batch of one connector's pairs in two
    /// statements: returns the pairs whose claim still held and now ends at the returned time. Run inside the transaction
    /// that fixes their versions; a row of this claim still live after the update was renewed by it (no other claim
    /// writes this claim's token).
    /// </summary>
    public async Task<(IReadOnlyList<ClaimedPair> Renewed, DateTimeOffset Until)> RenewAsync(
        IReadOnlyList<ClaimedPair> pairs, TimeSpan claimTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var now = clock.GetUtcNow();
        var until = now + claimTimeout;
        var connectorId = pairs[0].ConnectorId;
        var tokens = pairs.Select(p => p.ClaimToken).Distinct().ToList();
        var users = pairs.Select(p => p.UserId).Distinct().ToList();
        await db.Outbox
            .Where(o => o.ConnectorId == connectorId && tokens.Contains(o.ClaimedBy!) && users.Contains(o.UserId) && o.ClaimedUntil > now)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.ClaimedUntil, until), cancellationToken);
        var held = await db.Outbox.AsNoTracking()
            .Where(o => o.ConnectorId == connectorId && tokens.Contains(o.ClaimedBy!) && users.Contains(o.UserId) && o.ClaimedUntil > now)
            .Select(o => new { o.ClaimedBy, o.UserId })
            .Distinct()
            .ToListAsync(cancellationToken);
        var live = held.Select(h => (h.ClaimedBy, h.UserId)).ToHashSet();
        return ([.. pairs.Where(p => p.ConnectorId == connectorId && live.Contains((p.ClaimToken, p.UserId)))], until);
    }

    /// <summary>Gives rows back without counting an attempt (the connector was paused, or the dispatcher stops).</summary>
    public Task ReleaseAsync(ClaimedPair pair, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pair);
        return db.Outbox.Where(o => o.ClaimedBy == pair.ClaimToken && o.ConnectorId == pair.ConnectorId && o.UserId == pair.UserId)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.ClaimedBy, (string?)null).SetProperty(o => o.ClaimedUntil, (DateTimeOffset?)null), cancellationToken);
    }

    /// <summary>Connectors (not paused) with due, unclaimed rows; then each one's oldest pairs without a live claim, up to its room.</summary>
    private async Task<List<(Guid ConnectorId, string UserId)>> CandidatePairsAsync(
        DateTimeOffset now, IReadOnlyDictionary<Guid, int> room, int defaultRoom, CancellationToken cancellationToken)
    {
        var full = room.Where(r => r.Value <= 0).Select(r => r.Key).ToList();
        var due = db.Outbox.AsNoTracking()
            .Where(o => o.Status == OutboxStatus.Pending && o.DueAt <= now && (o.ClaimedUntil == null || o.ClaimedUntil <= now))
            .Where(o => db.Connectors.Any(c => c.Id == o.ConnectorId && !c.Paused));
        var connectors = await due.Where(o => !full.Contains(o.ConnectorId)).Select(o => o.ConnectorId).Distinct().ToListAsync(cancellationToken);
        var result = new List<(Guid, string)>();
        foreach (var connectorId in connectors)
        {
            var take = room.TryGetValue(connectorId, out var left) ? left : defaultRoom;
            var pairs = await due
                .Where(o => o.ConnectorId == connectorId)
                .Where(o => !db.Outbox.Any(x => x.ConnectorId == o.ConnectorId && x.UserId == o.UserId && x.ClaimedUntil > now))
                .GroupBy(o => o.UserId)
                .Select(g => new { UserId = g.Key, First = g.Min(o => o.Id) })
                .OrderBy(g => g.First)
                .Take(take)
                .ToListAsync(cancellationToken);
            result.AddRange(pairs.Select(p => (connectorId, p.UserId)));
        }

        return result;
    }
}
