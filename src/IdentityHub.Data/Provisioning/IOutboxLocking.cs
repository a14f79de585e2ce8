namespace IdentityHub.Data.Provisioning;

/// <summary>
/// How a database lets several dispatchers claim (connector, user) pairs without waiting on each other: what differs
/// per provider (PostgreSQL <c>FOR UPDATE SKIP LOCKED</c>, SQL Server <c>UPDLOCK, READPAST</c>, SQLite's single writer)
/// lives in that provider's project, registered with the provider.
/// </summary>
public interface IOutboxLocking
{
    /// <summary>
    /// Makes sure every pair's lock row (its <see cref="ConnectorUserState"/>) exists, before the claim transaction starts;
    /// a concurrent dispatcher may create the same ones.
    /// </summary>
    Task EnsureLockRowsAsync(IdentityHubDbContext db, IReadOnlyList<(Guid ConnectorId, string UserId)> pairs, CancellationToken cancellationToken);

    /// <summary>
    /// Inside the claim transaction: locks the pairs no other claim transaction holds, until commit, and returns them;
    /// a pair another dispatcher holds is skipped, not waited for.
    /// </summary>
    Task<IReadOnlyList<(Guid ConnectorId, string UserId)>> LockPairsAsync(
        IdentityHubDbContext db, IReadOnlyList<(Guid ConnectorId, string UserId)> pairs, CancellationToken cancellationToken);

    /// <summary>
    /// Starts a read-only transaction on <paramref name="db"/> whose reads all see one snapshot, taken at its first read;
    /// disposing it ends the transaction. A delivery reads its pending rows and then the user's state in it, so a change
    /// committed between those two reads is in neither: its row stays for the next delivery, which sends it under a new
    /// version, instead of this delivery sending it early and the next sending the same state again.
    /// </summary>
    Task<IAsyncDisposable> BeginSnapshotAsync(IdentityHubDbContext db, CancellationToken cancellationToken);
}
