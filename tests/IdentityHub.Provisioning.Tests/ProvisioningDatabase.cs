using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Outbound;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Data.Directory;
using IdentityHub.Data.PostgreSql;
using IdentityHub.Data.Provisioning;
using IdentityHub.Data.Sqlite;
using IdentityHub.Provisioning.Dispatch;
using IdentityHub.Provisioning.Monitoring;
using IdentityHub.Testing;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Provisioning.Tests;

/// <summary>The real clock, which a test can move forward so validity windows pass without waiting.</summary>
public sealed class AdjustableClock : TimeProvider
{
    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.UtcNow + Offset;
}

/// <summary>
/// The domain services and the provisioning services (no dispatcher, no host) over a real migrated database, one per
/// test class: what the connectors service, the scope rule and the claims do is checked against SQLite and PostgreSQL.
/// </summary>
public abstract class ProvisioningDatabase : IAsyncLifetime
{
    private ServiceProvider _services = null!;

    /// <summary>Where the stand-in targets listen: the only inward addresses these tests' Outbound settings allow.</summary>
    public static readonly string[] LoopbackTargets = ["127.0.0.1", "::1", "localhost"];

    public AdjustableClock Clock { get; } = new();

    /// <summary>Sees every command of every context of this database.</summary>
    public CommandHook Hook { get; } = new();

    protected abstract void UseDatabase(DbContextOptionsBuilder options);

    protected abstract void AddProviderServices(IServiceCollection services);

    public async Task InitializeAsync()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(Clock);
        services.AddDbContext<IdentityHubDbContext>(options => UseDatabase(options.AddInterceptors(Hook)));
        AddProviderServices(services);
        services.AddIdentityCore<UserAccount>(o => IdentityHubSchema.ConfigureStores(o.Stores))
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<IdentityHubDbContext>();
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.AddIdentityHubCore();
        services.AddIdentityHubConnectors();
        // Deliveries without the dispatcher: a test claims and delivers itself.
        services.AddMetrics();
        services.AddSingleton<ProvisioningMetrics>();
        services.AddScoped<OutboxClaims>();
        services.AddScoped<PairDelivery>();
        // The stand-in targets listen on loopback, listed as an operator lists an intranet target; anything else private is refused.
        services.Configure<OutboundOptions>(o => o.AllowedNetworks = [.. LoopbackTargets]);
        _services = services.BuildServiceProvider();
        await using var scope = _services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>().Database.MigrateAsync();
    }

    /// <summary>Runs <paramref name="work"/> with a fresh scope (a fresh DbContext, as a request would have).</summary>
    public async Task<T> RunAsync<T>(Func<IServiceProvider, Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        await using var scope = _services.CreateAsyncScope();
        return await work(scope.ServiceProvider);
    }

    public Task RunAsync(Func<IServiceProvider, Task> work) => RunAsync(async s => { await work(s); return true; });

    public Task<T> ReadAsync<T>(Func<IdentityHubDbContext, Task<T>> read) => RunAsync(s => read(s.GetRequiredService<IdentityHubDbContext>()));

    public static string NewCode(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    public Task<Application> CreateApplicationAsync() => RunAsync(async s =>
    {
        var now = DateTimeOffset.UtcNow;
        var application = new Application { Id = Guid.NewGuid(), Name = NewCode("app"), CreatedAt = now, UpdatedAt = now };
        var db = s.GetRequiredService<IdentityHubDbContext>();
        db.Applications.Add(application);
        await db.SaveChangesAsync();
        return application;
    });

    /// <summary>A role of the application (or a global role when <paramref name="applicationId"/> is null) bundling the permissions.</summary>
    public Task<Role> CreateRoleAsync(Guid? applicationId, params Guid[] permissionIds) =>
        RunAsync(s => s.GetRequiredService<Roles>().CreateAsync(
            new RoleInput(applicationId, NewCode("role"), null, false, [.. permissionIds.Select(p => new RolePermissionInput(p))]), CancellationToken.None));

    public Task<Permission> CreatePermissionAsync(Guid applicationId) =>
        RunAsync(s => s.GetRequiredService<Permissions>().CreateAsync(applicationId, new PermissionInput("app.use", null, null), CancellationToken.None));

    public Task<string> CreateUserAsync() =>
        RunAsync(async s => (await s.GetRequiredService<UserDirectory>().CreateAsync(
            new UserInput(NewCode("user"), "Provisioned Person", null, null, NewCode("E"), null, null), null, CancellationToken.None)).Id);

    public Task<RoleAssignment> GrantAsync(string userId, Guid roleId, DateTimeOffset? from = null, DateTimeOffset? until = null) =>
        RunAsync(s => s.GetRequiredService<RoleAssignments>().GrantAsync(new AssignmentInput(userId, roleId, null, from, until, "test"), CancellationToken.None));

    /// <summary>A connector written straight to the database, as if created long ago (no initial sync).</summary>
    public Task<Connector> AddConnectorAsync(Guid applicationId, ConnectorKind kind, string settings) => RunAsync(async s =>
    {
        var now = DateTimeOffset.UtcNow;
        var connector = new Connector { Id = Guid.NewGuid(), ApplicationId = applicationId, Name = NewCode("c"), Kind = kind, Settings = settings, CreatedAt = now, UpdatedAt = now };
        var db = s.GetRequiredService<IdentityHubDbContext>();
        db.Connectors.Add(connector);
        await db.SaveChangesAsync();
        return connector;
    });

    /// <summary>As the dispatcher records a delivery: the connector holds the user, last told <paramref name="sentEvent"/>.</summary>
    public Task MarkDeliveredAsync(Guid connectorId, string userId, string sentEvent = "user.created") => RunAsync(async s =>
    {
        var db = s.GetRequiredService<IdentityHubDbContext>();
        db.ConnectorUserStates.Add(new ConnectorUserState { ConnectorId = connectorId, UserId = userId, Version = 1, SentState = sentEvent + ":x.y", LastDeliveredAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
    });

    /// <summary>One claim round for this connector only (the other tests' connectors get no room).</summary>
    public async Task<IReadOnlyList<ClaimedPair>> ClaimAsync(Guid connectorId, TimeSpan claimTimeout)
    {
        var others = await ReadAsync(db => db.Connectors.Where(c => c.Id != connectorId).Select(c => c.Id).ToListAsync());
        var room = others.ToDictionary(id => id, _ => 0);
        room[connectorId] = 10;
        return await RunAsync(s => s.GetRequiredService<OutboxClaims>().ClaimAsync("test-node", room, defaultRoom: 0, claimTimeout, CancellationToken.None));
    }

    public virtual async Task DisposeAsync() => await _services.DisposeAsync();
}

public sealed class SqliteProvisioningDatabase : ProvisioningDatabase
{
    private readonly SqliteFile _file = new();

    protected override void UseDatabase(DbContextOptionsBuilder options) => options.UseIdentityHubSqlite(_file.ConnectionString);

    protected override void AddProviderServices(IServiceCollection services) => services.AddIdentityHubSqliteServices();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _file.Dispose();
    }
}

public sealed class PostgreSqlProvisioningDatabase : ProvisioningDatabase
{
    private PostgresDatabase? _database;

    protected override void UseDatabase(DbContextOptionsBuilder options) =>
        options.UseIdentityHubPostgreSql((_database ??= PostgresDatabase.Reserve()).ConnectionString);

    protected override void AddProviderServices(IServiceCollection services) => services.AddIdentityHubPostgreSqlServices();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
