using System.Diagnostics;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Keys;
using IdentityHub.Data.PostgreSql;
using IdentityHub.Data.Sqlite;
using IdentityHub.Interop.Tests.Provisioning;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.EntityFrameworkCore.Models;
using Xunit.Abstractions;

namespace IdentityHub.Interop.Tests.Cluster;

/// <summary>
/// Issue 19, point 1: server processes started at the same moment on an empty database take turns with the start-up
/// database work (migrations, first keys, first administrator, bootstrap client) under the start-up lock, and all get ready.
/// </summary>
[Requires(Prerequisite.PostgreSql)]
public sealed class StartupRaceTests(ITestOutputHelper output)
{
    private const int Rounds = 5;
    private const string BootstrapClientId = "identityhub-admin";

    /// <summary>Odd rounds also set Bootstrap:AdminClientSecret on every node, so the bootstrap client is raced for as well.</summary>
    [PrerequisiteFact]
    public async Task Start_ThreeNodesAtOnceOnAFreshPostgreSql_AllReadyWithOneAdministratorAndOneKeyPerUse()
    {
        var waits = 0;
        for (var round = 1; round <= Rounds; round++)
        {
            var bootstrapClient = round % 2 == 1;
            // ProvisioningDatabase sets Bootstrap:AdminClientSecret; an empty value turns the bootstrap client off.
            var extra = bootstrapClient ? null : new Dictionary<string, string> { ["Bootstrap:AdminClientSecret"] = "" };
            await using var database = new ProvisioningDatabase(postgreSql: true);
            var started = Stopwatch.StartNew();
            var servers = await StartAtOnceAsync(database, 3, $"round{round}", extra);
            try
            {
                output.WriteLine($"round {round}: 3 nodes ready {started.Elapsed.TotalSeconds:F1} s after their start");
                waits += servers.Count(s => s.Output.Contains("Waiting for another node's start-up", StringComparison.Ordinal));
                await AssertStartedOnceAsync(database, bootstrapClient);
            }
            finally
            {
                foreach (var server in servers)
                {
                    await server.DisposeAsync();
                }
            }
        }

        output.WriteLine($"{waits} of {Rounds * 3} nodes waited for another node's start-up");
        // The lock was really contended: nodes started together found another node's start-up under way.
        Assert.True(waits > 0, "No node ever waited for another's start-up: the nodes did not start together.");
    }

