using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Data.Sqlite;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Core.Tests;

public sealed class FirstAdministratorTests : IAsyncLifetime
{
    private const string StrongPassword = "Correct-Horse-Battery-9";
    private readonly SqliteFile _file = new();
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        await _file.MigrateAsync();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(TimeProvider.System);
        services.AddDbContext<IdentityHubDbContext>(o => o.UseIdentityHubSqlite(_file.ConnectionString));
        services.AddIdentityCore<UserAccount>(o => IdentityHubSchema.ConfigureStores(o.Stores))
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<IdentityHubDbContext>();
        services.AddScoped<FirstAdministrator>();
        _services = services.BuildServiceProvider();
    }

    [Fact]
    public async Task EnsureAsync_FreshDatabase_CreatesSuperAdminWithConfiguredPassword()
    {
        var outcome = await EnsureAsync(StrongPassword);

        Assert.True(outcome.Created);
        Assert.Null(outcome.GeneratedPassword);
        await using var scope = _services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<UserAccount>>();
        var admin = await users.FindByNameAsync(FirstAdministrator.UserName);
        Assert.NotNull(admin);
        Assert.Equal(UserStatus.Active, admin.Status);
        Assert.True(await users.CheckPasswordAsync(admin, StrongPassword));
        Assert.True(await users.IsInRoleAsync(admin, AdminRoles.SuperAdmin));
    }

    [Fact]
    public async Task EnsureAsync_NoPasswordConfigured_ReturnsGeneratedPasswordThatSignsIn()
    {
        var outcome = await EnsureAsync(configuredPassword: null);

        Assert.True(outcome.Created);
        Assert.NotNull(outcome.GeneratedPassword);
        await using var scope = _services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<UserAccount>>();
        var admin = await users.FindByNameAsync(FirstAdministrator.UserName);
        Assert.True(await users.CheckPasswordAsync(admin!, outcome.GeneratedPassword));
    }

    [Fact]
    public async Task EnsureAsync_SuperAdminAlreadyExists_CreatesNothingAndKeepsPassword()
    {
        await EnsureAsync(StrongPassword);

        var second = await EnsureAsync("Another-Password-123");

        Assert.False(second.Created);
        Assert.Null(second.GeneratedPassword);
        await using var db = _file.CreateContext();
        Assert.Equal(1, await db.Users.CountAsync());
    }

    [Fact]
    public async Task EnsureAsync_WeakConfiguredPassword_FailsNamingTheSettingAndWritesNothing()
    {
        var error = await Assert.ThrowsAsync<FirstAdministratorException>(() => EnsureAsync("short"));

        Assert.StartsWith("Bootstrap:AdminPassword is not accepted:", error.Message, StringComparison.Ordinal);
        await using var db = _file.CreateContext();
        Assert.Equal(0, await db.Users.CountAsync());
        Assert.Equal(0, await db.Roles.CountAsync());
    }

    [Fact]
    public async Task EnsureAsync_UserNamedAdminWithoutRole_RefusesToPromoteIt()
    {
        await using (var scope = _services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<UserAccount>>();
            await users.CreateAsync(new UserAccount { UserName = FirstAdministrator.UserName, DisplayName = "Impostor" }, StrongPassword);
        }

        var error = await Assert.ThrowsAsync<FirstAdministratorException>(() => EnsureAsync(StrongPassword));

        Assert.Contains(AdminRoles.SuperAdmin, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GeneratePassword_ManyTimes_AlwaysHasEveryCharacterClassAndDiffers()
    {
        var passwords = Enumerable.Range(0, 200).Select(_ => FirstAdministrator.GeneratePassword()).ToList();

        Assert.All(passwords, p =>
        {
            Assert.Equal(24, p.Length);
            Assert.Contains(p, char.IsUpper);
            Assert.Contains(p, char.IsLower);
            Assert.Contains(p, char.IsDigit);
            Assert.Contains(p, c => !char.IsLetterOrDigit(c));
        });
        Assert.Equal(passwords.Count, passwords.Distinct().Count());
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        _file.Dispose();
    }

    private async Task<FirstAdministratorOutcome> EnsureAsync(string? configuredPassword)
    {
        await using var scope = _services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<FirstAdministrator>().EnsureAsync(configuredPassword, CancellationToken.None);
    }
}
