using System.Text.Json;
using IdentityHub.Data.Provisioning;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Data.SqlServer;

/// <summary>Claims on SQL Server: the pair's ConnectorUserStates row, locked with <c>UPDLOCK, READPAST, ROWLOCK</c>. Compiled, not run here.</summary>
public sealed class SqlServerOutboxLocking : IOutboxLocking
{
    public async Task EnsureLockRowsAsync(IdentityHubDbContext db, IReadOnlyList<(Guid ConnectorId, string UserId)> pairs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(pairs);
        foreach (var (connectorId, userId) in pairs)
        {
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO [ConnectorUserStates] ([ConnectorId], [UserId], [Version])
                SELECT {connectorId}, {userId}, 0
                WHERE NOT EXISTS (SELECT 1 FROM [ConnectorUserStates] WITH (UPDLOCK, HOLDLOCK) WHERE [ConnectorId] = {connectorId} AND [UserId] = {userId})
                """, cancellationToken);
        }
    }

    public async Task<IReadOnlyList<(Guid ConnectorId, string UserId)>> LockPairsAsync(
        IdentityHubDbContext db, IReadOnlyList<(Guid ConnectorId, string UserId)> pairs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(pairs);
        var result = new List<(Guid, string)>();
        foreach (var group in pairs.GroupBy(p => p.ConnectorId))
        {
            var connectorId = group.Key;
            var users = JsonSerializer.Serialize(group.Select(p => p.UserId));
            // READPAST skips pairs another dispatcher holds; UPDLOCK keeps ours until commit.
            var locked = await db.ConnectorUserStates.FromSql($"""
                SELECT * FROM [ConnectorUserStates] WITH (UPDLOCK, READPAST, ROWLOCK)
                WHERE [ConnectorId] = {connectorId} AND [UserId] IN (SELECT [value] FROM OPENJSON({users}))
                """).AsNoTracking().ToListAsync(cancellationToken);
            result.AddRange(locked.Select(s => (s.ConnectorId, s.UserId)));
        }

        return result;
    }

    /// <summary>
    /// None: SQL Server's SNAPSHOT isolation needs ALLOW_SNAPSHOT_ISOLATION on the database, which IdentityHub does not
    /// require. Without it a change committed between a delivery's two reads may reach the target twice under one version
    /// (harmless to a receiver that drops versions it has seen).
    /// </summary>
    public Task<IAsyncDisposable> BeginSnapshotAsync(IdentityHubDbContext db, CancellationToken cancellationToken) =>
        Task.FromResult<IAsyncDisposable>(NoSnapshot.Instance);

    private sealed class NoSnapshot : IAsyncDisposable
    {
        public static readonly NoSnapshot Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
