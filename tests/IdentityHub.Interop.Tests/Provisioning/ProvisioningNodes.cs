using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Data.PostgreSql;
using IdentityHub.Data.Sqlite;
using IdentityHub.Provisioning;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Interop.Tests.Provisioning;

/// <summary>One database (SQLite file or PostgreSQL) shared by IdentityHub server processes and the test's own directory writer.</summary>
public sealed class ProvisioningDatabase : IAsyncDisposable
{
    public const string AdminClientSecret = "provisioning-admin-client-secret-0123456789abcdef";

    private readonly string _directory = Directory.CreateTempSubdirectory("identityhub-provisioning-").FullName;
    private readonly PostgresDatabase? _postgres;
    private ServiceProvider? _services;

    public ProvisioningDatabase(bool postgreSql)
    {
        _postgres = postgreSql ? PostgresDatabase.Reserve() : null;
        ConnectionString = _postgres?.ConnectionString ?? $"Data Source={Path.Combine(_directory, "identityhub.db")}";
    }

    public string ConnectionString { get; }

    public bool IsPostgreSql => _postgres is not null;

    /// <summary>
    /// For a server whose target the test holds: an attempt may wait 10 s, so held calls stay in flight until the test acts
    /// (a busy machine does not turn them into timeouts first); a crashed node's claims lapse after 25 s.
    /// </summary>
    public static IReadOnlyDictionary<string, string> HeldTargetSettings { get; } = new Dictionary<string, string>
    {
        ["Provisioning:AttemptTimeout"] = "00:00:10",
        ["Provisioning:ClaimTimeout"] = "00:00:25",
    };

    /// <summary>
    /// Starts a server process on this database with fast provisioning settings, on <paramref name="port"/> (a free one
    /// when null: a node restarted behind a proxy comes back on its own); waits until it is ready.
    /// </summary>
    public async Task<ServerProcess> StartServerAsync(string nodeName, IReadOnlyDictionary<string, string>? extra = null, int? port = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["Database:Provider"] = IsPostgreSql ? "PostgreSql" : "Sqlite",
            ["ConnectionStrings:IdentityHub"] = ConnectionString,
            ["Bootstrap:AdminPassword"] = "Provisioning-Admin-Password-1",
            ["Bootstrap:AdminClientSecret"] = AdminClientSecret,
            ["Oidc:RequireHttps"] = "false",
            ["Provisioning:NodeName"] = nodeName,
            ["Provisioning:PollInterval"] = "00:00:00.200",
            ["Provisioning:BackoffBase"] = "00:00:00.200",
            ["Provisioning:BackoffCap"] = "00:00:02",
            ["Provisioning:AttemptTimeout"] = "00:00:02",
            ["Provisioning:ClaimTimeout"] = "00:00:05",
            ["Provisioning:MaxAttempts"] = "50",
            ["Provisioning:MaxParallelDeliveries"] = "4",
            ["Provisioning:BatchSize"] = "16",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        var server = ServerProcess.Start(settings, _directory, port);
        await server.WaitUntilReadyAsync(ServerProcess.StartPatience);
        return server;
    }

