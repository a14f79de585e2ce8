using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using IdentityHub.Testing;
using Xunit.Abstractions;
using static IdentityHub.Server.IntegrationTests.AdminApi.AdminCallers;

namespace IdentityHub.Server.IntegrationTests.AdminApi;

/// <summary>
/// Times a CSV import of many users (dry run, then commit) through the admin API on a real database, and prints
/// the figures. It checks that the import succeeded, never how long it took. bench/csv-import.sh runs it with
/// 10,000 rows (IDENTITYHUB_BENCH_USERS); test.sh leaves Category=Benchmark to bench/.
/// </summary>
public abstract class CsvImportBenchmark<TFactory>(TFactory factory, ITestOutputHelper output) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private static readonly int Users =
        int.TryParse(Environment.GetEnvironmentVariable("IDENTITYHUB_BENCH_USERS"), CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 300;
    private const int DepartmentCount = 100;

    [PrerequisiteFact]
    [Trait("Category", "Benchmark")]
    public async Task ImportUsers_ManyRows_PrintsDryRunAndCommitTimes()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        admin.Timeout = TimeSpan.FromMinutes(20);
        var run = NewCode("B");
        var departments = new StringBuilder("code,name,parentCode\n");
        for (var d = 0; d < DepartmentCount; d++)
        {
            departments.Append(CultureInfo.InvariantCulture, $"{run}-D{d},Department {d},{(d == 0 ? "" : $"{run}-D0")}\n");
        }

        await JsonAsync(await PostCsvAsync(admin, "departments?dryRun=false", departments.ToString()), HttpStatusCode.OK);
        var users = new StringBuilder("employeeNumber,userName,displayName,email,phoneNumber,departmentCode,managerEmployeeNumber\n");
        for (var u = 0; u < Users; u++)
        {
            users.Append(CultureInfo.InvariantCulture,
                $"{run}-{u:D5},{run}-user{u:D5},Person {u},p{u}.{run}@example.com,+86 10 5555 {u:D4},{run}-D{u % DepartmentCount},{(u % 50 == 0 ? "" : $"{run}-{u - u % 50:D5}")}\n");
        }

        var csv = users.ToString();
        var dryRun = Stopwatch.StartNew();
        var dry = await JsonAsync(await PostCsvAsync(admin, "users", csv), HttpStatusCode.OK);
        dryRun.Stop();
        var commit = Stopwatch.StartNew();
        var committed = await JsonAsync(await PostCsvAsync(admin, "users?dryRun=false", csv), HttpStatusCode.OK);
        commit.Stop();

        Assert.Equal(Users, dry.GetProperty("created").GetInt32());
        Assert.Equal(Users, committed.GetProperty("created").GetInt32());
        var line = string.Create(CultureInfo.InvariantCulture,
            $"csv-import {factory.Provider}: {Users} users, dry run {dryRun.Elapsed.TotalSeconds:F1} s ({Users / dryRun.Elapsed.TotalSeconds:F0} rows/s), commit {commit.Elapsed.TotalSeconds:F1} s ({Users / commit.Elapsed.TotalSeconds:F0} rows/s)");
        output.WriteLine(line);
        if (Environment.GetEnvironmentVariable("IDENTITYHUB_BENCH_OUT") is { Length: > 0 } file)
        {
            await File.AppendAllTextAsync(file, line + Environment.NewLine);
        }
    }

    private static Task<HttpResponseMessage> PostCsvAsync(HttpClient client, string pathAndQuery, string csv) =>
        client.PostAsync($"{Import}/{pathAndQuery}", new StringContent(csv, Encoding.UTF8, "text/csv"));
}

public sealed class SqliteCsvImportBenchmark(SqliteFactory factory, ITestOutputHelper output) : CsvImportBenchmark<SqliteFactory>(factory, output);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlCsvImportBenchmark(PostgreSqlFactory factory, ITestOutputHelper output) : CsvImportBenchmark<PostgreSqlFactory>(factory, output);
