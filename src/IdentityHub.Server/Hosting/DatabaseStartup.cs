using System.Data.Common;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Server.Oidc.Clients;
using IdentityHub.Server.Oidc.Keys;
using Microsoft.Data.SqlClient;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace IdentityHub.Server.Hosting;

/// <summary>
/// Before the server listens: the database is reachable, its schema is current, signing keys exist and
/// a first administrator can sign in. Any failure becomes a <see cref="StartupException"/> saying what to fix.
/// </summary>
public static class DatabaseStartup
{
    public static async Task PrepareDatabaseAsync(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<DatabaseSettings>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DatabaseStartup));
        var cancellationToken = app.Lifetime.ApplicationStopping;

        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();

        var databaseExists = await ProbeAsync(db, settings, cancellationToken);
        await BringSchemaUpToDateAsync(db, settings, databaseExists, logger, cancellationToken);
        if (settings.Provider == DatabaseProvider.Sqlite)
        {
            await Data.Sqlite.SqliteDatabase.UseWriteAheadLogAsync(db, cancellationToken);
        }

        await app.Services.GetRequiredService<KeyRotationService>().InitializeAsync(cancellationToken);
        await SeedFirstAdministratorAsync(scope.ServiceProvider, app.Configuration, logger, cancellationToken);
        if (await scope.ServiceProvider.GetRequiredService<AdminClientBootstrap>().EnsureAsync(cancellationToken))
        {
            logger.LogInformation("Created the bootstrap admin API client from Bootstrap:AdminClientSecret");
        }
    }

    /// <summary>Opens a plain connection first, so an unreachable server is one clear line, not an EF error log.</summary>
    private static async Task<bool> ProbeAsync(IdentityHubDbContext db, DatabaseSettings settings, CancellationToken cancellationToken)
    {
        var connection = db.Database.GetDbConnection();
        try
        {
            await connection.OpenAsync(cancellationToken);
            await connection.CloseAsync();
            return true;
        }
        catch (DbException ex) when (IsMissingDatabase(ex))
        {
            return false;
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException or TimeoutException)
        {
            throw new StartupException(
                $"Cannot connect to the {settings.Provider} database: {ex.Message.TrimEnd('.')}. Check ConnectionStrings:IdentityHub and that the database server is running.", ex);
        }
    }

    private static bool IsMissingDatabase(DbException ex) => ex switch
    {
        PostgresException { SqlState: PostgresErrorCodes.InvalidCatalogName } => true,
        SqlException { Number: 4060 } => true,
        _ => false,
    };

    private static async Task BringSchemaUpToDateAsync(
        IdentityHubDbContext db, DatabaseSettings settings, bool databaseExists, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            var pending = databaseExists
                ? (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList()
                : db.Database.GetMigrations().ToList();
            if (pending.Count == 0)
            {
                return;
            }

            if (!settings.ApplyMigrations)
            {
                throw new StartupException(
                    $"The {settings.Provider} database lacks {pending.Count} migration(s), the first being {pending[0]}; apply them or set Database:ApplyMigrations to true.");
            }

            logger.LogInformation("Applying {Count} migration(s) to the {Provider} database", pending.Count, settings.Provider);
            await db.Database.MigrateAsync(cancellationToken);
        }
        catch (DbException ex)
        {
            throw new StartupException($"Bringing the {settings.Provider} database schema up to date failed: {ex.Message}", ex);
        }
    }

    private static async Task SeedFirstAdministratorAsync(
        IServiceProvider services, IConfiguration configuration, ILogger logger, CancellationToken cancellationToken)
    {
        FirstAdministratorOutcome outcome;
        try
        {
            outcome = await services.GetRequiredService<FirstAdministrator>()
                .EnsureAsync(configuration["Bootstrap:AdminPassword"], cancellationToken);
        }
        catch (FirstAdministratorException ex)
        {
            throw new StartupException(ex.Message, ex);
        }

        if (!outcome.Created)
        {
            return;
        }

        logger.LogInformation("Created the first administrator '{UserName}'", FirstAdministrator.UserName);
        if (outcome.GeneratedPassword is { } password)
        {
            // Printed to the console once and never logged: log sinks are often shipped elsewhere.
            Console.Out.WriteLine($"""

                ==================================================================
                  First administrator created. Sign in once with:
                    user name: {FirstAdministrator.UserName}
                    password:  {password}
                  This password is shown only now. Set Bootstrap:AdminPassword to
                  choose it yourself on a fresh database.
                ==================================================================

                """);
        }
    }
}
