using IdentityHub.Data.Cluster;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace IdentityHub.Data.PostgreSql;

/// <summary>
/// The start-up lock on PostgreSQL: a session advisory lock, held by a connection of its own (not pooled, so closing it
/// always ends the session and with it the lock, even when a node dies mid-way). Advisory locks are per database.
/// </summary>
public sealed class PostgreSqlStartupLock : IStartupLock
{
    /// <summary>Any fixed 64-bit number names an advisory lock; this one reads "IdHubUp!" in ASCII.</summary>
    public const long LockKey = 0x4964_4875_6255_7021;

    public async Task<bool> CreateDatabaseAsync(IdentityHubDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var target = new NpgsqlConnectionStringBuilder(db.Database.GetConnectionString());
        var name = target.Database is { Length: > 0 } database
            ? database
            : throw new InvalidOperationException("The PostgreSQL connection string names no database (Database=...).");
        // Plain ADO.NET rather than EF's database creator: a lost race is expected here and must not be logged as an error.
        var maintenance = new NpgsqlConnectionStringBuilder(target.ConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(maintenance.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
            return true;
        }
        // CREATE DATABASE checks the name first (42P04), but two at once may both pass the check and the loser then
        // trips pg_database's unique index (23505): either way another node created it.
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
        {
            return false;
        }
    }

    public async Task<IAsyncDisposable?> TryAcquireAsync(IdentityHubDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var connectionString = new NpgsqlConnectionStringBuilder(db.Database.GetConnectionString()) { Pooling = false }.ConnectionString;
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
            command.Parameters.AddWithValue("key", LockKey);
            if (await command.ExecuteScalarAsync(cancellationToken) is true)
            {
                return new HeldLock(connection);
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        await connection.DisposeAsync();
        return null;
    }

    public string Describe(IdentityHubDbContext db)
    {
        ArgumentNullException.ThrowIfNull(db);
        var database = new NpgsqlConnectionStringBuilder(db.Database.GetConnectionString()).Database;
        return $"PostgreSQL advisory lock {LockKey} in database '{database}'; its holder is in pg_locks (locktype 'advisory', objid {LockKey & 0xFFFF_FFFF}) joined with pg_stat_activity";
    }

    private sealed class HeldLock(NpgsqlConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
                command.Parameters.AddWithValue("key", LockKey);
                await command.ExecuteScalarAsync();
            }
            finally
            {
                // Closing the unpooled connection ends the session, which releases the lock even if the unlock failed.
                await connection.DisposeAsync();
            }
        }
    }
}
