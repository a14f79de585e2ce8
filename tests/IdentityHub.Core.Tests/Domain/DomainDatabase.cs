using IdentityHub.Core.Audit;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Data.PostgreSql;
using IdentityHub.Data.Sqlite;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Core.Tests.Domain;

/// <summary>The real clock, which a test can move forward so validity windows pass without waiting.</summary>
public sealed class AdjustableClock : TimeProvider
{
    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.UtcNow + Offset;
}

/// <summary>The domain services over a real migrated database (one per test class), acting as a chosen actor.</summary>
public abstract class DomainDatabase : IAsyncLifetime
{
    private ServiceProvider _services = null!;

    public AdjustableClock Clock { get; } = new();

    public Actor Actor { get; set; } = Actor.System;

    protected abstract void UseDatabase(DbContextOptionsBuilder options);

    public async Task InitializeAsync()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(Clock);
        services.AddDbContext<IdentityHubDbContext>(UseDatabase);
        services.AddIdentityCore<UserAccount>(o => IdentityHubSchema.ConfigureStores(o.Stores))
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<IdentityHubDbContext>();
        services.AddScoped(_ => new CurrentActor(() => Actor));
        services.AddIdentityHubCore();
        services.AddScoped<FirstAdministrator>();
        _services = services.BuildServiceProvider();
        await using var scope = _services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>().Database.MigrateAsync();
        await scope.ServiceProvider.GetRequiredService<FirstAdministrator>().EnsureAsync("Domain-Test-Password-1", CancellationToken.None);
    }

    /// <summary>Runs <paramref name="work"/> with a fresh scope (a fresh DbContext, as a request would have).</summary>
    public async Task<T> RunAsync<T>(Func<IServiceProvider, Task<T>> work)
    {
        await using var scope = _services.CreateAsyncScope();
        return await work(scope.ServiceProvider);
    }

    public Task RunAsync(Func<IServiceProvider, Task> work) => RunAsync(async s => { await work(s); return true; });

    public virtual async Task DisposeAsync() => await _services.DisposeAsync();
}

public sealed class SqliteDomainDatabase : DomainDatabase
{
    private readonly SqliteFile _file = new();

    protected override void UseDatabase(DbContextOptionsBuilder options) => options.UseIdentityHubSqlite(_file.ConnectionString);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _file.Dispose();
    }
}

public sealed class PostgreSqlDomainDatabase : DomainDatabase
{
    private PostgresDatabase? _database;

    protected override void UseDatabase(DbContextOptionsBuilder options) =>
        options.UseIdentityHubPostgreSql((_database ??= PostgresDatabase.Reserve()).ConnectionString);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