    [PrerequisiteFact]
    public async Task Migrate_OnAFreshPostgreSql_AppliesEverythingAndANodeWithoutMigrationsStarts()
    {
        await using var database = new ProvisioningDatabase(postgreSql: true);
        var directory = Directory.CreateTempSubdirectory("identityhub-migrate-");
        try
        {
            await using var migrate = ServerProcess.Start(Settings(database), directory.FullName, arguments: ["migrate"]);
            var exitCode = await migrate.WaitForExitAsync(ServerProcess.StartPatience);
            output.WriteLine(migrate.Output);

            Assert.True(exitCode == 0, migrate.Output);
            Assert.Contains("created the database", migrate.Output, StringComparison.Ordinal);
            Assert.Contains("created the first administrator 'admin'", migrate.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("Now listening", migrate.Output, StringComparison.Ordinal);
            await using var node = await database.StartServerAsync("after-migrate", new Dictionary<string, string> { ["Database:ApplyMigrations"] = "false" });
            await AssertStartedOnceAsync(database, bootstrapClient: true);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [PrerequisiteFact]
    public async Task Start_WithoutMigrationsOnAFreshPostgreSql_RefusesInOneLine()
    {
        await using var database = new ProvisioningDatabase(postgreSql: true);
        var directory = Directory.CreateTempSubdirectory("identityhub-nomigrate-");
        try
        {
            var settings = Settings(database);
            settings["Database:ApplyMigrations"] = "false";
            await using var node = ServerProcess.Start(settings, directory.FullName);
            var exitCode = await node.WaitForExitAsync(ServerProcess.StartPatience);

            Assert.True(exitCode == 1, node.Output);
            var refusal = Assert.Single(node.Output.Split('\n'), line => line.Contains("IdentityHub cannot start", StringComparison.Ordinal));
            Assert.Contains("The PostgreSql database lacks", refusal, StringComparison.Ordinal);
            Assert.Contains("dotnet IdentityHub.Server.dll migrate", refusal, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", node.Output, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [PrerequisiteTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Start_WhileAnotherHoldsTheStartupLockPastTheTimeout_RefusesNamingTheLock(bool postgreSql)
    {
        await using var database = new ProvisioningDatabase(postgreSql);
        var directory = Directory.CreateTempSubdirectory("identityhub-locked-");
        try
        {
            await database.RunAsync(async services =>
            {
                var db = services.GetRequiredService<IdentityHubDbContext>();
                IdentityHub.Data.Cluster.IStartupLock startupLock = postgreSql ? new PostgreSqlStartupLock() : new SqliteStartupLock();
                await startupLock.CreateDatabaseAsync(db, CancellationToken.None);
                await using var held = await startupLock.TryAcquireAsync(db, CancellationToken.None);
                Assert.NotNull(held);
                Assert.Null(await startupLock.TryAcquireAsync(db, CancellationToken.None));

                var settings = Settings(database);
                settings["Database:StartupLockTimeout"] = "00:00:03";
                await using var node = ServerProcess.Start(settings, directory.FullName);
                var exitCode = await node.WaitForExitAsync(ServerProcess.StartPatience);

                Assert.True(exitCode == 1, node.Output);
                Assert.Contains("Waiting for another node's start-up", node.Output, StringComparison.Ordinal);
                var refusal = Assert.Single(node.Output.Split('\n'), line => line.Contains("IdentityHub cannot start", StringComparison.Ordinal));
                Assert.Contains("Waited 00:00:03 for the start-up lock", refusal, StringComparison.Ordinal);
                Assert.Contains(postgreSql ? "advisory lock" : ".startup.lock", refusal, StringComparison.Ordinal);
                Assert.Contains("Database:StartupLockTimeout", refusal, StringComparison.Ordinal);
                return true;
            });
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [PrerequisiteFact]
    public async Task Start_TwoNodesAtOnceOnAFreshSqliteFile_BothReadyWithOneAdministrator()
    {
        await using var database = new ProvisioningDatabase(postgreSql: false);
        var servers = await StartAtOnceAsync(database, 2, "sqlite", extra: null);
        try
        {
            await AssertStartedOnceAsync(database, bootstrapClient: true);
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>Starts the nodes together and waits until all are ready; stops the ready ones if any fails.</summary>
    private static async Task<List<ServerProcess>> StartAtOnceAsync(
        ProvisioningDatabase database, int count, string prefix, IReadOnlyDictionary<string, string>? extra)
    {
        var starts = Enumerable.Range(1, count).Select(i => database.StartServerAsync($"{prefix}-node{i}", extra)).ToList();
        try
        {
            await Task.WhenAll(starts);
        }
        catch
        {
            foreach (var start in starts.Where(s => s.IsCompletedSuccessfully))
            {
                await start.Result.DisposeAsync();
            }

            throw;
        }

        return starts.Select(s => s.Result).ToList();
    }

    private static Dictionary<string, string> Settings(ProvisioningDatabase database) => new()
    {
        ["Database:Provider"] = database.IsPostgreSql ? "PostgreSql" : "Sqlite",
        ["ConnectionStrings:IdentityHub"] = database.ConnectionString,
        ["Bootstrap:AdminPassword"] = "Startup-Admin-Password-1",
        ["Bootstrap:AdminClientSecret"] = ProvisioningDatabase.AdminClientSecret,
        ["Oidc:RequireHttps"] = "false",
    };

    /// <summary>The start-up work happened once: one administrator, one bootstrap client, one key per use, every migration.</summary>
    private static Task<bool> AssertStartedOnceAsync(ProvisioningDatabase database, bool bootstrapClient) => database.RunAsync(async services =>
    {
        var db = services.GetRequiredService<IdentityHubDbContext>();
        Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync());

        Assert.Equal(1, await db.Users.CountAsync(u => u.UserName == FirstAdministrator.UserName));
        var superAdmins = await (
            from membership in db.UserRoles
            join role in db.Roles on membership.RoleId equals role.Id
            where role.Name == AdminRoles.SuperAdmin
            select membership.UserId).ToListAsync();
        Assert.Single(superAdmins);
        Assert.Equal(AdminRoles.All.Count, await db.Roles.CountAsync(r => AdminRoles.All.Contains(r.Name!)));

        var clients = await db.Set<OpenIddictEntityFrameworkCoreApplication>().CountAsync(a => a.ClientId == BootstrapClientId);
        Assert.Equal(bootstrapClient ? 1 : 0, clients);

        // A fresh start creates generation 1 of each use, active at once; a second node's key would be generation 2.
        var now = DateTimeOffset.UtcNow;
        var keys = await db.SigningKeys.AsNoTracking().ToListAsync();
        foreach (var use in new[] { KeyUses.Signing, KeyUses.Encryption })
        {
            var key = Assert.Single(keys, k => k.Use == use);
            Assert.Equal(1, key.Generation);
            Assert.True(key.ActivatesAt <= now && key.RetiredAt is null && key.RemovedAt is null, $"the {use} key is not active");
        }

        return true;
    });
}
