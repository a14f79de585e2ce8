using IdentityHub.Data.Audit;
using IdentityHub.Data.Cluster;
using IdentityHub.Data.Provisioning;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace IdentityHub.Data.PostgreSql;

/// <summary>Configures <see cref="IdentityHubDbContext"/> for PostgreSql with the migrations of this assembly.</summary>
public static class PostgreSqlDatabase
{
    public static DbContextOptionsBuilder UseIdentityHubPostgreSql(this DbContextOptionsBuilder options, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.UseNpgsql(connectionString, o => o.MigrationsAssembly(typeof(PostgreSqlDatabase).Assembly.GetName().Name))
            .AddInterceptors(AuditChainGate.Release.Instance);
    }

    /// <summary>What IdentityHub does differently on PostgreSql: the outbox claims' row locking, the start-up lock, changes between nodes by LISTEN/NOTIFY.</summary>
    public static IServiceCollection AddIdentityHubPostgreSqlServices(this IServiceCollection services)
    {
        services.TryAddSingleton<IOutboxLocking, PostgreSqlOutboxLocking>();
        services.TryAddSingleton<IStartupLock, PostgreSqlStartupLock>();
        services.TryAddSingleton<IClusterBackplane, PostgreSqlBackplane>();
        return services;
    }
}

/// <summary>Lets <c>dotnet ef</c> build the model for PostgreSql without starting the server.</summary>
public sealed class PostgreSqlDesignTimeFactory : IDesignTimeDbContextFactory<IdentityHubDbContext>
{
    public IdentityHubDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<IdentityHubDbContext>();
        options.UseIdentityHubModel().UseIdentityHubPostgreSql("Host=localhost;Database=identityhub_design");
        return new IdentityHubDbContext(options.Options);
    }
}
