using System.Net;
using System.Net.Http.Json;
using System.Text;
using IdentityHub.Core.Directory;
using IdentityHub.Data.Directory;
using IdentityHub.Server.IntegrationTests.Oidc;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using static IdentityHub.Server.IntegrationTests.AdminApi.AdminCallers;

namespace IdentityHub.Server.IntegrationTests.AdminApi;

/// <summary>
/// Delegated administration through the admin API (issue 6): an HR administrator's refusals come back as 403
/// with the reason, the last super administrator is kept with a 409, and a demoted administrator's token and
/// console session stop working.
/// </summary>
public abstract class DelegationApiTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    [PrerequisiteFact]
    public async Task MoveDepartment_HrAdminPullsAnOutsideDepartmentUnderTheirs_Answers403WithTheReasonAndMovesNothing()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var mine = await CreateDepartmentAsync(admin);
        var outsideName = "Outside " + NewCode("x");
        var outside = await CreateDepartmentAsync(admin, name: outsideName);
        var (hr, _) = await CreateAsync(factory, AdminRoles.HrAdmin, mine);

        var response = await hr.PostAsJsonAsync($"{AdminCallers.Departments}/{outside}/move", new { parentId = mine });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = await AdminApiClient.ProblemAsync(response);
        Assert.Equal($"Department '{outsideName}' is outside the departments you administer.", problem.GetProperty("title").GetString());
        Assert.Equal("delegation.departmentOutside", problem.GetProperty("code").GetString());
        Assert.Null(await InDatabaseAsync(factory, db => db.Departments.Where(d => d.Id == outside).Select(d => d.ParentId).SingleAsync()));
    }

    [PrerequisiteFact]
    public async Task SuspendAndRename_HrAdminOnAnAdministratorInTheirSubtree_Answer403AndChangeNothing()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var mine = await CreateDepartmentAsync(admin);
        var colleague = await CreateUserAsync(admin, mine);
        await JsonAsync(await admin.PutAsJsonAsync($"{Users}/{colleague}/admin-roles", new { roles = new[] { AdminRoles.SecurityAdmin } }), HttpStatusCode.OK);
        var (hr, _) = await CreateAsync(factory, AdminRoles.HrAdmin, mine);
        var current = await JsonAsync(await admin.GetAsync($"{Users}/{colleague}"), HttpStatusCode.OK);

        var suspend = await hr.PostAsJsonAsync($"{Users}/{colleague}/suspend", new { reason = "x" });
        var rename = await hr.PutAsJsonAsync($"{Users}/{colleague}", new
        {
            userName = NewCode("renamed"),
            displayName = current.GetProperty("displayName").GetString(),
            employeeNumber = current.GetProperty("employeeNumber").GetString(),
            departmentId = mine,
        });

        Assert.Equal(HttpStatusCode.Forbidden, suspend.StatusCode);
        Assert.Contains("only a super administrator may change their status", (await AdminApiClient.ProblemAsync(suspend)).GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, rename.StatusCode);
        var stored = await InDatabaseAsync(factory, db => db.Users.AsNoTracking().SingleAsync(u => u.Id == colleague));
        Assert.Equal(UserStatus.Active, stored.Status);
        Assert.Equal(current.GetProperty("userName").GetString(), stored.UserName);
    }

    [PrerequisiteFact]
    public async Task SuspendAndLeave_TheLastActiveSuperAdmin_Answer409WithTheReason()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var seeded = await InDatabaseAsync(factory, db => db.Users.Where(u => u.UserName == FirstAdministrator.UserName).Select(u => u.Id).SingleAsync());

        var suspend = await admin.PostAsJsonAsync($"{Users}/{seeded}/suspend", new { reason = "x" });
        var leave = await admin.PostAsJsonAsync($"{Users}/{seeded}/leave", new { reason = "x" });
        var demote = await admin.PutAsJsonAsync($"{Users}/{seeded}/admin-roles", new { roles = Array.Empty<string>() });

        foreach (var response in new[] { suspend, leave, demote })
        {
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Contains("last active super administrator", (await AdminApiClient.ProblemAsync(response)).GetProperty("title").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(UserStatus.Active, await InDatabaseAsync(factory, db => db.Users.Where(u => u.Id == seeded).Select(u => u.Status).SingleAsync()));
    }

    [PrerequisiteFact]
    public async Task Import_HrAdminRowsOutsideTheirSubtree_Answers422NamingTheRowsAndCommitsNothing()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var mine = await JsonAsync(await admin.GetAsync($"{AdminCallers.Departments}/{await CreateDepartmentAsync(admin)}"), HttpStatusCode.OK);
        var outsideId = await CreateDepartmentAsync(admin);
        var outside = await JsonAsync(await admin.GetAsync($"{AdminCallers.Departments}/{outsideId}"), HttpStatusCode.OK);
        var (hr, _) = await CreateAsync(factory, AdminRoles.HrAdmin, mine.GetProperty("id").GetGuid());
        var inside = NewCode("E");
        var outsider = NewCode("E");
        var newCode = NewCode("D");
        var users = $"employeeNumber,displayName,departmentCode\n{inside},Inside Person,{mine.GetProperty("code").GetString()}\n{outsider},Outside Person,{outside.GetProperty("code").GetString()}\n";
        var departments = $"code,name,parentCode\n{newCode},Smuggled,{outside.GetProperty("code").GetString()}\n";

        var userImport = await hr.PostAsync($"{Import}/users?dryRun=false", new StringContent(users, Encoding.UTF8, "text/csv"));
        var departmentImport = await hr.PostAsync($"{Import}/departments?dryRun=false", new StringContent(departments, Encoding.UTF8, "text/csv"));

        var userReport = await JsonAsync(userImport, HttpStatusCode.UnprocessableEntity);
        var error = Assert.Single(userReport.GetProperty("errors").EnumerateArray());
        Assert.Equal(3, error.GetProperty("row").GetInt32());
        Assert.Contains("outside the departments you administer", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.False(userReport.GetProperty("committed").GetBoolean());
        var departmentReport = await JsonAsync(departmentImport, HttpStatusCode.UnprocessableEntity);
        Assert.Contains("outside the departments you administer", departmentReport.GetProperty("errors")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.False(await InDatabaseAsync(factory, db => db.Users.AnyAsync(u => u.EmployeeNumber == inside || u.EmployeeNumber == outsider)));
        Assert.False(await InDatabaseAsync(factory, db => db.Departments.AnyAsync(d => d.Code == newCode)));
    }

    [PrerequisiteFact]
    public async Task AdminRoles_Removed_TheDemotedAdminsTokenIsRefusedAndTheConsoleSignsThemOut()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (security, user) = await CreateAsync(factory, AdminRoles.SecurityAdmin);
        var browser = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password);
        Assert.Equal(HttpStatusCode.OK, (await security.GetAsync("/api/admin/v1/keys")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/admin/applications")).StatusCode);

        await JsonAsync(await admin.PutAsJsonAsync($"{Users}/{user.Id}/admin-roles", new { roles = Array.Empty<string>() }), HttpStatusCode.OK);

        Assert.Equal(HttpStatusCode.Unauthorized, (await security.GetAsync("/api/admin/v1/keys")).StatusCode);
        var console = await browser.GetAsync("/admin/applications");
        Assert.Equal(HttpStatusCode.Redirect, console.StatusCode);
        Assert.StartsWith("http://localhost/account/login", console.Headers.Location?.ToString(), StringComparison.Ordinal);
        var audit = await InDatabaseAsync(factory, db => db.AuditEvents.AsNoTracking()
            .SingleAsync(e => e.Type == "user.admin-roles-changed" && e.TargetId == user.Id));
        Assert.Contains("\"revokedTokens\":", audit.After, StringComparison.Ordinal);
    }
}

public sealed class SqliteDelegationApiTests(SqliteFactory factory) : DelegationApiTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlDelegationApiTests(PostgreSqlFactory factory) : DelegationApiTests<PostgreSqlFactory>(factory);
