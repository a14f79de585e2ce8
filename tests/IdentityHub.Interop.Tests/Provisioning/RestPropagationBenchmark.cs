using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Core.Access;
using IdentityHub.Data;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace IdentityHub.Interop.Tests.Provisioning;

/// <summary>
/// How long a role assignment takes to reach a vendor REST API: a real server process with one REST connector (the expense
/// preset) to the 合思-style stand-in, N grants through the admin API one after another, each timed from the moment the API
/// call returned to the moment the vendor applied the new version. Prints p50/p90/p99/max; checks every change arrived,
/// never how fast. bench/rest-propagation.sh runs it (IDENTITYHUB_BENCH_CHANGES, 30 otherwise); test.sh leaves
/// Category=Benchmark to bench/.
/// </summary>
public abstract class RestPropagationBenchmark(bool postgreSql, ITestOutputHelper output)
{
    private static readonly int Changes =
        int.TryParse(Environment.GetEnvironmentVariable("IDENTITYHUB_BENCH_CHANGES"), CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 30;

    private const int WarmUp = 5;

    [PrerequisiteFact]
    [Trait("Category", "Benchmark")]
    public async Task GrantThroughAdminApi_OneRestConnector_PrintsApiReturnedToVendorAppliedPercentiles()
    {
        await using var database = new ProvisioningDatabase(postgreSql);
        await using var vendor = await ExpenseVendor.StartNewAsync();
        await using var server = await database.StartServerAsync("bench", new Dictionary<string, string> { ["Serilog:MinimumLevel:Default"] = "Warning" });
        using var admin = await ProvisioningDatabase.AdminApiAsync(server);
        var applicationId = await ProvisioningDatabase.CreateApplicationAsync(admin, "Expense");
        using (var created = await admin.PostAsJsonAsync($"api/admin/v1/applications/{applicationId}/connectors", new
        {
            kind = "rest", name = "expense", preset = "expense",
            settings = new JsonObject { ["baseUrl"] = vendor.ApiBaseUrl.AbsoluteUri, ["auth"] = new JsonObject { ["appKey"] = ExpenseVendor.AppKey } },
            secret = ExpenseVendor.AppSecret,
        }))
        {
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        }

        var users = await database.CreateUsersAsync(WarmUp + Changes, "bench", applicationId);
        await WaitUntilAsync(() => vendor.EmployeesByNumber.Count == users.Count, TimeSpan.FromMinutes(5));
        var approver = await database.RunAsync(async s =>
        {
            var permission = await s.GetRequiredService<Permissions>().CreateAsync(applicationId, new PermissionInput("expense.approve", null, new Dictionary<string, string> { ["amountLimit"] = "5000" }), CancellationToken.None);
            return (await s.GetRequiredService<Roles>().CreateAsync(new RoleInput(applicationId, "approver", null, false, [new RolePermissionInput(permission.Id)]), CancellationToken.None)).Id;
        });
        var numbers = await database.RunAsync(s => s.GetRequiredService<IdentityHubDbContext>().Users.AsNoTracking()
            .Where(u => users.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.EmployeeNumber!));

        var latencies = new List<double>();
        foreach (var (userId, index) in users.Select((u, i) => (u, i)))
        {
            var number = numbers[userId];
            var held = vendor.Employee(number)!.Version;
            using var granted = await admin.PostAsJsonAsync("api/admin/v1/assignments", new { userId, roleId = approver, reason = "bench" });
            var returned = Stopwatch.GetTimestamp();
            Assert.True(granted.IsSuccessStatusCode, await granted.Content.ReadAsStringAsync());
            await WaitUntilAsync(() => vendor.AppliedAt(number, v => v > held) is not null, TimeSpan.FromSeconds(60));
            if (index >= WarmUp)
            {
                latencies.Add(Stopwatch.GetElapsedTime(returned, vendor.AppliedAt(number, v => v > held)!.Value).TotalMilliseconds);
            }
        }

        latencies.Sort();
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{(postgreSql ? "PostgreSQL" : "SQLite")}: {latencies.Count} grants, API returned -> vendor applied: p50 {Percentile(latencies, 50):0} ms, p90 {Percentile(latencies, 90):0} ms, p99 {Percentile(latencies, 99):0} ms, max {latencies[^1]:0} ms, mean {latencies.Average():0} ms");
        output.WriteLine(line);
        if (Environment.GetEnvironmentVariable("IDENTITYHUB_BENCH_OUT") is { Length: > 0 } file)
        {
            await File.AppendAllTextAsync(file, line + Environment.NewLine);
        }

        Assert.All(users, u => Assert.Contains("approver", vendor.Employee(numbers[u])!.Roles));
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    private static double Percentile(List<double> sorted, int percent) => sorted[Math.Clamp((int)Math.Ceiling(percent / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan patience)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < patience, $"Not reached within {patience}.");
            await Task.Delay(2);
        }
    }
}

public sealed class SqliteRestPropagationBenchmark(ITestOutputHelper output) : RestPropagationBenchmark(postgreSql: false, output);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlRestPropagationBenchmark(ITestOutputHelper output) : RestPropagationBenchmark(postgreSql: true, output);
