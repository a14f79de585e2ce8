using IdentityHub.Data.Provisioning;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Data.Sqlite;

/// <summary>
/// Claims on SQLite: the database lets one writer in at a time, so the claim's write transaction is itself the lock;
/// no lock rows are needed and every candidate pair is the claimer's.
/// </summary>
public sealed class SqliteOutboxLocking : IOutboxLocking
{
    public Task EnsureLockRowsAsync(IdentityHubDbContext db, IReadOnlyList<(Guid ConnectorId, string UserId)> pairs, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    public Task<IReadOnlyList<(Guid ConnectorId, string UserId)>> LockPairsAsync(
        IdentityHubDbContext db, IReadOnlyList<(Guid ConnectorId, string UserId)> pairs, CancellationToken cancellationToken) =>
        Task.FromResult(pairs);

    /// <summary>
    /// A deferred transaction (<c>BEGIN</c>, not <c>BEGIN IMMEDIATE</c>): it takes no write lock, and in WAL mode its first
    /// read fixes the snapshot the later reads see.
    /// </summary>
    public async Task<IAsyncDisposable> BeginSnapshotAsync(IdentityHubDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        await db.Database.OpenConnectionAsync(cancellationToken);
        var transaction = ((SqliteConnection)db.Database.GetDbConnection()).BeginTransaction(deferred: true);
        await db.Database.UseTransactionAsync(transaction, cancellationToken);
        return new ReadSnapshot(db, transaction);
    }

    private sealed class ReadSnapshot(IdentityHubDbContext db, SqliteTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await db.Database.UseTransactionAsync(null);
            await transaction.DisposeAsync();
            await db.Database.CloseConnectionAsync();
        }
    }
}
