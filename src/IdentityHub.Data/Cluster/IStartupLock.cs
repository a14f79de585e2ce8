namespace IdentityHub.Data.Cluster;

/// <summary>
/// The database-wide lock under which one node at a time does the start-up database work (migrations, first keys,
/// first administrator, bootstrap client), so nodes started together on an empty or outdated database neither race nor
/// quit. What differs per provider (PostgreSQL advisory lock, SQL Server <c>sp_getapplock</c>, SQLite file lock) lives
/// in that provider's project, registered with the provider.
/// </summary>
public interface IStartupLock
{
    /// <summary>
    /// Creates the database when it does not exist yet, so the lock can live in it; another node creating it at the same
    /// moment counts as success. Returns true when this call created it.
    /// </summary>
    Task<bool> CreateDatabaseAsync(IdentityHubDbContext db, CancellationToken cancellationToken);

    /// <summary>
    /// Tries once, without waiting, to take the lock on its own connection (or file): the held lock, released when disposed,
    /// or null when another node holds it.
    /// </summary>
    Task<IAsyncDisposable?> TryAcquireAsync(IdentityHubDbContext db, CancellationToken cancellationToken);

    /// <summary>Which lock this is and where an operator sees who holds it, for the message when the wait gives up.</summary>
    string Describe(IdentityHubDbContext db);
}
