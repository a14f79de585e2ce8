using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using IdentityHub.Server.IntegrationTests.AdminApi;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Provisioning;

/// <summary>Short backoff, timeouts and claims, so fault tests take seconds.</summary>
public sealed class FastProvisioning : IServerSettings
{
    public static void Apply(IWebHostBuilder builder)
    {
        builder.UseSetting("Provisioning:PollInterval", "00:00:00.200");
        builder.UseSetting("Provisioning:BackoffBase", "00:00:00.200");
        builder.UseSetting("Provisioning:BackoffCap", "00:00:01");
        builder.UseSetting("Provisioning:AttemptTimeout", "00:00:01");
        builder.UseSetting("Provisioning:ClaimTimeout", "00:00:05");
        builder.UseSetting("Provisioning:MaxAttempts", "4");
    }
}

/// <summary>
/// Quick retries, but a delivery may wait a minute for its target: a test holds a target's answers (the receivers' "hold")
/// for as long as it needs to arrange a state, instead of racing a short attempt timeout.
/// </summary>
public sealed class HeldTargets : IServerSettings
{
    public static void Apply(IWebHostBuilder builder)
    {
        FastProvisioning.Apply(builder);
        builder.UseSetting("Provisioning:AttemptTimeout", "00:01:00");
        builder.UseSetting("Provisioning:ClaimTimeout", "00:02:30");
    }
}

/// <summary>Connectors through the admin API, users through the domain services of the server under test.</summary>
internal sealed class ProvisioningDriver(IdentityHubFactory factory, HttpClient admin)
{
    public HttpClient Admin => admin;

    public static async Task<ProvisioningDriver> CreateAsync(IdentityHubFactory factory) => new(factory, await AdminApiClient.CreateAdminAsync(factory));

    /// <summary>A new application with a webhook connector to <paramref name="url"/>; returns the ids and the secret shown once.</summary>
    public async Task<(Guid ApplicationId, Guid ConnectorId, string Secret)> CreateWebhookConnectorAsync(Uri url)
    {
        var applicationId = await AdminApiClient.CreateApplicationAsync(admin);
        var response = await admin.PostAsJsonAsync($"/api/admin/v1/applications/{applicationId}/connectors", new { kind = "webhook", name = "hooks", settings = new { url } });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        using var json = JsonDocument.Parse(body);
        return (applicationId, json.RootElement.GetProperty("id").GetGuid(), json.RootElement.GetProperty("secret").GetString()!);
    }

    public async Task<string> CreateUserAsync(string? name = null)
    {
        name ??= "u" + Guid.NewGuid().ToString("N")[..10];
        await using var scope = factory.Services.CreateAsyncScope();
        var user = await scope.ServiceProvider.GetRequiredService<UserDirectory>()
            .CreateAsync(new UserInput(name, "User " + name, name + "@example.test", null, "E" + name, null, null), null, CancellationToken.None);
        return user.Id;
    }

    /// <summary>A new user holding a role (<c>member</c>) in the application, so its connectors provision them.</summary>
    public async Task<string> CreateUserWithAccessAsync(Guid applicationId, string? name = null)
    {
        var userId = await CreateUserAsync(name);
        await GrantAsync(userId, applicationId);
        return userId;
    }

    /// <summary>Grants the user a role of the application (created with one permission the first time); returns the assignment id.</summary>
    public Task<Guid> GrantAsync(string userId, Guid applicationId, string role = "member") =>
        new Oidc.OidcDriver(factory).GrantApplicationRoleAsync(userId, applicationId, role);

    public async Task RenameAsync(string userId, string displayName)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var user = await db.Users.AsNoTracking().SingleAsync(u => u.Id == userId);
        await scope.ServiceProvider.GetRequiredService<UserDirectory>()
            .UpdateAsync(userId, new UserInput(user.UserName, displayName, user.Email, user.PhoneNumber, user.EmployeeNumber, user.DepartmentId, user.ManagerId), null, CancellationToken.None);
    }

    /// <summary>Suspends, reactivates or marks the user as left through the directory service.</summary>
    public async Task ChangeStatusAsync(string userId, Func<UserDirectory, string, Task<Data.Directory.UserAccount>> change)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        await change(scope.ServiceProvider.GetRequiredService<UserDirectory>(), userId);
    }

    public async Task<List<DeliveryAttempt>> AttemptsAsync(Guid connectorId, string userId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        return await db.DeliveryAttempts.AsNoTracking().Where(a => a.ConnectorId == connectorId && a.UserId == userId).OrderBy(a => a.Id).ToListAsync();
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        var response = await admin.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.Clone();
    }

    public async Task<JsonElement> PostJsonAsync(string path)
    {
        var response = await admin.PostAsync(path, null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.Clone();
    }

    public async Task<T> ReadAsync<T>(Func<IdentityHubDbContext, Task<T>> read)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await read(scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>());
    }

    /// <summary>
    /// Waits for a condition on the database (attempt rows, outbox rows) checked every 100 ms and returns the value that met
    /// it; throws a <see cref="TimeoutException"/> naming what was awaited and the last value read when the time is up.
    /// </summary>
    public async Task<T> WaitForAsync<T>(
        Func<IdentityHubDbContext, Task<T>> read, Func<T, bool> done, TimeSpan timeout,
        [CallerArgumentExpression(nameof(read))] string? reading = null, [CallerArgumentExpression(nameof(done))] string? what = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            await using var scope = factory.Services.CreateAsyncScope();
            var value = await read(scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>());
            if (done(value))
            {
                return value;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Waited {timeout.TotalSeconds:0.#} s for {what} on {reading}; last seen: {Describe(value)}");
            }

            await Task.Delay(100);
        }
    }

    private static string Describe<T>(T value)
    {
        var text = value is null or string or ValueType ? $"{value}" : JsonSerializer.Serialize(value);
        return text.Length <= 4000 ? text : text[..4000] + "…";
    }

    public static bool HasUser(JsonElement state, string userId, Func<JsonElement, bool>? where = null) =>
        state.GetProperty("users").TryGetProperty(userId, out var user) && (where is null || where(user));
}
