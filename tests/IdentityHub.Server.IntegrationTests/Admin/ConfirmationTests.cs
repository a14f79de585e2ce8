using System.Net;
using System.Net.Http.Json;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Data.Provisioning;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static IdentityHub.Server.IntegrationTests.AdminApi.AdminCallers;

namespace IdentityHub.Server.IntegrationTests.Admin;

/// <summary>
/// Issue 17 §5: destructive and irreversible console actions go through a confirmation step (a GET that says what will
/// happen, changing nothing), are done by its POST, and the notice afterwards says what happened.
/// </summary>
public abstract class ConfirmationTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly ConsoleDriver _console = new(factory);

    [PrerequisiteTheory]
    [InlineData(null, "Delete the department '{0}'", "It holds 0 person(s) and 0 sub-department(s)", "Department '{0}' deleted")]
    [InlineData("zh-CN", "删除部门“{0}”", "其下有 0 名人员、0 个子部门", "已删除部门“{0}”")]
    public async Task DeleteDepartment_Confirmed_SaysWhatHappensDeletesAndNamesItAfterwards(string? language, string title, string holds, string notice)
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var name = "Sales East " + NewCode("x");
        var id = await CreateDepartmentAsync(admin, name: name);
        var console = await _console.AdminAsync(language);
        var page = $"/admin/departments?confirm=delete&id={id}";

        var dialog = ConsoleDriver.Dialog(await console.GetStringAsync(page), "delete-department");

        Assert.NotNull(dialog);
        Assert.Contains(string.Format(System.Globalization.CultureInfo.InvariantCulture, title, name), ConsoleDriver.Text(dialog), StringComparison.Ordinal);
        Assert.Contains(ConsoleDriver.Consequences(dialog), c => c.Contains(holds, StringComparison.Ordinal));
        Assert.Contains("data-testid=\"confirm-yes\"", dialog, StringComparison.Ordinal);
        Assert.True(await DepartmentExistsAsync(id), "Showing the confirmation must change nothing.");

        var deleted = await ConsoleDriver.ConfirmAsync(console, page, "delete-department");

        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, notice, name), await ConsoleDriver.NoticeAfterAsync(console, deleted));
        Assert.False(await DepartmentExistsAsync(id));
    }

    [PrerequisiteFact]
    public async Task DeleteDepartment_WithAPerson_ConfirmationShowsTheRefusalAndOffersNoDelete()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await CreateDepartmentAsync(admin);
        await CreateUserAsync(admin, id);
        var console = await _console.AdminAsync();
        var page = $"/admin/departments?confirm=delete&id={id}";

        var dialog = ConsoleDriver.Dialog(await console.GetStringAsync(page), "delete-department");
        var forced = await ConsoleDriver.ConfirmAsync(console, page, "delete-department");

        Assert.NotNull(dialog);
        Assert.Contains("still has 1 user(s); move them to another department first.", ConsoleDriver.Text(dialog), StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"confirm-yes\"", dialog, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, forced.StatusCode);
        Assert.True(await DepartmentExistsAsync(id));
    }

    [PrerequisiteFact]
    public async Task DeleteDepartment_ChangedAfterTheConfirmationWasShown_IsRefusedAsStaleAndKept()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await CreateDepartmentAsync(admin);
        var console = await _console.AdminAsync();
        var shown = await console.GetStringAsync($"/admin/departments?confirm=delete&id={id}");
        var code = (await JsonAsync(await admin.GetAsync($"{AdminCallers.Departments}/{id}"), HttpStatusCode.OK)).GetProperty("code").GetString();
        await JsonAsync(await admin.PutAsJsonAsync($"{AdminCallers.Departments}/{id}", new { code, name = "Renamed " + NewCode("x") }), HttpStatusCode.OK);

        var stale = await ConsoleDriver.PostDialogAsync(console, shown, "delete-department");

        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Contains("changed by someone else since you read it", await stale.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(await DepartmentExistsAsync(id));
    }

    [PrerequisiteFact]
    public async Task MarkLeft_Confirmed_CountsWhatEndsAndTheSystemsTold_ThenNamesThePerson()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (application, _, role) = await CreateRoleAsync(admin);
        var (_, _, other) = await CreateRoleAsync(admin);
        var displayName = "Li Lei " + NewCode("x");
        var user = await CreateUserAsync(admin, displayName: displayName);
        await PostAsync(admin, Assignments, new { userId = user, roleId = role, reason = "Approves" });
        await PostAsync(admin, Assignments, new { userId = user, roleId = other, reason = "Approves elsewhere" });
        var (applicationName, connector) = await AddPausedConnectorAsync(application);
        var console = await _console.AdminAsync();
        var page = $"/admin/users/{user}?confirm=left";

        var dialog = ConsoleDriver.Dialog(await console.GetStringAsync(page), "left");

        Assert.NotNull(dialog);
        var consequences = ConsoleDriver.Consequences(dialog);
        Assert.Contains($"Mark {displayName} as left?", ConsoleDriver.Text(dialog), StringComparison.Ordinal);
        Assert.Contains("Signs them out everywhere: 0 browser session(s) end and 0 valid token(s) are revoked.", consequences);
        Assert.Contains("Ends their 2 open assignment(s); ended assignments stay in the history.", consequences);
        Assert.Contains($"Tells 1 connected system(s) to remove them: {applicationName} · {connector}.", consequences);
        Assert.Equal(UserStatus.Active, await StatusAsync(user));

        var left = await ConsoleDriver.ConfirmAsync(console, page, "left", new() { ["reason"] = "Resigned" });

        Assert.Equal($"{displayName} marked as left", await ConsoleDriver.NoticeAfterAsync(console, left));
        Assert.Equal(UserStatus.Left, await StatusAsync(user));
        Assert.Equal(0, await InDatabaseAsync(factory, db => db.RoleAssignments.CountAsync(a => a.UserId == user && a.EndedAt == null)));
    }

    [PrerequisiteFact]
    public async Task Suspend_Confirmed_SaysAssignmentsStayThenSuspendsAndNamesThePerson()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (_, _, role) = await CreateRoleAsync(admin);
        var displayName = "Han Meimei " + NewCode("x");
        var user = await CreateUserAsync(admin, displayName: displayName);
        await PostAsync(admin, Assignments, new { userId = user, roleId = role, reason = "Approves" });
        var console = await _console.AdminAsync();
        var page = $"/admin/users/{user}?confirm=suspend";

        var dialog = ConsoleDriver.Dialog(await console.GetStringAsync(page), "suspend");
        var suspended = await ConsoleDriver.ConfirmAsync(console, page, "suspend");

        Assert.NotNull(dialog);
        Assert.Contains("Their 1 open assignment(s) are kept and count again after reactivation.", ConsoleDriver.Consequences(dialog));
        Assert.Contains("No connected system hears of them.", ConsoleDriver.Consequences(dialog));
        Assert.Equal($"{displayName} suspended", await ConsoleDriver.NoticeAfterAsync(console, suspended));
        Assert.Equal(UserStatus.Suspended, await StatusAsync(user));
        Assert.Equal(1, await InDatabaseAsync(factory, db => db.RoleAssignments.CountAsync(a => a.UserId == user && a.EndedAt == null)));
    }

    [PrerequisiteFact]
    public async Task EndAssignment_Confirmed_NamesRolePersonAndLostPermissions_ThenEndsItAndGoesBackToThePerson()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (_, _, role) = await CreateRoleAsync(admin);
        var roleName = (await JsonAsync(await admin.GetAsync($"{Roles}/{role}"), HttpStatusCode.OK)).GetProperty("name").GetString();
        var displayName = "Wang Fang " + NewCode("x");
        var user = await CreateUserAsync(admin, displayName: displayName);
        var assignment = (await PostAsync(admin, Assignments, new { userId = user, roleId = role, reason = "Approves" })).GetProperty("id").GetGuid();
        var console = await _console.AdminAsync();
        var userPage = await console.GetStringAsync($"/admin/users/{user}");
        var page = $"/admin/assignments?confirm=end&id={assignment}&returnTo={user}";

        var dialog = ConsoleDriver.Dialog(await console.GetStringAsync(page), "end");
        var ended = await ConsoleDriver.ConfirmAsync(console, page, "end", new() { ["reason"] = "Moved to sales" });

        Assert.Contains($"/admin/assignments?confirm=end&amp;id={assignment}&amp;returnTo={user}", userPage, StringComparison.Ordinal);
        Assert.NotNull(dialog);
        Assert.Contains($"End the role '{roleName}' for {displayName}?", ConsoleDriver.Text(dialog), StringComparison.Ordinal);
        Assert.Contains($"{displayName} loses the permissions expense.approve, unless another assignment grants them.", ConsoleDriver.Consequences(dialog));
        Assert.Equal($"/admin/users/{user}", ended.Headers.Location?.ToString());
        Assert.Equal($"Role '{roleName}' ended for {displayName}", await ConsoleDriver.NoticeAfterAsync(console, ended));
        var stored = await InDatabaseAsync(factory, db => db.RoleAssignments.AsNoTracking().SingleAsync(a => a.Id == assignment));
        Assert.NotNull(stored.EndedAt);
        Assert.Equal("Moved to sales", stored.EndReason);
    }

    [PrerequisiteFact]
    public async Task DeleteRole_Unused_IsConfirmedThenDeletedAndNamed()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var name = NewCode("clerk");
        var role = (await PostAsync(admin, Roles, new { name, displayName = "Clerk" })).GetProperty("id").GetGuid();
        var console = await _console.AdminAsync();
        var page = $"/admin/roles/{role}?confirm=delete";

        var dialog = ConsoleDriver.Dialog(await console.GetStringAsync(page), "delete-role");
        var deleted = await ConsoleDriver.ConfirmAsync(console, page, "delete-role");

        Assert.NotNull(dialog);
        Assert.Contains("It bundles no permissions.", ConsoleDriver.Consequences(dialog));
        Assert.Contains("No one holds it: it has no assignments, current or ended.", ConsoleDriver.Consequences(dialog));
        Assert.Equal("/admin/roles", deleted.Headers.Location?.ToString());
        Assert.Equal($"Role 'Clerk · {name}' deleted", await ConsoleDriver.NoticeAfterAsync(console, deleted));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{Roles}/{role}")).StatusCode);
    }

    [PrerequisiteFact]
    public async Task DeleteRole_Assigned_ConfirmationShowsTheRefusalAndOffersNoDelete()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (application, _, role) = await CreateRoleAsync(admin);
        await PostAsync(admin, Assignments, new { userId = await CreateUserAsync(admin), roleId = role, reason = "Approves" });
        var console = await _console.AdminAsync();

        var dialog = ConsoleDriver.Dialog(await console.GetStringAsync($"/admin/roles/{role}?confirm=delete"), "delete-role");

        Assert.NotNull(dialog);
        Assert.Contains("It has 1 assignment(s), 1 of them valid now.", ConsoleDriver.Consequences(dialog));
        Assert.Contains("has 1 assignment(s), kept as history; it cannot be deleted.", ConsoleDriver.Text(dialog), StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"confirm-yes\"", dialog, StringComparison.Ordinal);
        Assert.Contains($"href=\"/admin/roles/{role}\"", dialog, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"{AdminApiClient.Applications}/{application}")).StatusCode);
    }

    [PrerequisiteFact]
    public async Task DeletePermission_Unused_IsConfirmedThenDeletedAndNamed()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var application = await AdminApiClient.CreateApplicationAsync(admin);
        var permission = (await PostAsync(admin, $"{AdminApiClient.Applications}/{application}/permissions", new { name = "leave.approve" })).GetProperty("id").GetGuid();
        var console = await _console.AdminAsync();
        var page = $"/admin/applications/{application}/permissions/{permission}?confirm=delete";

        var dialog = ConsoleDriver.Dialog(await console.GetStringAsync(page), "delete-permission");
        var deleted = await ConsoleDriver.ConfirmAsync(console, page, "delete-permission");

        Assert.NotNull(dialog);
        Assert.Contains("Delete the permission 'leave.approve'", ConsoleDriver.Text(dialog), StringComparison.Ordinal);
        Assert.Contains("No role bundles it, so no one holds it.", ConsoleDriver.Consequences(dialog));
        Assert.Equal($"/admin/applications/{application}#permissions-heading", deleted.Headers.Location?.ToString());
        Assert.Equal("Permission 'leave.approve' deleted", await ConsoleDriver.NoticeAfterAsync(console, deleted));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{AdminApiClient.Applications}/{application}/permissions/{permission}")).StatusCode);
    }

    [PrerequisiteFact]
    public async Task DeleteApplication_WithoutRoles_SaysWhatGoesWithItThenDeletesAndNamesIt()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var name = "Attendance " + NewCode("x");
        var application = await AdminApiClient.CreateApplicationAsync(admin, name);
        await PostAsync(admin, $"{AdminApiClient.Applications}/{application}/permissions", new { name = "leave.approve" });
        var console = await _console.AdminAsync();
        var page = $"/admin/applications/{application}?confirm=delete";

        var dialog = ConsoleDriver.Dialog(await console.GetStringAsync(page), "delete-application");
        var deleted = await ConsoleDriver.ConfirmAsync(console, page, "delete-application");

        Assert.NotNull(dialog);
        Assert.Contains("Its 1 permission(s) are deleted with it.", ConsoleDriver.Consequences(dialog));
        Assert.Equal("/admin/applications", deleted.Headers.Location?.ToString());
        Assert.Equal($"Application '{name}' deleted", await ConsoleDriver.NoticeAfterAsync(console, deleted));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{AdminApiClient.Applications}/{application}")).StatusCode);
    }

    [PrerequisiteFact]
    public async Task DeleteApplication_WithARole_ConfirmationNamesTheRoleAndOffersNoDelete()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (application, _, role) = await CreateRoleAsync(admin);
        var roleName = (await JsonAsync(await admin.GetAsync($"{Roles}/{role}"), HttpStatusCode.OK)).GetProperty("name").GetString();
        var console = await _console.AdminAsync();

        var dialog = ConsoleDriver.Dialog(await console.GetStringAsync($"/admin/applications/{application}?confirm=delete"), "delete-application");

        Assert.NotNull(dialog);
        Assert.Contains($"role(s) '{roleName}' (0 assignment(s))", ConsoleDriver.Text(dialog), StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"confirm-yes\"", dialog, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task DeleteSodRule_Confirmed_SaysWhatItAllowsThenDeletesAndNamesIt()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (_, _, submit) = await CreateRoleAsync(admin, permission: "expense.submit");
        var (_, _, approve) = await CreateRoleAsync(admin);
        var name = NewCode("submit-vs-approve");
        var rule = (await PostAsync(admin, SodRules, new { name, firstRoleId = submit, secondRoleId = approve })).GetProperty("id").GetGuid();
        var console = await _console.AdminAsync();
        var page = $"/admin/separation-of-duty?confirm=delete&id={rule}";

        var dialog = ConsoleDriver.Dialog(await console.GetStringAsync(page), "delete-sod-rule");
        var deleted = await ConsoleDriver.ConfirmAsync(console, page, "delete-sod-rule");

        Assert.NotNull(dialog);
        Assert.Contains(ConsoleDriver.Consequences(dialog), c => c.StartsWith("Once it is deleted, the same person may hold", StringComparison.Ordinal));
        Assert.Equal($"Separation-of-duty rule '{name}' deleted", await ConsoleDriver.NoticeAfterAsync(console, deleted));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{SodRules}/{rule}")).StatusCode);
    }

    [PrerequisiteFact]
    public async Task Confirmation_AuditorWhoMayNotWrite_IsNotShownAndTheLinksAreNot()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var department = await CreateDepartmentAsync(admin);
        var user = await CreateUserAsync(admin);
        var auditor = await _console.SignedInAsync(AdminRoles.Auditor);

        var departments = await auditor.GetStringAsync($"/admin/departments?confirm=delete&id={department}");
        var person = await auditor.GetStringAsync($"/admin/users/{user}?confirm=left");

        Assert.DoesNotContain("<dialog", departments, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"delete-department\"", departments, StringComparison.Ordinal);
        Assert.DoesNotContain("<dialog", person, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"mark-left\"", person, StringComparison.Ordinal);
    }

    /// <summary>A paused SCIM connector of the application (paused: nothing is sent to its dead address); returns the names a confirmation shows.</summary>
    private async Task<(string Application, string Connector)> AddPausedConnectorAsync(Guid applicationId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var name = NewCode("scim");
        db.Connectors.Add(new Connector
        {
            Id = Guid.NewGuid(), ApplicationId = applicationId, Name = name, Kind = ConnectorKind.Scim, Paused = true,
            Settings = """{"baseUrl":"http://127.0.0.1:9/scim/v2"}""", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
        });
        await db.SaveChangesAsync();
        return (await db.Applications.Where(a => a.Id == applicationId).Select(a => a.Name).SingleAsync(), name);
    }

    private Task<bool> DepartmentExistsAsync(Guid id) => InDatabaseAsync(factory, db => db.Departments.AnyAsync(d => d.Id == id));

    private Task<UserStatus> StatusAsync(string id) =>
        InDatabaseAsync(factory, db => db.Users.Where(u => u.Id == id).Select(u => u.Status).SingleAsync());
}

public sealed class SqliteConfirmationTests(SqliteFactory factory) : ConfirmationTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlConfirmationTests(PostgreSqlFactory factory) : ConfirmationTests<PostgreSqlFactory>(factory);
