using IdentityHub.Data.Cluster;
using IdentityHub.Data.Provisioning;
using Microsoft.EntityFrameworkCore;
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
        return options.UseSqlite(connectionString, o => o.MigrationsAssembly(typeof(SqliteDatabase).Assembly.GetName().Name));
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

    /// <summary>What IdentityHub does differently on Sqlite: the outbox claims' row locking, changes between nodes through the polled ClusterSignals table.</summary>
    public static IServiceCollection AddIdentityHubSqliteServices(this IServiceCollection services)
    {
        services.TryAddSingleton<IOutboxLocking, SqliteOutboxLocking>();
        services.TryAddSingleton<IClusterBackplane, SignalTableBackplane>();
        return services;
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
