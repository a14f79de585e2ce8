using IdentityHub.Data.Audit;
using System.Data.Common;
using IdentityHub.Data.Cluster;
using IdentityHub.Data.Provisioning;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace IdentityHub.Data.Sqlite;

/// <summary>Configures <see cref="IdentityHubDbContext"/> for Sqlite with the migrations of this assembly.</summary>
public static class SqliteDatabase
{
    public static DbContextOptionsBuilder UseIdentityHubSqlite(this DbContextOptionsBuilder options, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.UseSqlite(connectionString, o => o.MigrationsAssembly(typeof(SqliteDatabase).Assembly.GetName().Name))
            .AddInterceptors(SqliteBusyWait.Instance, AuditChainGate.Release.Instance);
    }

    /// <summary>
    /// Write-ahead logging: readers no longer block the writer (request handlers and background senders share one file).
    /// The mode is stored in the file, so this is a no-op after the first start.
    /// </summary>
    public static Task UseWriteAheadLogAsync(IdentityHubDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        return db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
    }

    /// <summary>What IdentityHub does differently on Sqlite: the outbox claims' row locking, the start-up lock, changes between nodes through the polled ClusterSignals table.</summary>
    public static IServiceCollection AddIdentityHubSqliteServices(this IServiceCollection services)
    {
        services.TryAddSingleton<IOutboxLocking, SqliteOutboxLocking>();
        services.TryAddSingleton<IStartupLock, SqliteStartupLock>();
        services.TryAddSingleton<IClusterBackplane, SignalTableBackplane>();
        return services;
    }
}

/// <summary>
/// Lets SQLite itself wait for the write lock (<c>sqlite3_busy_timeout</c>: it sleeps 1, 2, 5 … 100 ms between tries)
/// instead of answering "busy" at once into Microsoft.Data.Sqlite's own retry, which sleeps 150 ms between tries. Writers
/// that queue for the single write lock (refresh grants, sign-ins, the provisioning dispatcher, admin changes) then get it
/// within milliseconds of its release, not up to 150 ms later. The wait is bounded by the connection's default timeout,
/// as the driver's retry is; the driver's retry still applies where SQLite does not wait (a snapshot that went stale).
/// The setting belongs to the native connection, which the pool keeps, so it is set again on every open (a plain call, no SQL).
/// </summary>
internal sealed class SqliteBusyWait : DbConnectionInterceptor
{
    public static readonly SqliteBusyWait Instance = new();

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private static void Apply(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle } sqlite)
        {
            SQLitePCL.raw.sqlite3_busy_timeout(handle, checked(sqlite.DefaultTimeout * 1000));
        }
    }
}

/// <summary>Lets <c>dotnet ef</c> build the model for Sqlite without starting the server.</summary>
public sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<IdentityHubDbContext>
{
    public IdentityHubDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<IdentityHubDbContext>();
        options.UseIdentityHubModel().UseIdentityHubSqlite("Data Source=design-time.db");
        return new IdentityHubDbContext(options.Options);
    }
}
