using IdentityHub.Data.Audit;
using IdentityHub.Data.Cluster;
using IdentityHub.Data.Provisioning;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace IdentityHub.Data.SqlServer;

/// <summary>Configures <see cref="IdentityHubDbContext"/> for SqlServer with the migrations of this assembly.</summary>
public static class SqlServerDatabase
{
    public static DbContextOptionsBuilder UseIdentityHubSqlServer(this DbContextOptionsBuilder options, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.UseSqlServer(connectionString, o => o.MigrationsAssembly(typeof(SqlServerDatabase).Assembly.GetName().Name))
            .AddInterceptors(AuditChainGate.Release.Instance);
    }

    /// <summary>What IdentityHub does differently on SqlServer: the outbox claims' row locking, the start-up lock, changes between nodes through the polled ClusterSignals table.</summary>
    public static IServiceCollection AddIdentityHubSqlServerServices(this IServiceCollection services)
    {
        services.TryAddSingleton<IOutboxLocking, SqlServerOutboxLocking>();
        services.TryAddSingleton<IStartupLock, SqlServerStartupLock>();
        services.TryAddSingleton<IClusterBackplane, SignalTableBackplane>();
        return services;
    }
}

/// <summary>Lets <c>dotnet ef</c> build the model for SqlServer without starting the server.</summary>
public sealed class SqlServerDesignTimeFactory : IDesignTimeDbContextFactory<IdentityHubDbContext>
{
    public IdentityHubDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<IdentityHubDbContext>();
        options.UseIdentityHubModel().UseIdentityHubSqlServer("Server=localhost;Database=IdentityHubDesign;Trusted_Connection=True;TrustServerCertificate=True");
        return new IdentityHubDbContext(options.Options);
    }
}
