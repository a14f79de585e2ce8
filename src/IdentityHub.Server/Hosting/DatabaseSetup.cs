using IdentityHub.Core;
using IdentityHub.Core.Changes;
using IdentityHub.Core.Cluster;
using IdentityHub.Data;
using IdentityHub.Data.PostgreSql;
using IdentityHub.Data.Sqlite;
using IdentityHub.Data.SqlServer;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Hosting;

public enum DatabaseProvider
{
    Sqlite,
    PostgreSql,
    SqlServer,
}

/// <summary>The database the server runs on, read and checked once from configuration.</summary>
public sealed record DatabaseSettings(DatabaseProvider Provider, string ConnectionString, bool ApplyMigrations)
{
    /// <summary>How long a node waits for the start-up lock another node holds (<c>Database:StartupLockTimeout</c>).</summary>
    public TimeSpan StartupLockTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public const string DefaultSqliteConnectionString = "Data Source=data/identityhub.db";

    public static DatabaseSettings Read(IConfiguration configuration, string contentRoot)
    {
        var providerName = configuration["Database:Provider"] ?? nameof(DatabaseProvider.Sqlite);
        if (!Enum.TryParse<DatabaseProvider>(providerName, ignoreCase: true, out var provider)
            || !Enum.IsDefined(provider) || int.TryParse(providerName, out _))
        {
            throw new StartupException(
                $"Database:Provider '{providerName}' is not supported: use Sqlite, PostgreSql or SqlServer.");
        }

        var connectionString = configuration.GetConnectionString("IdentityHub");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            connectionString = provider == DatabaseProvider.Sqlite
                ? DefaultSqliteConnectionString
                : throw new StartupException(
                    $"ConnectionStrings:IdentityHub is required when Database:Provider is {provider}; see appsettings.sample.json for an example.");
        }

        if (provider == DatabaseProvider.Sqlite)
        {
            connectionString = AnchorSqliteFile(connectionString, contentRoot);
        }

        var applyMigrations = configuration.GetValue("Database:ApplyMigrations", defaultValue: true);
        return new DatabaseSettings(provider, connectionString, applyMigrations) { StartupLockTimeout = ReadStartupLockTimeout(configuration) };
    }

    private static TimeSpan ReadStartupLockTimeout(IConfiguration configuration)
    {
        var text = configuration["Database:StartupLockTimeout"];
        if (string.IsNullOrEmpty(text))
        {
            return TimeSpan.FromMinutes(5);
        }

        return TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var timeout) && timeout > TimeSpan.Zero
            ? timeout
            : throw new StartupException($"Database:StartupLockTimeout '{text}' is not a positive time span such as 00:05:00.");
    }

    public void Configure(DbContextOptionsBuilder options)
    {
        _ = Provider switch
        {
            DatabaseProvider.Sqlite => options.UseIdentityHubSqlite(ConnectionString),
            DatabaseProvider.PostgreSql => options.UseIdentityHubPostgreSql(ConnectionString),
            DatabaseProvider.SqlServer => options.UseIdentityHubSqlServer(ConnectionString),
            _ => throw new StartupException($"Database:Provider {Provider} is not supported."),
        };
    }

    /// <summary>The provider's own services (how it locks outbox claims and start-up), registered with the provider it configures.</summary>
    public void AddProviderServices(IServiceCollection services)
    {
        _ = Provider switch
        {
            DatabaseProvider.Sqlite => services.AddIdentityHubSqliteServices(),
            DatabaseProvider.PostgreSql => services.AddIdentityHubPostgreSqlServices(),
            DatabaseProvider.SqlServer => services.AddIdentityHubSqlServerServices(),
            _ => throw new StartupException($"Database:Provider {Provider} is not supported."),
        };
    }

    /// <summary>A relative SQLite file is placed under the content root, and its folder is created.</summary>
    private static string AnchorSqliteFile(string connectionString, string contentRoot)
    {
        SqliteConnectionStringBuilder builder;
        try
        {
            builder = new SqliteConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new StartupException($"ConnectionStrings:IdentityHub is not a valid SQLite connection string: {ex.Message}", ex);
        }

        if (builder.DataSource is { Length: > 0 } file && file != ":memory:" && !file.StartsWith("file:", StringComparison.Ordinal))
        {
            var path = Path.GetFullPath(file, contentRoot);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            builder.DataSource = path;
        }

        return builder.ToString();
    }
}

public static class DatabaseSetup
{
    public static void AddIdentityHubDatabase(this WebApplicationBuilder builder)
    {
        var settings = DatabaseSettings.Read(builder.Configuration, builder.Environment.ContentRootPath);
        builder.Services.AddSingleton(settings);
        settings.AddProviderServices(builder.Services);
        builder.Services.AddDbContextPool<IdentityHubDbContext>((services, options) =>
        {
            settings.Configure(options);
            // A commit wakes the provisioning dispatcher at once instead of at its next poll.
            options.AddInterceptors(services.GetRequiredService<OutboxCommitInterceptor>());
            // A text longer than its column is a refusal naming the field, not a 500 (PostgreSQL) or a silent store (SQLite).
            options.AddInterceptors(services.GetRequiredService<ColumnLengths>());
            // Committed changes to what every node caches (clients, keys, a user's sessions) reach the other nodes.
            options.AddInterceptors(services.GetRequiredService<ClusterChangeInterceptor>());
        });
        builder.Services.AddHealthChecks().AddDbContextCheck<IdentityHubDbContext>("database", tags: [HealthEndpoints.ReadyTag]);
    }
}
