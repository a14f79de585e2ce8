using System.Net;
using System.Net.Http.Json;
using IdentityHub.Core.Directory;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using static IdentityHub.Server.IntegrationTests.AdminApi.AdminCallers;

namespace IdentityHub.Server.IntegrationTests.AdminApi;

/// <summary>Permissions, roles, assignments, separation of duty and delegated administration through the admin API.</summary>
public abstract class AccessApiTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    [PrerequisiteFact]
    public async Task Roles_CreateListByApplicationAndUpdate_KeepThePermissionParameters()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (application, permission, role) = await CreateRoleAsync(admin);
        await CreateRoleAsync(admin);

        var list = await JsonAsync(await admin.GetAsync($"{Roles}?applicationId={application}"), HttpStatusCode.OK);
        var read = await admin.GetAsync($"{Roles}/{role}");
        var current = await JsonAsync(read, HttpStatusCode.OK);
        var update = new HttpRequestMessage(HttpMethod.Put, $"{Roles}/{role}")
        {
            Content = JsonContent.Create(new { applicationId = application, name = current.GetProperty("name").GetString(), description = "Approves", delegable = true, permissions = new[] { new { permissionId = permission } } }),
        };
        update.Headers.IfMatch.ParseAdd(read.Headers.ETag!.ToString());
        var updated = await JsonAsync(await admin.SendAsync(update), HttpStatusCode.OK);

        var item = Assert.Single(list.GetProperty("items").EnumerateArray());
        Assert.Equal(role, item.GetProperty("id").GetGuid());
        Assert.Equal("20000", item.GetProperty("permissions")[0].GetProperty("parameters").GetProperty("amountLimit").GetString());
        Assert.True(updated.GetProperty("delegable").GetBoolean());
        Assert.Equal("Approves", updated.GetProperty("description").GetString());
    }

    [PrerequisiteFact]
    public async Task Roles_DisplayName_AnyTextIsKeptBesideTheKeyAndSearchable()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var application = await AdminApiClient.CreateApplicationAsync(admin);
        var key = NewCode("finance-approver");

        var created = await PostAsync(admin, Roles, new { applicationId = application, name = key, displayName = "财务审批人 (Finance approver)", delegable = false });

        Assert.Equal(key, created.GetProperty("name").GetString());
        Assert.Equal("财务审批人 (Finance approver)", created.GetProperty("displayName").GetString());
        var found = await JsonAsync(await admin.GetAsync($"{Roles}?applicationId={application}&q=finance%20APPROVER"), HttpStatusCode.OK);
        Assert.Equal(key, Assert.Single(found.GetProperty("items").EnumerateArray()).GetProperty("name").GetString());
    }

    [PrerequisiteFact]
    public async Task Roles_DisplayNameTooLongOrKeyWithSpaces_Answers400NamingTheField()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var application = await AdminApiClient.CreateApplicationAsync(admin);

        var longName = await admin.PostAsJsonAsync(Roles, new { applicationId = application, name = NewCode("approver"), displayName = new string('x', 201) });
        var spaces = await admin.PostAsJsonAsync(Roles, new { applicationId = application, name = "Finance approver", displayName = "Finance approver" });

        await ApplicationsApiTests<TFactory>.AssertFieldProblemAsync(longName, "displayName");
        await ApplicationsApiTests<TFactory>.AssertFieldProblemAsync(spaces, "name");
        Assert.False(await InDatabaseAsync(factory, db => db.AccessRoles.AnyAsync(r => r.ApplicationId == application)));
    }

    [PrerequisiteFact]
    public async Task Roles_UpdateWithStaleETag_Answers412AndChangesNothing()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (application, _, role) = await CreateRoleAsync(admin);

        var request = new HttpRequestMessage(HttpMethod.Put, $"{Roles}/{role}")
        {
            Content = JsonContent.Create(new { applicationId = application, name = "renamed", delegable = false, permissions = Array.Empty<object>() }),
        };
        request.Headers.IfMatch.ParseAdd("\"1\"");
        var response = await admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
        await AdminApiClient.ProblemAsync(response);
        Assert.NotEqual("renamed", await InDatabaseAsync(factory, db => db.AccessRoles.Where(r => r.Id == role).Select(r => r.Name).SingleAsync()));
    }

    [PrerequisiteFact]
    public async Task Assignments_GrantThenExplain_ShowsThePermissionWithItsReason()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var department = await CreateDepartmentAsync(admin, name: "Finance");
        var user = await CreateUserAsync(admin, department);
        var (application, _, role) = await CreateRoleAsync(admin);
        var until = DateTimeOffset.UtcNow.AddDays(30);

        var granted = await PostAsync(admin, Assignments, new { userId = user, roleId = role, departmentId = department, validUntil = until, reason = "Quarter close" });
        var entitlements = await JsonAsync(await admin.GetAsync($"{Users}/{user}/entitlements?applicationId={application}"), HttpStatusCode.OK);
        var byUser = await JsonAsync(await admin.GetAsync($"{Assignments}?userId={user}&active=true"), HttpStatusCode.OK);

        var grant = Assert.Single(entitlements.EnumerateArray());
        Assert.Equal("expense.approve", grant.GetProperty("permission").GetString());
        Assert.Equal("20000", grant.GetProperty("parameters").GetProperty("amountLimit").GetString());
        var reason = grant.GetProperty("reason").GetString()!;
        // Issue 17 §4: the reason names the assignment by role, scope and dates; its id is the assignmentId beside it.
        Assert.Equal(granted.GetProperty("id").GetGuid(), grant.GetProperty("assignmentId").GetGuid());
        Assert.DoesNotContain(granted.GetProperty("id").GetGuid().ToString(), reason, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"role '{grant.GetProperty("roleName").GetString()}'", reason, StringComparison.Ordinal);
        Assert.Contains("scoped to department 'Finance'", reason, StringComparison.Ordinal);
        Assert.Equal(1, byUser.GetProperty("total").GetInt32());
    }

    [PrerequisiteFact]
    public async Task Assignments_End_MakesItInactive()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var user = await CreateUserAsync(admin);
        var (_, _, role) = await CreateRoleAsync(admin);
        var granted = await PostAsync(admin, Assignments, new { userId = user, roleId = role, reason = "Project" });

        var ended = await PostAsync(admin, $"{Assignments}/{granted.GetProperty("id").GetGuid()}/end", new { reason = "Project over" }, HttpStatusCode.OK);
        var assignments = await JsonAsync(await admin.GetAsync($"{Users}/{user}/assignments"), HttpStatusCode.OK);

        Assert.False(ended.GetProperty("active").GetBoolean());
        Assert.Equal("Project over", ended.GetProperty("endReason").GetString());
        Assert.False(Assert.Single(assignments.EnumerateArray()).GetProperty("active").GetBoolean());
    }

    [PrerequisiteFact]
    public async Task Assignments_EndWithStaleIfMatch_Answers412AndKeepsItActive()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var user = await CreateUserAsync(admin);
        var (_, _, role) = await CreateRoleAsync(admin);
        var id = (await PostAsync(admin, Assignments, new { userId = user, roleId = role, reason = "Project" })).GetProperty("id").GetGuid();

        using var request = new HttpRequestMessage(HttpMethod.Post, $"{Assignments}/{id}/end") { Content = JsonContent.Create(new { reason = "Over" }) };
        request.Headers.IfMatch.ParseAdd("\"1\"");
        var response = await admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
        Assert.Null(await InDatabaseAsync(factory, db => db.RoleAssignments.Where(a => a.Id == id).Select(a => a.EndedAt).SingleAsync()));
    }

    [PrerequisiteFact]
    public async Task Assignments_UntilBeforeFrom_Answers400NamingValidUntilAndWritesNothing()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var user = await CreateUserAsync(admin);
        var (_, _, role) = await CreateRoleAsync(admin);
        var from = DateTimeOffset.UtcNow.AddDays(10);

        var response = await admin.PostAsJsonAsync(Assignments, new { userId = user, roleId = role, validFrom = from, validUntil = from.AddDays(-1), reason = "Backwards" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await AdminApiClient.ProblemAsync(response)).GetProperty("errors").TryGetProperty("validUntil", out _));
        Assert.False(await InDatabaseAsync(factory, db => db.RoleAssignments.AnyAsync(a => a.UserId == user)));
    }

    [PrerequisiteFact]
    public async Task Assignments_UnknownRoleAndUser_Answers400NamingBothAndWritesNothing()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var before = await InDatabaseAsync(factory, db => db.RoleAssignments.CountAsync());

        var response = await admin.PostAsJsonAsync(Assignments, new { userId = "no-such-user", roleId = Guid.NewGuid(), reason = "Typo" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await AdminApiClient.ProblemAsync(response)).GetProperty("errors");
        Assert.Contains("no-such-user", errors.GetProperty("userId")[0].GetString(), StringComparison.Ordinal);
        Assert.True(errors.TryGetProperty("roleId", out _));
        Assert.Equal(before, await InDatabaseAsync(factory, db => db.RoleAssignments.CountAsync()));
    }

    [PrerequisiteFact]
    public async Task SodRules_ConflictingGrant_IsRefusedNamingTheRuleAndListedAsViolationWhenOlder()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var user = await CreateUserAsync(admin);
        var (_, _, submit) = await CreateRoleAsync(admin, permission: "expense.submit");
        var (_, _, approve) = await CreateRoleAsync(admin, permission: "expense.approve");
        await PostAsync(admin, Assignments, new { userId = user, roleId = submit, reason = "Employee" });
        await PostAsync(admin, Assignments, new { userId = user, roleId = approve, reason = "Granted before the rule" });
        var ruleName = NewCode("submit-vs-approve");

        await PostAsync(admin, SodRules, new { name = ruleName, firstRoleId = submit, secondRoleId = approve });
        var other = await CreateUserAsync(admin);
        await PostAsync(admin, Assignments, new { userId = other, roleId = submit, reason = "Employee" });
        var refused = await admin.PostAsJsonAsync(Assignments, new { userId = other, roleId = approve, reason = "Conflicts" });
        var violations = await JsonAsync(await admin.GetAsync($"{SodRules}/violations"), HttpStatusCode.OK);

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains(ruleName, (await refused.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.Equal(1, await InDatabaseAsync(factory, db => db.RoleAssignments.CountAsync(a => a.UserId == other)));
        Assert.Contains(violations.EnumerateArray(), v => v.GetProperty("userId").GetString() == user && v.GetProperty("ruleName").GetString() == ruleName);
    }

    [PrerequisiteFact]
    public async Task Auditor_ReadsButEveryWriteIsForbidden()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (auditor, _) = await CreateAsync(factory, AdminRoles.Auditor);
        var user = await CreateUserAsync(admin);
        var (application, _, role) = await CreateRoleAsync(admin);

        Assert.Equal(HttpStatusCode.OK, (await auditor.GetAsync($"{Users}/{user}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await auditor.GetAsync($"{Audit}/export?format=json")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await auditor.PostAsJsonAsync(Users, new { userName = "x", displayName = "x", employeeNumber = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await auditor.PostAsJsonAsync($"{Users}/{user}/suspend", new { reason = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await auditor.PostAsJsonAsync(Assignments, new { userId = user, roleId = role, reason = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await auditor.DeleteAsync($"{Roles}/{role}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await auditor.DeleteAsync($"{AdminApiClient.Applications}/{application}")).StatusCode);
        Assert.Equal("active", (await JsonAsync(await admin.GetAsync($"{Users}/{user}"), HttpStatusCode.OK)).GetProperty("status").GetString());
        Assert.True(await InDatabaseAsync(factory, db => db.AccessRoles.AnyAsync(r => r.Id == role)));
    }

    [PrerequisiteFact]
    public async Task HrAdmin_AssignsDelegableRoleInsideTheirSubtree_IsAllowed()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var administered = await CreateDepartmentAsync(admin);
        var team = await CreateDepartmentAsync(admin, administered);
        var user = await CreateUserAsync(admin, team);
        var (_, _, role) = await CreateRoleAsync(admin, delegable: true);
        var (hr, _) = await CreateAsync(factory, AdminRoles.HrAdmin, administered);

        var granted = await PostAsync(hr, Assignments, new { userId = user, roleId = role, departmentId = team, reason = "Team lead" });

        Assert.Equal(team, granted.GetProperty("departmentId").GetGuid());
    }

    [PrerequisiteFact]
    public async Task HrAdmin_AssignsNonDelegableRole_Answers403NamingTheRoleAndWritesNothing()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var administered = await CreateDepartmentAsync(admin);
        var user = await CreateUserAsync(admin, administered);
        var (_, _, role) = await CreateRoleAsync(admin, delegable: false);
        var (hr, _) = await CreateAsync(factory, AdminRoles.HrAdmin, administered);

        var response = await hr.PostAsJsonAsync(Assignments, new { userId = user, roleId = role, departmentId = administered, reason = "Try" });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("not delegable", (await AdminApiClient.ProblemAsync(response)).GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.False(await InDatabaseAsync(factory, db => db.RoleAssignments.AnyAsync(a => a.UserId == user)));
    }

    [PrerequisiteFact]
    public async Task HrAdmin_AssignsOutsideTheirSubtree_Answers403AndWritesNothing()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var administered = await CreateDepartmentAsync(admin);
        var elsewhere = await CreateDepartmentAsync(admin);
        var user = await CreateUserAsync(admin, elsewhere);
        var (_, _, role) = await CreateRoleAsync(admin, delegable: true);
        var (hr, _) = await CreateAsync(factory, AdminRoles.HrAdmin, administered);

        var response = await hr.PostAsJsonAsync(Assignments, new { userId = user, roleId = role, departmentId = elsewhere, reason = "Try" });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("outside the departments you administer", (await AdminApiClient.ProblemAsync(response)).GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.False(await InDatabaseAsync(factory, db => db.RoleAssignments.AnyAsync(a => a.UserId == user)));
    }

    [PrerequisiteFact]
    public async Task AdminRoles_SetBySuperAdmin_GivesTheRoleAndItsDepartments()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var department = await CreateDepartmentAsync(admin);
        var user = await CreateUserAsync(admin);

        var response = await admin.PutAsJsonAsync($"{Users}/{user}/admin-roles", new { roles = new[] { AdminRoles.HrAdmin }, administeredDepartments = new[] { department } });
        var roles = await JsonAsync(response, HttpStatusCode.OK);

        Assert.Equal([AdminRoles.HrAdmin], roles.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(department, Assert.Single(roles.GetProperty("administeredDepartments").EnumerateArray()).GetGuid());
    }
}

public sealed class SqliteAccessApiTests(SqliteFactory factory) : AccessApiTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlAccessApiTests(PostgreSqlFactory factory) : AccessApiTests<PostgreSqlFactory>(factory);
