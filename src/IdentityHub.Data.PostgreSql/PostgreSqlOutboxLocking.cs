using System.Data;
using IdentityHub.Data.Provisioning;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Data.PostgreSql;

/// <summary>Claims on PostgreSQL: the pair's ConnectorUserStates row, locked with <c>FOR UPDATE SKIP LOCKED</c>.</summary>
public sealed class PostgreSqlOutboxLocking : IOutboxLocking
{
    public async Task EnsureLockRowsAsync(IdentityHubDbContext db, IReadOnlyList<(Guid ConnectorId, string UserId)> pairs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(pairs);
        var connectors = pairs.Select(p => p.ConnectorId).ToArray();
        var users = pairs.Select(p => p.UserId).ToArray();
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO "ConnectorUserStates" ("ConnectorId", "UserId", "Version")
            SELECT c, u, 0 FROM unnest({connectors}, {users}) AS p(c, u)
            ON CONFLICT DO NOTHING
            """, cancellationToken);
    }

    public async Task<IReadOnlyList<(Guid ConnectorId, string UserId)>> LockPairsAsync(
        IdentityHubDbContext db, IReadOnlyList<(Guid ConnectorId, string UserId)> pairs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(pairs);
        var connectors = pairs.Select(p => p.ConnectorId).ToArray();
        var users = pairs.Select(p => p.UserId).ToArray();
        // A pair locked by another dispatcher's claim transaction is skipped, not waited for.
        var locked = await db.ConnectorUserStates.FromSql($"""
            SELECT s.* FROM "ConnectorUserStates" s
            JOIN unnest({connectors}, {users}) AS p(c, u) ON s."ConnectorId" = p.c AND s."UserId" = p.u
            FOR UPDATE OF s SKIP LOCKED
            """).AsNoTracking().ToListAsync(cancellationToken);
        return [.. locked.Select(s => (s.ConnectorId, s.UserId))];
    }

    /// <summary>REPEATABLE READ: the snapshot is taken at the transaction's first statement. Reads only, so it never fails to serialize.</summary>
    public async Task<IAsyncDisposable> BeginSnapshotAsync(IdentityHubDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        return await db.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
    }
}
