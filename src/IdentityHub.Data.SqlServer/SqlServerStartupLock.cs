using System.Data;
using IdentityHub.Data.Cluster;
using Microsoft.Data.SqlClient;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Data.SqlServer;

/// <summary>
/// The start-up lock on SQL Server: an exclusive application lock (<c>sp_getapplock</c>, owned by the session) held by a
/// connection of its own, not pooled, so closing it always ends the session and the lock. Compiled, not tested live.
/// </summary>
public sealed class SqlServerStartupLock : IStartupLock
{
    public const string Resource = "IdentityHub.Startup";

    // Error 1801: database already exists (another node created it first).
    private const int DatabaseAlreadyExists = 1801;

    public async Task<bool> CreateDatabaseAsync(IdentityHubDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var target = new SqlConnectionStringBuilder(db.Database.GetConnectionString());
        var name = target.InitialCatalog is { Length: > 0 } database
            ? database
            : throw new InvalidOperationException("The SQL Server connection string names no database (Database=...).");
        // Plain ADO.NET rather than EF's database creator: a lost race is expected here and must not be logged as an error.
        var maintenance = new SqlConnectionStringBuilder(target.ConnectionString) { InitialCatalog = "master", Pooling = false };
        await using var connection = new SqlConnection(maintenance.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new SqlCommand($"CREATE DATABASE [{name.Replace("]", "]]", StringComparison.Ordinal)}]", connection);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
            return true;
        }
        catch (SqlException ex) when (ex.Number == DatabaseAlreadyExists)
        {
            return false;
        }
    }

    public async Task<IAsyncDisposable?> TryAcquireAsync(IdentityHubDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var connectionString = new SqlConnectionStringBuilder(db.Database.GetConnectionString()) { Pooling = false }.ConnectionString;
        var connection = new SqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new SqlCommand("sp_getapplock", connection) { CommandType = CommandType.StoredProcedure };
            command.Parameters.AddWithValue("@Resource", Resource);
            command.Parameters.AddWithValue("@LockMode", "Exclusive");
            command.Parameters.AddWithValue("@LockOwner", "Session");
            // No wait here: the caller retries until its own deadline, so the wait is logged and bounded in one place.
            command.Parameters.AddWithValue("@LockTimeout", 0);
            var result = command.Parameters.Add("@Result", SqlDbType.Int);
            result.Direction = ParameterDirection.ReturnValue;
            await command.ExecuteNonQueryAsync(cancellationToken);
            // 0 granted, 1 granted after waiting; -1 timed out (another node holds it); below that an error.
            switch ((int)result.Value)
            {
                case >= 0:
                    return new HeldLock(connection);
                case -1:
                    await connection.DisposeAsync();
                    return null;
                case var code:
                    throw new InvalidOperationException($"sp_getapplock for '{Resource}' answered {code} (-2 cancelled, -3 deadlock victim, -999 invalid call).");
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public string Describe(IdentityHubDbContext db)
    {
        ArgumentNullException.ThrowIfNull(db);
        var database = new SqlConnectionStringBuilder(db.Database.GetConnectionString()).InitialCatalog;
        return $"SQL Server application lock '{Resource}' in database '{database}'; its holder is in sys.dm_tran_locks (resource_type 'APPLICATION')";
    }

    private sealed class HeldLock(SqlConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var command = new SqlCommand("sp_releaselock", connection) { CommandType = CommandType.StoredProcedure };
                command.Parameters.AddWithValue("@Resource", Resource);
                command.Parameters.AddWithValue("@LockOwner", "Session");
                await command.ExecuteNonQueryAsync();
            }
            finally
            {
                // Closing the unpooled connection ends the session, which releases the lock even if the release failed.
                await connection.DisposeAsync();
            }
        }
    }
}
