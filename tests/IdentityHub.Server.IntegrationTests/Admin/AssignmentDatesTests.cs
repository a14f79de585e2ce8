using System.Net;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using static IdentityHub.Server.IntegrationTests.AdminApi.AdminCallers;

namespace IdentityHub.Server.IntegrationTests.Admin;

/// <summary>
/// Issue 17 §5: an end date entered as "2031-06-30, last day included" is stored as the exclusive instant
/// 2031-07-01T00:00Z (what the admin API promises) and shown as entered wherever the console shows the assignment.
/// </summary>
public abstract class AssignmentDatesTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly ConsoleDriver _console = new(factory);

    [PrerequisiteTheory]
    [InlineData(null, "2031-06-30 (last day included)", "until 2031-06-30 (last day included)")]
    [InlineData("zh-CN", "2031-06-30（含当日）", "起至 2031-06-30（含当日）")]
    public async Task AssignmentForm_LastDayIncluded_IsStoredAsTheNextMidnightAndShownAsEntered(string? language, string shown, string reason)
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (_, _, role) = await CreateRoleAsync(admin);
        var roleName = (await JsonAsync(await admin.GetAsync($"{Roles}/{role}"), HttpStatusCode.OK)).GetProperty("name").GetString()!;
        var user = await CreateUserAsync(admin);
        var console = await _console.AdminAsync(language);

        var granted = await ConsoleDriver.PostAsync(console, "/admin/assignments/new", "/admin/assignments/new", new()
        {
            ["Input.UserId"] = user,
            ["Input.RoleId"] = role.ToString(),
            ["Input.ValidUntil"] = "2031-06-30",
            ["Input.Reason"] = "Until the end of June",
        });

        Assert.Equal(HttpStatusCode.Redirect, granted.StatusCode);
        var stored = Assert.Single((await JsonAsync(await admin.GetAsync($"{Users}/{user}/assignments"), HttpStatusCode.OK)).EnumerateArray());
        Assert.Equal(new DateTimeOffset(2031, 7, 1, 0, 0, 0, TimeSpan.Zero), stored.GetProperty("validUntil").GetDateTimeOffset());
        // The person's assignments and the reasons for their permissions (the audit trail below them keeps the stored instants).
        var personPage = await console.GetStringAsync($"/admin/users/{user}");
        var assignments = Table(personPage, "assignments");
        var permissions = Table(personPage, "effective-permissions");
        var list = Table(await console.GetStringAsync($"/admin/assignments?role={Uri.EscapeDataString(roleName)}"), "assignments");
        Assert.Contains(shown, assignments, StringComparison.Ordinal);
        Assert.Contains(reason, permissions, StringComparison.Ordinal);
        Assert.Contains(shown, list, StringComparison.Ordinal);
        Assert.All(new[] { assignments, permissions, list }, text => Assert.DoesNotContain("2031-07-01", text, StringComparison.Ordinal));
    }

    [PrerequisiteFact]
    public async Task AssignmentTable_EndSetThroughTheApiAtAnotherInstant_ShowsThatInstantInUtc()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (_, _, role) = await CreateRoleAsync(admin);
        var user = await CreateUserAsync(admin);
        await PostAsync(admin, Assignments, new { userId = user, roleId = role, validUntil = "2031-07-01T12:30:00+08:00", reason = "Until noon in Beijing" });
        var console = await _console.AdminAsync();

        var assignments = Table(await console.GetStringAsync($"/admin/users/{user}"), "assignments");

        Assert.Contains("2031-07-01 04:30 UTC", assignments, StringComparison.Ordinal);
        Assert.DoesNotContain("last day included", assignments, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task AssignmentForm_Refused_ShowsTheDatesAsTheyWereEntered()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (_, _, role) = await CreateRoleAsync(admin);
        var user = await CreateUserAsync(admin);
        var console = await _console.AdminAsync();

        var refused = await ConsoleDriver.PostAsync(console, "/admin/assignments/new", "/admin/assignments/new", new()
        {
            ["Input.UserId"] = user,
            ["Input.RoleId"] = role.ToString(),
            ["Input.ValidFrom"] = "2031-07-10",
            ["Input.ValidUntil"] = "2031-06-30",
            ["Input.Reason"] = "Backwards",
        });

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var html = await refused.Content.ReadAsStringAsync();
        Assert.Contains("name=\"Input.ValidUntil\" type=\"date\" value=\"2031-06-30\"", html, StringComparison.Ordinal);
        Assert.Contains("name=\"Input.ValidFrom\" type=\"date\" value=\"2031-07-10\"", html, StringComparison.Ordinal);
        Assert.Empty((await JsonAsync(await admin.GetAsync($"{Users}/{user}/assignments"), HttpStatusCode.OK)).EnumerateArray());
    }

    /// <summary>The text of the table marked <paramref name="testId"/>.</summary>
    private static string Table(string html, string testId)
    {
        var match = System.Text.RegularExpressions.Regex.Match(html, $"<table data-testid=\"{testId}\">.*?</table>", System.Text.RegularExpressions.RegexOptions.Singleline);
        Assert.True(match.Success, $"The page has no table {testId}.");
        return ConsoleDriver.Text(match.Value);
    }
}

public sealed class SqliteAssignmentDatesTests(SqliteFactory factory) : AssignmentDatesTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlAssignmentDatesTests(PostgreSqlFactory factory) : AssignmentDatesTests<PostgreSqlFactory>(factory);
