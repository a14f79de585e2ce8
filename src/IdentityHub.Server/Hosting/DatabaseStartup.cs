using System.Data.Common;
using System.Diagnostics;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Cluster;
using IdentityHub.Server.Oidc.Clients;
using IdentityHub.Server.Oidc.Keys;
using Microsoft.Data.SqlClient;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace IdentityHub.Server.Hosting;

/// <summary>What the start-up database work did, for the log and for the <c>migrate</c> command's answer.</summary>
public sealed record DatabaseStartupReport(
    bool DatabaseCreated,
    IReadOnlyList<string> AppliedMigrations,
    int KnownMigrations,
    bool AdministratorCreated,
    string? BootstrapClientCreated);

/// <summary>
/// Before the server listens: the database is reachable, its schema is current, signing keys exist and
/// a first administrator can sign in. Any number of nodes may start at once: the work runs under a database-wide
/// lock (<see cref="IStartupLock"/>), so the others wait and then find it done.
/// Any failure becomes a <see cref="StartupException"/> saying what to fix.
/// </summary>
public static class DatabaseStartup
{
    private static readonly TimeSpan LockRetryInterval = TimeSpan.FromMilliseconds(250);

    public static Task<DatabaseStartupReport> PrepareDatabaseAsync(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.PrepareDatabaseAsync(app.Services.GetRequiredService<DatabaseSettings>().ApplyMigrations);
    }

    /// <summary>The start-up database work; <paramref name="applyMigrations"/> overrides <c>Database:ApplyMigrations</c> (the migrate command).</summary>
    public static async Task<DatabaseStartupReport> PrepareDatabaseAsync(this WebApplication app, bool applyMigrations)
    {
        ArgumentNullException.ThrowIfNull(app);
        var settings = app.Services.GetRequiredService<DatabaseSettings>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DatabaseStartup));
        var startupLock = app.Services.GetRequiredService<IStartupLock>();
        var cancellationToken = app.Lifetime.ApplicationStopping;

        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();

        var created = false;
        if (!await ProbeAsync(db, settings, cancellationToken))
        {
            if (!applyMigrations)
            {
                throw Outdated(settings, db.Database.GetMigrations().ToList());
            }

            // Advisory locks live in a database, so it must exist before anyone can lock it.
            created = await OnDatabaseAsync(settings, "Creating the database", () => startupLock.CreateDatabaseAsync(db, cancellationToken));
            if (created)
            {
                logger.LogInformation("Created the {Provider} database", settings.Provider);
            }
        }

        await using (await AcquireAsync(startupLock, db, settings, logger, cancellationToken))
        {
            var applied = await BringSchemaUpToDateAsync(db, settings, applyMigrations, logger, cancellationToken);
            return await OnDatabaseAsync(settings, "Preparing the database", async () =>
            {
                if (settings.Provider == DatabaseProvider.Sqlite)
                {
                    await Data.Sqlite.SqliteDatabase.UseWriteAheadLogAsync(db, cancellationToken);
                }

                await app.Services.GetRequiredService<KeyRotationService>().InitializeAsync(cancellationToken);
                var administrator = await SeedFirstAdministratorAsync(scope.ServiceProvider, app.Configuration, logger, cancellationToken);
                var bootstrapClient = await scope.ServiceProvider.GetRequiredService<AdminClientBootstrap>().EnsureAsync(cancellationToken);
                if (bootstrapClient is not null)
                {
                    logger.LogInformation("Created the bootstrap admin API client '{ClientId}' from Bootstrap:AdminClientSecret", bootstrapClient);
                }

                return new DatabaseStartupReport(created, applied, db.Database.GetMigrations().Count(), administrator, bootstrapClient);
            });
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
            throw Unreachable(settings, ex);
        }
    }

    private static bool IsMissingDatabase(DbException ex) => ex switch
    {
        PostgresException { SqlState: PostgresErrorCodes.InvalidCatalogName } => true,
        SqlException { Number: 4060 } => true,
        _ => false,
    };

    private static StartupException Unreachable(DatabaseSettings settings, Exception ex) => new(
        $"Cannot connect to the {settings.Provider} database: {ex.Message.TrimEnd('.')}. Check ConnectionStrings:IdentityHub and that the database server is running.", ex);

    /// <summary>
    /// Waits for the start-up lock until <see cref="DatabaseSettings.StartupLockTimeout"/>, retrying without blocking a
    /// database session, and says once that it waits.
    /// </summary>
    private static async Task<IAsyncDisposable> AcquireAsync(
        IStartupLock startupLock, IdentityHubDbContext db, DatabaseSettings settings, ILogger logger, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        var said = false;
        while (true)
        {
            var held = await OnDatabaseAsync(settings, "Taking the start-up lock", () => startupLock.TryAcquireAsync(db, cancellationToken), unreachable: true);
            if (held is not null)
            {
                if (said)
                {
                    logger.LogInformation("Got the start-up lock after {Seconds:F1} s", waited.Elapsed.TotalSeconds);
                }

                return held;
            }

            if (waited.Elapsed >= settings.StartupLockTimeout)
            {
                throw new StartupException(
                    $"Waited {settings.StartupLockTimeout} for the start-up lock ({startupLock.Describe(db)}) without getting it: another node is still starting or is stuck in its start-up (a long migration?). Check that node, or raise Database:StartupLockTimeout.");
            }

            if (!said)
            {
                logger.LogInformation("Waiting for another node's start-up to finish (it holds the start-up lock: {Lock})", startupLock.Describe(db));
                said = true;
            }

            await Task.Delay(LockRetryInterval, cancellationToken);
        }
    }

    private static async Task<IReadOnlyList<string>> BringSchemaUpToDateAsync(
        IdentityHubDbContext db, DatabaseSettings settings, bool applyMigrations, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count == 0)
            {
                return [];
            }

            if (!applyMigrations)
            {
                throw Outdated(settings, pending);
            }

            logger.LogInformation("Applying {Count} migration(s) to the {Provider} database", pending.Count, settings.Provider);
            await db.Database.MigrateAsync(cancellationToken);
            return pending;
        }
        catch (DbException ex)
        {
            throw new StartupException($"Bringing the {settings.Provider} database schema up to date failed: {ex.Message}", ex);
        }
    }

    private static StartupException Outdated(DatabaseSettings settings, List<string> pending) => new(
        $"The {settings.Provider} database lacks {pending.Count} migration(s), the first being {pending[0]}; run `dotnet IdentityHub.Server.dll migrate` or set Database:ApplyMigrations to true.");

    /// <summary>Database errors of a start-up step become one line naming the step (a duplicate key included), not a stack trace.</summary>
    private static async Task<T> OnDatabaseAsync<T>(DatabaseSettings settings, string step, Func<Task<T>> work, bool unreachable = false)
    {
        try
        {
            return await work();
        }
        catch (Exception ex) when (ex is DbException or DbUpdateException or TimeoutException or IOException or UnauthorizedAccessException)
        {
            if (unreachable && ex is DbException or TimeoutException)
            {
                throw Unreachable(settings, ex);
            }

            var reason = ex.GetBaseException().Message.ReplaceLineEndings(" ").TrimEnd('.');
            throw new StartupException($"{step} on the {settings.Provider} database failed: {reason}. If another node did the same at that moment, starting again finds its work done.", ex);
        }
    }

    private static async Task<bool> SeedFirstAdministratorAsync(
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
            return false;
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

        return true;
    }
}
