using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using IdentityHub.Testing;
using static IdentityHub.Server.IntegrationTests.AdminApi.AdminCallers;

namespace IdentityHub.Server.IntegrationTests.AdminApi;

/// <summary>
/// Issue 17 §4 through the admin API: the audit trail searched by a target's name and by free text (<c>q</c>), the names
/// that responses carry beside the ids, and the separation-of-duty refusal naming the other assignment by role, scope and dates.
/// </summary>
public abstract class NamesApiTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    [PrerequisiteTheory]
    [InlineData("displayName")]
    [InlineData("userName")]
    [InlineData("employeeNumber")]
    [InlineData("id")]
    public async Task AuditTarget_AUsersNameOrId_FindsThatUsersEventsOnly(string field)
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var person = await CreateUserAsync(admin, displayName: "Wang " + NewCode("W"));
        await CreateUserAsync(admin, displayName: "Someone Else");
        var user = await JsonAsync(await admin.GetAsync($"{Users}/{person}"), HttpStatusCode.OK);
        var typed = user.GetProperty(field).GetString()!;

        var page = await JsonAsync(await admin.GetAsync($"{Audit}?target={Uri.EscapeDataString(typed)}"), HttpStatusCode.OK);

        var entry = Assert.Single(page.GetProperty("items").EnumerateArray());
        Assert.Equal("user.created", entry.GetProperty("type").GetString());
        Assert.Equal(person, entry.GetProperty("targetId").GetString());
        Assert.Equal(user.GetProperty("displayName").GetString(), entry.GetProperty("targetName").GetString());
        Assert.False(entry.GetProperty("targetDeleted").GetBoolean());
    }

    [PrerequisiteFact]
    public async Task AuditTarget_ARolesDisplayName_FindsTheRoleAndWhoWasGrantedIt()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var displayName = "Approver " + NewCode("R");
        var role = await CreateNamedRoleAsync(admin, displayName);
        var person = await CreateUserAsync(admin);
        await PostAsync(admin, Assignments, new { userId = person, roleId = role, reason = "Quarter close" });

        var page = await JsonAsync(await admin.GetAsync($"{Audit}?target={Uri.EscapeDataString(displayName.ToUpperInvariant())}&sort=sequence"), HttpStatusCode.OK);

        var items = page.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["role.created", "assignment.granted"], items.Select(e => e.GetProperty("type").GetString()));
        Assert.Equal(displayName, items[0].GetProperty("targetName").GetString());
        Assert.Equal("Person " + (await JsonAsync(await admin.GetAsync($"{Users}/{person}"), HttpStatusCode.OK)).GetProperty("employeeNumber").GetString(),
            items[1].GetProperty("targetName").GetString());
    }

    [PrerequisiteFact]
    public async Task AuditTarget_ADeletedDepartmentsName_FindsItsEventsNamedAsRecordedAndMarkedDeleted()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var name = "Closed office " + NewCode("C");
        var department = await CreateDepartmentAsync(admin, name: name);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{AdminCallers.Departments}/{department}")).StatusCode);

        var page = await JsonAsync(await admin.GetAsync($"{Audit}?target={Uri.EscapeDataString(name)}&sort=sequence"), HttpStatusCode.OK);

        var items = page.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["department.created", "department.deleted"], items.Select(e => e.GetProperty("type").GetString()));
        Assert.All(items, e =>
        {
            Assert.Equal(name, e.GetProperty("targetName").GetString());
            Assert.True(e.GetProperty("targetDeleted").GetBoolean());
        });
    }

    [PrerequisiteFact]
    public async Task AuditTarget_ARenamedDepartmentsNewName_FindsItsWholeHistory()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var department = await CreateDepartmentAsync(admin, name: "Old name " + NewCode("O"));
        var current = await admin.GetAsync($"{AdminCallers.Departments}/{department}");
        var code = (await JsonAsync(current, HttpStatusCode.OK)).GetProperty("code").GetString();
        var renamed = "New name " + NewCode("N");
        using var update = new HttpRequestMessage(HttpMethod.Put, $"{AdminCallers.Departments}/{department}") { Content = JsonContent.Create(new { code, name = renamed }) };
        Assert.Equal(HttpStatusCode.OK, (await admin.SendAsync(update)).StatusCode);

        var page = await JsonAsync(await admin.GetAsync($"{Audit}?target={Uri.EscapeDataString(renamed)}&sort=sequence"), HttpStatusCode.OK);

        Assert.Equal(["department.created", "department.updated"], page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("type").GetString()));
    }

    /// <summary><c>q</c> is free text over the event type, the actor's name and the target's name.</summary>
    [PrerequisiteTheory]
    [InlineData("target")]
    [InlineData("actor")]
    [InlineData("type")]
    public async Task AuditQ_FreeText_MatchesTheTypeTheActorOrTheTargetByName(string what)
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var since = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddSeconds(-1).ToString("O"));
        var name = "Logistics " + NewCode("L");
        var parent = await CreateDepartmentAsync(admin, name: name);
        var (hr, hrUser) = await CreateAsync(factory, IdentityHub.Core.Directory.AdminRoles.HrAdmin, parent);
        var child = await CreateDepartmentAsync(hr, parent, name: "Depot " + NewCode("D"));
        var q = what switch
        {
            "target" => name.ToLowerInvariant(),
            "actor" => hrUser.UserName!,
            _ => "department.creat",
        };

        var page = await JsonAsync(await admin.GetAsync($"{Audit}?q={Uri.EscapeDataString(q)}&from={since}&sort=sequence"), HttpStatusCode.OK);

        var items = page.GetProperty("items").EnumerateArray()
            .Select(e => (Type: e.GetProperty("type").GetString(), Actor: e.GetProperty("actorId").GetString(), Target: e.GetProperty("targetId").GetString(), Shown: e.GetProperty("actorDisplayName").GetString()))
            .ToList();
        switch (what)
        {
            case "target":
                Assert.Equal([("department.created", parent.ToString())], items.Select(i => (i.Type, i.Target)));
                break;
            case "actor":
                // The HR administrator's own change, named by their display name; anything else found is about them.
                Assert.Contains(items, i => i.Type == "department.created" && i.Target == child.ToString() && i.Actor == hrUser.Id && i.Shown == hrUser.DisplayName);
                Assert.All(items, i => Assert.True(i.Actor == hrUser.Id || i.Target == hrUser.Id, $"{i} is neither by nor about {hrUser.Id}"));
                break;
            default:
                Assert.Contains(items, i => i.Target == parent.ToString());
                Assert.Contains(items, i => i.Target == child.ToString());
                Assert.All(items, i => Assert.Contains("department.creat", i.Type, StringComparison.Ordinal));
                break;
        }
    }

    [PrerequisiteFact]
    public async Task AuditQ_ANameNoTargetHas_FindsNothingAndTheExportAgrees()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        await CreateDepartmentAsync(admin);

        var page = await JsonAsync(await admin.GetAsync($"{Audit}?q=no-such-name-{NewCode("x")}"), HttpStatusCode.OK);
        var exported = await JsonAsync(await admin.GetAsync($"{Audit}/export?format=json&q=no-such-name-{NewCode("x")}"), HttpStatusCode.OK);

        Assert.Equal(0, page.GetProperty("total").GetInt32());
        Assert.Empty(exported.EnumerateArray());
    }

    [PrerequisiteFact]
    public async Task AuditExport_ByTargetName_HasTheTargetNameColumn()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var name = "Exported by name " + NewCode("E");
        await CreateDepartmentAsync(admin, name: name);

        var csv = await (await admin.GetAsync($"{Audit}/export?format=csv&target={Uri.EscapeDataString(name)}")).Content.ReadAsStringAsync();

        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.EndsWith("ActorDisplayName,TargetName,TargetDeleted", lines[0].TrimEnd('\r'), StringComparison.Ordinal);
        Assert.Equal(2, lines.Length);
        Assert.Contains($",{name},False", lines[1], StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Responses_ThatCarryIds_CarryTheirNamesBeside()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var parentName = "Parent " + NewCode("P");
        var parent = await CreateDepartmentAsync(admin, name: parentName);
        var child = await CreateDepartmentAsync(admin, parent, name: "Child " + NewCode("C"));
        var manager = await CreateUserAsync(admin, displayName: "Manager " + NewCode("M"));
        var person = await PostAsync(admin, Users, new { userName = NewCode("u"), displayName = "Report", employeeNumber = NewCode("E"), departmentId = child, managerId = manager });
        var roleName = "Payroll clerk " + NewCode("R");
        var role = await CreateNamedRoleAsync(admin, roleName);
        var granted = await PostAsync(admin, Assignments, new { userId = person.GetProperty("id").GetString(), roleId = role, departmentId = parent, reason = "Payroll" });
        var other = await CreateNamedRoleAsync(admin, "Auditor role " + NewCode("A"));
        var rule = await PostAsync(admin, SodRules, new { name = NewCode("rule"), firstRoleId = role, secondRoleId = other });

        var department = await JsonAsync(await admin.GetAsync($"{AdminCallers.Departments}/{child}"), HttpStatusCode.OK);
        var user = await JsonAsync(await admin.GetAsync($"{Users}/{person.GetProperty("id").GetString()}"), HttpStatusCode.OK);
        var assignment = await JsonAsync(await admin.GetAsync($"{Assignments}/{granted.GetProperty("id").GetGuid()}"), HttpStatusCode.OK);
        var listed = Assert.Single((await JsonAsync(await admin.GetAsync($"{Assignments}?roleId={role}"), HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        var entitlement = Assert.Single((await JsonAsync(await admin.GetAsync($"{Users}/{user.GetProperty("id").GetString()}/entitlements"), HttpStatusCode.OK)).EnumerateArray());

        Assert.Equal(parentName, department.GetProperty("parentName").GetString());
        Assert.Equal(department.GetProperty("name").GetString(), user.GetProperty("departmentName").GetString());
        Assert.StartsWith("Manager ", user.GetProperty("managerName").GetString(), StringComparison.Ordinal);
        Assert.Equal(user.GetProperty("departmentName").GetString(), person.GetProperty("departmentName").GetString());
        foreach (var a in new[] { granted, assignment, listed })
        {
            Assert.Equal("Report", a.GetProperty("userDisplayName").GetString());
            Assert.Equal(roleName, a.GetProperty("roleDisplayName").GetString());
            Assert.Equal(parentName, a.GetProperty("departmentName").GetString());
            Assert.False(string.IsNullOrEmpty(a.GetProperty("applicationName").GetString()));
        }

        Assert.Equal(roleName, entitlement.GetProperty("roleDisplayName").GetString());
        Assert.Equal($"{roleName} ({entitlement.GetProperty("roleName").GetString()})", rule.GetProperty("first").GetProperty("name").GetString());
        Assert.Equal("role", rule.GetProperty("second").GetProperty("kind").GetString());
    }

    [PrerequisiteFact]
    public async Task SodConflict_Refusal_NamesTheOtherAssignmentByRoleScopeAndDatesNotByItsId()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var scope = "Treasury " + NewCode("T");
        var department = await CreateDepartmentAsync(admin, name: scope);
        var user = await CreateUserAsync(admin);
        var submit = await CreateNamedRoleAsync(admin, "Submitter " + NewCode("S"));
        var approve = await CreateNamedRoleAsync(admin, "Approver " + NewCode("A"));
        await PostAsync(admin, SodRules, new { name = NewCode("submit-vs-approve"), firstRoleId = submit, secondRoleId = approve });
        var until = new DateTimeOffset(2031, 3, 1, 0, 0, 0, TimeSpan.Zero);
        var held = await PostAsync(admin, Assignments, new { userId = user, roleId = submit, departmentId = department, validUntil = until, reason = "Submits" });

        var refused = await admin.PostAsJsonAsync(Assignments, new { userId = user, roleId = approve, reason = "Also approves" });

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var title = (await AdminApiClient.ProblemAsync(refused)).GetProperty("title").GetString()!;
        var from = held.GetProperty("validFrom").GetDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"already holds role '{held.GetProperty("roleDisplayName").GetString()} ({held.GetProperty("roleName").GetString()})' (department '{scope}', from {from} until 2031-03-01 00:00 UTC)", title, StringComparison.Ordinal);
        Assert.DoesNotContain(held.GetProperty("id").GetGuid().ToString(), title, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>An application role with <paramref name="displayName"/>, holding one permission; returns its id.</summary>
    private static async Task<Guid> CreateNamedRoleAsync(HttpClient admin, string displayName)
    {
        var application = await AdminApiClient.CreateApplicationAsync(admin);
        var permission = await PostAsync(admin, $"{AdminApiClient.Applications}/{application}/permissions", new { name = "expense." + NewCode("p").ToLowerInvariant() });
        var role = await PostAsync(admin, Roles, new
        {
            applicationId = application,
            name = NewCode("role").ToLowerInvariant(),
            displayName,
            permissions = new[] { new { permissionId = permission.GetProperty("id").GetGuid() } },
        });
        return role.GetProperty("id").GetGuid();
    }
}

public sealed class SqliteNamesApiTests(SqliteFactory factory) : NamesApiTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlNamesApiTests(PostgreSqlFactory factory) : NamesApiTests<PostgreSqlFactory>(factory);
