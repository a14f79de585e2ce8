using System.Text.RegularExpressions;
using IdentityHub.Core.Directory;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;

namespace IdentityHub.Server.IntegrationTests.Admin;

/// <summary>Issue 17 §5: the dashboard's counts link to their lists; every console page links to the API docs.</summary>
public abstract class DashboardTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly ConsoleDriver _console = new(factory);

    [PrerequisiteFact]
    public async Task Dashboard_Counts_LinkToTheListsTheReaderMayOpen()
    {
        var super = await _console.AdminAsync();
        var hr = await _console.SignedInAsync(AdminRoles.HrAdmin);

        var all = await super.GetStringAsync("/admin");
        var hrs = await hr.GetStringAsync("/admin");

        foreach (var (count, list) in new[] { ("users", "/admin/users"), ("departments", "/admin/departments"), ("applications", "/admin/applications"),
                     ("roles", "/admin/roles"), ("assignments", "/admin/assignments"), ("connectors", "/admin/provisioning") })
        {
            Assert.Matches($"data-testid=\"count-{count}\"><a href=\"{Regex.Escape(list)}\">[0-9]+</a>", all);
        }

        // HR administrators do not read applications or roles: those counts are plain numbers for them.
        Assert.Matches("data-testid=\"count-applications\">[0-9]+</dd>", hrs);
        Assert.Matches("data-testid=\"count-users\"><a href=\"/admin/users\">", hrs);
    }

    [PrerequisiteFact]
    public async Task ConsoleLayout_AnyPage_LinksToTheApiDocsInBothLanguages()
    {
        var english = await _console.AdminAsync();
        var chinese = await _console.AdminAsync("zh-CN");

        Assert.Contains("<a href=\"/api/docs\" data-testid=\"nav-api-docs\">API docs</a>", await english.GetStringAsync("/admin/users"), StringComparison.Ordinal);
        Assert.Contains("<a href=\"/api/docs\" data-testid=\"nav-api-docs\">API 文档</a>", await chinese.GetStringAsync("/admin/departments"), StringComparison.Ordinal);
    }
}

public sealed class SqliteDashboardTests(SqliteFactory factory) : DashboardTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlDashboardTests(PostgreSqlFactory factory) : DashboardTests<PostgreSqlFactory>(factory);

/// <summary>
/// Issue 17 §5: the dashboard guides an empty installation (first application, its first connected system, people).
/// A server of its own with this one test: it must start empty.
/// </summary>
public abstract class EmptyInstallationTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly ConsoleDriver _console = new(factory);

    [PrerequisiteFact]
    public async Task Dashboard_EmptyInstallationThenAnApplication_ShowsTheChecklistAndTicksTheFirstStep()
    {
        var console = await _console.AdminAsync();

        var empty = await console.GetStringAsync("/admin");
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        await AdminApiClient.CreateApplicationAsync(admin);
        var afterApplication = await console.GetStringAsync("/admin");

        Assert.Contains("data-testid=\"next-steps\"", empty, StringComparison.Ordinal);
        Assert.Equal(["application", "connector", "people"], Steps(empty, done: false));
        Assert.Contains("<a href=\"/admin/applications#create-heading\">Create the first application</a>", empty, StringComparison.Ordinal);
        Assert.Contains("<a href=\"/admin/provisioning\">Connect its first system</a>", empty, StringComparison.Ordinal);
        Assert.Contains("<a href=\"/admin/users/edit\">Add people or import a CSV</a>", empty, StringComparison.Ordinal);
        Assert.Equal(["application"], Steps(afterApplication, done: true));
        Assert.Equal(["connector", "people"], Steps(afterApplication, done: false));
    }

    /// <summary>The keys of the checklist's steps that are (or are not) done, in order.</summary>
    private static List<string> Steps(string html, bool done) =>
        [.. Regex.Matches(html, $"data-testid=\"step-([a-z]+)\" data-done=\"{(done ? "true" : "false")}\"").Select(m => m.Groups[1].Value)];
}

public sealed class SqliteEmptyInstallationTests(SqliteFactory factory) : EmptyInstallationTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlEmptyInstallationTests(PostgreSqlFactory factory) : EmptyInstallationTests<PostgreSqlFactory>(factory);
