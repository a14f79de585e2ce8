using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Core.Access;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Data.Directory;
using IdentityHub.Data.Provisioning;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Provisioning;

/// <summary>Quick retries (backoff 0.2 s to 2 s, 2 s attempt timeout) so the REST connector's fault tests finish in seconds.</summary>
public sealed class RestFactorySettings : IServerSettings
{
    public static void Apply(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        builder.UseSetting("Provisioning:BackoffBase", "00:00:00.200");
        builder.UseSetting("Provisioning:BackoffCap", "00:00:02");
        builder.UseSetting("Provisioning:AttemptTimeout", "00:00:02");
        builder.UseSetting("Provisioning:ClaimTimeout", "00:00:10");
    }
}

/// <summary>
/// One test's world for the REST connector: departments Sales › East and Marketing, an application with the roles approver
/// (expense.approve, amountLimit 5000) and viewer, and a REST connector made through the admin API from a preset.
/// </summary>
internal sealed record RestWorld(
    IdentityHubFactory Factory, string Prefix, Guid ApplicationId, Guid ConnectorId, Guid ApproverRoleId, Guid ViewerRoleId,
    Guid SalesId, string SalesCode, Guid EastId, string EastCode, Guid MarketingId, string MarketingCode)
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>The expense preset pointed at the stand-in, with its app key; <paramref name="extra"/> is laid over it.</summary>
    public static JsonObject ExpenseSettings(ExpenseVendor vendor, JsonObject? extra = null)
    {
        var settings = new JsonObject { ["baseUrl"] = vendor.ApiBaseUrl.AbsoluteUri, ["auth"] = new JsonObject { ["appKey"] = ExpenseVendor.AppKey } };
        foreach (var (name, value) in extra ?? [])
        {
            settings[name] = value?.DeepClone();
        }

        return settings;
    }

    public static JsonObject AttendanceSettings(AttendanceVendor vendor) => new()
    {
        ["baseUrl"] = vendor.ApiBaseUrl.AbsoluteUri,
        ["auth"] = new JsonObject { ["tokenUrl"] = vendor.TokenUrl.AbsoluteUri, ["clientId"] = AttendanceVendor.ClientId },
    };

    public static async Task<RestWorld> CreateAsync(IdentityHubFactory factory, string preset, JsonObject settings, string secret)
    {
        var prefix = Guid.NewGuid().ToString("N")[..6];
        await using var scope = factory.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var departments = services.GetRequiredService<Departments>();
        var sales = await departments.CreateAsync(new($"{prefix}-S", $"{prefix} Sales", null), CancellationToken.None);
        var east = await departments.CreateAsync(new($"{prefix}-E", $"{prefix} East", sales.Id), CancellationToken.None);
        var marketing = await departments.CreateAsync(new($"{prefix}-M", $"{prefix} Marketing", null), CancellationToken.None);
        var db = services.GetRequiredService<IdentityHubDbContext>();
        var application = new Application { Id = Guid.NewGuid(), Name = $"{preset} {prefix}", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow };
        db.Applications.Add(application);
        await db.SaveChangesAsync();
        var permissions = services.GetRequiredService<Permissions>();
        var approve = await permissions.CreateAsync(application.Id, new("expense.approve", null, new Dictionary<string, string> { ["amountLimit"] = "5000" }), CancellationToken.None);
        var view = await permissions.CreateAsync(application.Id, new("expense.view", null, null), CancellationToken.None);
        var roles = services.GetRequiredService<Roles>();
        var approver = await roles.CreateAsync(new(application.Id, "approver", null, false, [new(approve.Id)]), CancellationToken.None);
        var viewer = await roles.CreateAsync(new(application.Id, "viewer", null, false, [new(view.Id)]), CancellationToken.None);
        var connectorId = await CreateConnectorAsync(factory, application.Id, preset, settings, secret);
        return new RestWorld(factory, prefix, application.Id, connectorId, approver.Id, viewer.Id, sales.Id, sales.Code, east.Id, east.Code, marketing.Id, marketing.Code);
    }

    /// <summary>Configured the way an operator does: the admin API, a preset, the partial settings and the write-only secret.</summary>
    public static async Task<Guid> CreateConnectorAsync(IdentityHubFactory factory, Guid applicationId, string preset, JsonObject settings, string secret)
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        using var created = await admin.PostAsJsonAsync($"/api/admin/v1/applications/{applicationId}/connectors", new
        {
            kind = "rest", name = preset + "-" + Guid.NewGuid().ToString("N")[..4], preset, settings, secret,
        });
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
    }

    public async Task<UserAccount> CreateUserAsync(string name, Guid? departmentId = null, string? managerId = null)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        var number = $"{Prefix}-{name}";
        return await scope.ServiceProvider.GetRequiredService<UserDirectory>().CreateAsync(
            new(number.ToLowerInvariant(), $"User {number}", $"{number.ToLowerInvariant()}@example.test", null, number, departmentId ?? EastId, managerId), null, CancellationToken.None);
    }

    public async Task<Guid> GrantAsync(string userId, Guid roleId, Guid? departmentId = null)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<RoleAssignments>().GrantAsync(new(userId, roleId, departmentId, null, null, "test"), CancellationToken.None)).Id;
    }

    public async Task RenameAsync(string userId, string displayName)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var user = await db.Users.AsNoTracking().SingleAsync(u => u.Id == userId);
        await scope.ServiceProvider.GetRequiredService<UserDirectory>()
            .UpdateAsync(userId, new UserInput(user.UserName, displayName, user.Email, user.PhoneNumber, user.EmployeeNumber, user.DepartmentId, user.ManagerId), null, CancellationToken.None);
    }

    public async Task<T> ReadAsync<T>(Func<IdentityHubDbContext, Task<T>> read)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        return await read(scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>());
    }

    public Task<List<DeliveryAttempt>> AttemptsAsync(string userId) =>
        ReadAsync(db => db.DeliveryAttempts.AsNoTracking().Where(a => a.ConnectorId == ConnectorId && a.UserId == userId).OrderBy(a => a.Id).ToListAsync());

    public Task<List<OutboxEntry>> OutboxAsync(string userId) =>
        ReadAsync(db => db.Outbox.AsNoTracking().Where(o => o.ConnectorId == ConnectorId && o.UserId == userId).ToListAsync());

    public Task<ConnectorUserState?> StateAsync(string userId) =>
        ReadAsync(db => db.ConnectorUserStates.AsNoTracking().SingleOrDefaultAsync(s => s.ConnectorId == ConnectorId && s.UserId == userId));

    /// <summary>Polls <paramref name="read"/> every 20 ms until <paramref name="done"/>, failing after <see cref="Deadline"/>; returns the value and the time it took.</summary>
    public static async Task<(T Value, TimeSpan Elapsed)> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return (value, clock.Elapsed);
            }

            Assert.True(clock.Elapsed < Deadline, $"Waited {Deadline.TotalSeconds} s for {what}; last seen: {JsonSerializer.Serialize(value)}");
            await Task.Delay(20);
        }
    }

    public static Task<(T Value, TimeSpan Elapsed)> WaitForAsync<T>(Func<T> read, Func<T, bool> done, string what) =>
        WaitForAsync(() => Task.FromResult(read()), done, what);

    public async Task RemoveConnectorAsync()
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        await db.Connectors.Where(c => c.Id == ConnectorId).ExecuteDeleteAsync();
    }
}