    /// <summary>A client of the admin API with a bootstrap client token.</summary>
    public static async Task<HttpClient> AdminApiAsync(ServerProcess server)
    {
        ArgumentNullException.ThrowIfNull(server);
        var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.Port}/") };
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["scope"] = "identityhub.admin" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"identityhub-admin:{AdminClientSecret}")));
        using var response = await api.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var token = JsonDocument.Parse(body);
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.RootElement.GetProperty("access_token").GetString());
        return api;
    }

    /// <summary>Creates an application and a webhook connector through the admin API; returns their ids and the connector's secret.</summary>
    public static async Task<(Guid ApplicationId, Guid ConnectorId, string Secret)> CreateWebhookConnectorAsync(HttpClient admin, Uri url)
    {
        ArgumentNullException.ThrowIfNull(admin);
        var applicationId = await CreateApplicationAsync(admin, "Hooks");
        var connector = await admin.PostAsJsonAsync($"api/admin/v1/applications/{applicationId}/connectors", new { kind = "webhook", name = "hooks", settings = new { url } });
        var body = await connector.Content.ReadAsStringAsync();
        Assert.True(connector.IsSuccessStatusCode, body);
        using var json = JsonDocument.Parse(body);
        return (applicationId, json.RootElement.GetProperty("id").GetGuid(), json.RootElement.GetProperty("secret").GetString()!);
    }

    /// <summary>Creates a SCIM connector of the application to <paramref name="scim"/> through the admin API; returns its id.</summary>
    public static async Task<Guid> CreateScimConnectorAsync(HttpClient admin, Guid applicationId, ScimTestServer scim, string extraSettings = "")
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(scim);
        var connector = await admin.PostAsJsonAsync($"api/admin/v1/applications/{applicationId}/connectors", new
        {
            kind = "scim", name = "scimmy", settings = JsonNode.Parse(scim.Settings(extra: extraSettings)), secret = scim.Secret,
        });
        var body = await connector.Content.ReadAsStringAsync();
        Assert.True(connector.IsSuccessStatusCode, body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("id").GetGuid();
    }

    /// <summary>Pauses or resumes a connector through the admin API (a paused connector's rows stay queued).</summary>
    public static async Task PauseAsync(HttpClient admin, Guid connectorId, bool paused)
    {
        ArgumentNullException.ThrowIfNull(admin);
        using var response = await admin.PostAsync(new Uri($"api/admin/v1/connectors/{connectorId}/{(paused ? "pause" : "resume")}", UriKind.Relative), null);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public static async Task<Guid> CreateApplicationAsync(HttpClient admin, string name)
    {
        ArgumentNullException.ThrowIfNull(admin);
        var application = await admin.PostAsJsonAsync("api/admin/v1/applications", new { name = name + " " + Guid.NewGuid().ToString("N")[..6] });
        Assert.True(application.IsSuccessStatusCode, await application.Content.ReadAsStringAsync());
        return (await application.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    /// <summary>Runs work with the domain services on this database (another writer, as a second node or an import would be).</summary>
    public async Task<T> RunAsync<T>(Func<IServiceProvider, Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        _services ??= BuildServices();
        await using var scope = _services.CreateAsyncScope();
        return await work(scope.ServiceProvider);
    }

    /// <summary>
    /// Creates users holding a role (<c>member</c>, with one permission) in <paramref name="applicationId"/>, so the
    /// application's connectors provision them: a connector hears only of users in its application's scope.
    /// </summary>
    public Task<List<string>> CreateUsersAsync(int count, string prefix, Guid applicationId) => RunAsync(async services =>
    {
        var directory = services.GetRequiredService<UserDirectory>();
        var role = await MemberRoleAsync(services, applicationId);
        var assignments = services.GetRequiredService<RoleAssignments>();
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var name = $"{prefix}{i:D5}";
            var id = (await directory.CreateAsync(new UserInput(name, "Round 0", name + "@example.test", null, "E" + name, null, null), null, CancellationToken.None)).Id;
            await assignments.GrantAsync(new AssignmentInput(id, role, null, null, null, "provisioning proof"), CancellationToken.None);
            ids.Add(id);
        }

        return ids;
    });

    /// <summary>Renames every user to <paramref name="displayName"/> (one change, so one outbox row, per user).</summary>
    public Task RenameAllAsync(IEnumerable<string> userIds, string displayName) => RunAsync(async services =>
    {
        var directory = services.GetRequiredService<UserDirectory>();
        var db = services.GetRequiredService<IdentityHubDbContext>();
        foreach (var id in userIds)
        {
            var user = await db.Users.AsNoTracking().SingleAsync(u => u.Id == id);
            await directory.UpdateAsync(id, new UserInput(user.UserName, displayName, user.Email, user.PhoneNumber, user.EmployeeNumber, user.DepartmentId, user.ManagerId), null, CancellationToken.None);
        }

        return true;
    });

    private static async Task<Guid> MemberRoleAsync(IServiceProvider services, Guid applicationId)
    {
        var db = services.GetRequiredService<IdentityHubDbContext>();
        if (await db.AccessRoles.Where(r => r.ApplicationId == applicationId && r.Name == "member").Select(r => (Guid?)r.Id).SingleOrDefaultAsync() is { } existing)
        {
            return existing;
        }

        var permission = await services.GetRequiredService<Permissions>().CreateAsync(applicationId, new PermissionInput("app.use", null, null), CancellationToken.None);
        return (await services.GetRequiredService<Roles>().CreateAsync(new RoleInput(applicationId, "member", null, false, [new RolePermissionInput(permission.Id)]), CancellationToken.None)).Id;
    }

    public async ValueTask DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private ServiceProvider BuildServices()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDbContext<IdentityHubDbContext>(options =>
        {
            if (IsPostgreSql)
            {
                options.UseIdentityHubPostgreSql(ConnectionString);
            }
            else
            {
                options.UseIdentityHubSqlite(ConnectionString);
            }
        });
        services.AddIdentityCore<UserAccount>(o => IdentityHubSchema.ConfigureStores(o.Stores))
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<IdentityHubDbContext>();
        services.AddIdentityHubCore();
        // The outbox writes ask which users each connector hears of: Provisioning's rule, as on the server.
        services.AddIdentityHubConnectors();
        return services.BuildServiceProvider();
    }
}
