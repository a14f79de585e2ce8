using IdentityHub.Core.Access;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Cluster;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Themes;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Data.Directory;
using IdentityHub.Data.PostgreSql;
using IdentityHub.Data.Sqlite;
using IdentityHub.Provisioning;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Core.Tests.Domain;

/// <summary>The real clock, which a test can move forward so validity windows pass without waiting, or stop at one instant.</summary>
public sealed class AdjustableClock : TimeProvider
{
    public TimeSpan Offset { get; set; }

    /// <summary>When set, the time it is, however long the test takes (several writes within "one millisecond").</summary>
    public DateTimeOffset? FrozenAt { get; set; }

    public override DateTimeOffset GetUtcNow() => FrozenAt ?? DateTimeOffset.UtcNow + Offset;
}

/// <summary>The domain services over a real migrated database (one per test class), acting as a chosen actor.</summary>
public abstract class DomainDatabase : IAsyncLifetime
{
    private ServiceProvider _services = null!;

    /// <summary>Theme folders the tests name (an application's theme must be one of them).</summary>
    private readonly string _themes = System.IO.Directory.CreateTempSubdirectory("identityhub-themes-").FullName;

    public AdjustableClock Clock { get; } = new();

    public Actor Actor { get; set; } = Actor.System;

    protected abstract void UseDatabase(DbContextOptionsBuilder options);

    public async Task InitializeAsync()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        // Pull sources keep their secrets protected, as connectors do.
        services.AddDataProtection();
        services.AddSingleton<TimeProvider>(Clock);
        // As the server does: committed changes to clients, keys and users' sessions are published to the cluster.
        services.AddDbContext<IdentityHubDbContext>((provider, options) =>
        {
            UseDatabase(options);
            options.AddInterceptors(provider.GetRequiredService<ClusterChangeInterceptor>());
        });
        services.AddIdentityCore<UserAccount>(o => IdentityHubSchema.ConfigureStores(o.Stores))
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<IdentityHubDbContext>();
        services.AddScoped(_ => new CurrentActor(() => Actor));
        foreach (var theme in new[] { ThemeFolders.Default, "expense-green", "old" })
        {
            System.IO.Directory.CreateDirectory(Path.Combine(_themes, theme));
        }

        services.AddSingleton(new ThemeFolders(_themes, Clock));
        services.AddIdentityHubCore();
        services.AddIdentityHubConnectors();
        // OIDC clients live in OpenIddict's store, managed as the server does it (SHA-256 secrets, the client cache).
        services.AddOpenIddict().AddCore(core => core.UseIdentityHubClients());
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

    /// <summary>A scope the caller ends, for work that must outlive one call (two writers at once).</summary>
    public AsyncServiceScope CreateScope() => _services.CreateAsyncScope();

    public Task RunAsync(Func<IServiceProvider, Task> work) => RunAsync(async s => { await work(s); return true; });

    /// <summary>Runs <paramref name="work"/> as <paramref name="actor"/>, then acts as IdentityHub again.</summary>
    public async Task<T> AsAsync<T>(Actor actor, Func<Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        Actor = actor;
        try
        {
            return await work();
        }
        finally
        {
            Actor = Actor.System;
        }
    }

    public Task AsAsync(Actor actor, Func<Task> work) => AsAsync(actor, async () => { await work(); return true; });

    public static string NewCode(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    public static IdentityHubDbContext Db(IServiceProvider services) => services.GetRequiredService<IdentityHubDbContext>();

    public Task<RoleAssignment> GrantAsync(AssignmentInput input) =>
        RunAsync(s => s.GetRequiredService<RoleAssignments>().GrantAsync(input, CancellationToken.None));

    public Task<Department> CreateDepartmentAsync(string name, Guid? parentId = null) =>
        RunAsync(s => s.GetRequiredService<Departments>().CreateAsync(new DepartmentInput(NewCode("D"), name, parentId), CancellationToken.None));

    public Task<UserAccount> CreateUserAsync(Guid? departmentId = null) =>
        RunAsync(s => s.GetRequiredService<UserDirectory>().CreateAsync(
            new UserInput(NewCode("user"), "Test Person", "person@example.com", null, NewCode("E"), departmentId, null), null, CancellationToken.None));

    public Task<Role> CreateRoleAsync(Guid applicationId, string name, bool delegable, params RolePermissionInput[] permissions) =>
        RunAsync(s => s.GetRequiredService<Roles>().CreateAsync(new RoleInput(applicationId, name, null, delegable, permissions), CancellationToken.None));

    /// <summary>An HR administrator of <paramref name="departments"/>, as the actor the Core sees.</summary>
    public async Task<Actor> CreateHrAdminAsync(Guid? ownDepartment, params Guid[] departments)
    {
        var user = await CreateUserAsync(ownDepartment);
        await RunAsync(s => s.GetRequiredService<UserDirectory>().SetAdminRolesAsync(user.Id, [AdminRoles.HrAdmin], departments, CancellationToken.None));
        return new Actor(user.Id, user.UserName!, new HashSet<string>(StringComparer.Ordinal) { AdminRoles.HrAdmin });
    }

    public Task<Application> CreateApplicationAsync(ApplicationInput input) =>
        RunAsync(s => s.GetRequiredService<Applications>().CreateAsync(input, CancellationToken.None));

    /// <summary>An application with the permissions <c>expense.approve</c> (with <c>amountLimit</c>) and <c>expense.submit</c>.</summary>
    public async Task<(Application Application, Permission Approve, Permission Submit)> CreateExpenseAppAsync()
    {
        var application = await CreateApplicationAsync(new ApplicationInput(NewCode("expense"), null));
        var approve = await RunAsync(s => s.GetRequiredService<Permissions>().CreateAsync(
            application.Id, new PermissionInput("expense.approve", null, new Dictionary<string, string> { ["amountLimit"] = "5000" }), CancellationToken.None));
        var submit = await RunAsync(s => s.GetRequiredService<Permissions>().CreateAsync(
            application.Id, new PermissionInput("expense.submit", null, null), CancellationToken.None));
        return (application, approve, submit);
    }

    public virtual async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        System.IO.Directory.Delete(_themes, recursive: true);
    }
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
