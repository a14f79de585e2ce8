using IdentityHub.Data.Provisioning;

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
}
