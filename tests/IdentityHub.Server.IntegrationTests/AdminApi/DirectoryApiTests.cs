using System.Net;
using System.Net.Http.Json;
using IdentityHub.Data.Directory;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using static IdentityHub.Server.IntegrationTests.AdminApi.AdminCallers;

namespace IdentityHub.Server.IntegrationTests.AdminApi;

/// <summary>/users and /departments through the admin API, including every bad input of issue 6 point 9 that concerns them.</summary>
public abstract class DirectoryApiTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    [PrerequisiteFact]
    public async Task Users_CreateReadUpdate_RoundTripsWithEntityTags()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var department = await CreateDepartmentAsync(admin);
        var number = NewCode("E");

        var create = await admin.PostAsJsonAsync(Users, new { userName = NewCode("u"), displayName = "Li Lei", email = "li.lei@example.com", employeeNumber = number, departmentId = department });
        var created = await JsonAsync(create, HttpStatusCode.Created);
        var id = created.GetProperty("id").GetString()!;
        var read = await admin.GetAsync($"{Users}/{id}");
        await JsonAsync(read, HttpStatusCode.OK);
        var update = new HttpRequestMessage(HttpMethod.Put, $"{Users}/{id}")
        {
            Content = JsonContent.Create(new { userName = created.GetProperty("userName").GetString(), displayName = "Li Lei (Finance)", email = "li.lei@example.com", employeeNumber = number, departmentId = department }),
        };
        update.Headers.IfMatch.ParseAdd(read.Headers.ETag!.ToString());
        var updated = await JsonAsync(await admin.SendAsync(update), HttpStatusCode.OK);

        Assert.Equal(create.Headers.Location?.AbsolutePath, $"{Users}/{id}");
        Assert.Equal("active", created.GetProperty("status").GetString());
        Assert.Equal("Li Lei (Finance)", updated.GetProperty("displayName").GetString());
        Assert.Equal(department, updated.GetProperty("departmentId").GetGuid());
    }

    [PrerequisiteFact]
    public async Task Users_UpdateWithStaleETag_Answers412AndKeepsTheNewerChange()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await CreateUserAsync(admin, displayName: "Before");
        var stale = (await admin.GetAsync($"{Users}/{id}")).Headers.ETag!.ToString();
        var user = await JsonAsync(await admin.GetAsync($"{Users}/{id}"), HttpStatusCode.OK);
        // No pause needed: an update within the same millisecond as the creation still gets a new revision.
        await JsonAsync(await admin.PutAsJsonAsync($"{Users}/{id}", Body(user, "Newer")), HttpStatusCode.OK);

        var request = new HttpRequestMessage(HttpMethod.Put, $"{Users}/{id}") { Content = JsonContent.Create(Body(user, "Lost update")) };
        request.Headers.IfMatch.ParseAdd(stale);
        var response = await admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
        var problem = await AdminApiClient.ProblemAsync(response);
        Assert.Contains("changed by someone else", problem.GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.Equal("Newer", await InDatabaseAsync(factory, db => db.Users.Where(u => u.Id == id).Select(u => u.DisplayName).SingleAsync()));
    }

    [PrerequisiteFact]
    public async Task Users_DuplicateEmployeeNumber_AnswersAProblemNamingTheFieldAndWritesNothing()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var first = await JsonAsync(await admin.GetAsync($"{Users}/{await CreateUserAsync(admin)}"), HttpStatusCode.OK);
        var userName = NewCode("dup");

        var response = await admin.PostAsJsonAsync(Users, new { userName, displayName = "Copy", employeeNumber = first.GetProperty("employeeNumber").GetString() });

        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Conflict, response.StatusCode.ToString());
        var problem = await AdminApiClient.ProblemAsync(response);
        Assert.True(problem.GetProperty("errors").TryGetProperty("employeeNumber", out _), problem.ToString());
        Assert.False(await InDatabaseAsync(factory, db => db.Users.AnyAsync(u => u.UserName == userName)));
    }

    [PrerequisiteFact]
    public async Task Users_ListWithDepartmentSearchSortAndPaging_AnswersThePageAndTheTotal()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var parent = await CreateDepartmentAsync(admin);
        var child = await CreateDepartmentAsync(admin, parent);
        await CreateUserAsync(admin, parent, "Alpha Zhang");
        await CreateUserAsync(admin, child, "Beta Wang");
        await CreateUserAsync(admin, child, "Gamma Liu");
        await CreateUserAsync(admin, displayName: "Alpha Elsewhere");

        var page = await JsonAsync(await admin.GetAsync($"{Users}?department={parent}&sort=-displayName&pageSize=2"), HttpStatusCode.OK);
        var search = await JsonAsync(await admin.GetAsync($"{Users}?department={parent}&q=alpha"), HttpStatusCode.OK);

        Assert.Equal(3, page.GetProperty("total").GetInt32());
        Assert.Equal(["Gamma Liu", "Beta Wang"], page.GetProperty("items").EnumerateArray().Select(u => u.GetProperty("displayName").GetString()));
        Assert.Equal(["Alpha Zhang"], search.GetProperty("items").EnumerateArray().Select(u => u.GetProperty("displayName").GetString()));
    }

    [PrerequisiteFact]
    public async Task Users_ListWithUnknownSortFieldOrStatus_Answers400NamingEachParameter()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);

        var response = await admin.GetAsync($"{Users}?sort=salary&status=retired&pageSize=500");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await AdminApiClient.ProblemAsync(response)).GetProperty("errors");
        Assert.Contains("salary", errors.GetProperty("sort")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("retired", errors.GetProperty("status")[0].GetString(), StringComparison.Ordinal);
        Assert.True(errors.TryGetProperty("pageSize", out _));
    }

    [PrerequisiteFact]
    public async Task Users_SuspendReactivateLeave_ChangeTheStatus()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await CreateUserAsync(admin);

        var suspended = await PostAsync(admin, $"{Users}/{id}/suspend", new { reason = "Investigation" }, HttpStatusCode.OK);
        var reactivated = await PostAsync(admin, $"{Users}/{id}/reactivate", new { }, HttpStatusCode.OK);
        var left = await PostAsync(admin, $"{Users}/{id}/leave", new { reason = "Resigned" }, HttpStatusCode.OK);

        Assert.Equal("suspended", suspended.GetProperty("status").GetString());
        Assert.Equal("active", reactivated.GetProperty("status").GetString());
        Assert.Equal("left", left.GetProperty("status").GetString());
        Assert.Equal(UserStatus.Left, await InDatabaseAsync(factory, db => db.Users.Where(u => u.Id == id).Select(u => u.Status).SingleAsync()));
    }

    [PrerequisiteFact]
    public async Task Users_SuspendWithStaleIfMatch_Answers412AndWithTheCurrentOneSuspends()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await CreateUserAsync(admin);
        var etag = (await admin.GetAsync($"{Users}/{id}")).Headers.ETag!.ToString();

        using var stale = new HttpRequestMessage(HttpMethod.Post, $"{Users}/{id}/suspend") { Content = JsonContent.Create(new { reason = "x" }) };
        stale.Headers.IfMatch.ParseAdd("\"1\"");
        var refused = await admin.SendAsync(stale);
        var statusAfterRefusal = await InDatabaseAsync(factory, db => db.Users.Where(u => u.Id == id).Select(u => u.Status).SingleAsync());
        using var current = new HttpRequestMessage(HttpMethod.Post, $"{Users}/{id}/suspend") { Content = JsonContent.Create(new { reason = "x" }) };
        current.Headers.IfMatch.ParseAdd(etag);
        var suspended = await JsonAsync(await admin.SendAsync(current), HttpStatusCode.OK);

        Assert.Equal(HttpStatusCode.PreconditionFailed, refused.StatusCode);
        Assert.Equal(UserStatus.Active, statusAfterRefusal);
        Assert.Equal("suspended", suspended.GetProperty("status").GetString());
    }

    [PrerequisiteFact]
    public async Task Users_UnknownUser_Answers404Problem()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);

        var response = await admin.PostAsJsonAsync($"{Users}/no-such-user/suspend", new { reason = "x" });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(404, (await AdminApiClient.ProblemAsync(response)).GetProperty("status").GetInt32());
    }

    [PrerequisiteFact]
    public async Task Departments_CreateMoveAndTree_ShowTheSubtreeUnderItsNewParent()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var finance = await CreateDepartmentAsync(admin, name: "Finance " + NewCode("x"));
        var payroll = await CreateDepartmentAsync(admin, finance);
        var hq = await CreateDepartmentAsync(admin, name: "HQ " + NewCode("x"));
        var etag = (await admin.GetAsync($"{Departments}/{finance}")).Headers.ETag!.ToString();

        var move = new HttpRequestMessage(HttpMethod.Post, $"{Departments}/{finance}/move") { Content = JsonContent.Create(new { parentId = hq }) };
        move.Headers.IfMatch.ParseAdd(etag);
        var moved = await JsonAsync(await admin.SendAsync(move), HttpStatusCode.OK);
        var tree = await JsonAsync(await admin.GetAsync($"{Departments}/tree"), HttpStatusCode.OK);

        Assert.Equal(hq, moved.GetProperty("parentId").GetGuid());
        var hqNode = tree.EnumerateArray().Single(n => n.GetProperty("id").GetGuid() == hq);
        var financeNode = Assert.Single(hqNode.GetProperty("children").EnumerateArray());
        Assert.Equal(payroll, Assert.Single(financeNode.GetProperty("children").EnumerateArray()).GetProperty("id").GetGuid());
        var payrollPath = await InDatabaseAsync(factory, db => db.Departments.Where(d => d.Id == payroll).Select(d => d.Path).SingleAsync());
        Assert.Equal($"/{hq:N}/{finance:N}/{payroll:N}/", payrollPath);
    }

    [PrerequisiteFact]
    public async Task Departments_MoveUnderItsOwnDescendant_AnswersAProblemAndMovesNothing()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var top = await CreateDepartmentAsync(admin);
        var middle = await CreateDepartmentAsync(admin, top);
        var bottom = await CreateDepartmentAsync(admin, middle);

        var response = await admin.PostAsJsonAsync($"{Departments}/{top}/move", new { parentId = bottom });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = await AdminApiClient.ProblemAsync(response);
        Assert.True(problem.GetProperty("errors").TryGetProperty("parentId", out _), problem.ToString());
        var paths = await InDatabaseAsync(factory, db => db.Departments.Where(d => d.Id == top || d.Id == bottom).ToDictionaryAsync(d => d.Id, d => (d.ParentId, d.Path)));
        Assert.Equal((null, $"/{top:N}/"), paths[top]);
        Assert.Equal((middle, $"/{top:N}/{middle:N}/{bottom:N}/"), paths[bottom]);
    }

    [PrerequisiteFact]
    public async Task Departments_DeleteWhileItHasUsers_Answers409AndKeepsIt()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var department = await CreateDepartmentAsync(admin);
        await CreateUserAsync(admin, department);

        var response = await admin.DeleteAsync($"{Departments}/{department}");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("user", (await AdminApiClient.ProblemAsync(response)).GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.True(await InDatabaseAsync(factory, db => db.Departments.AnyAsync(d => d.Id == department)));
    }

    [PrerequisiteFact]
    public async Task Departments_DeleteEmpty_RemovesIt()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var department = await CreateDepartmentAsync(admin);

        var response = await admin.DeleteAsync($"{Departments}/{department}");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{Departments}/{department}")).StatusCode);
    }

    private static object Body(System.Text.Json.JsonElement user, string displayName) => new
    {
        userName = user.GetProperty("userName").GetString(),
        displayName,
        email = user.GetProperty("email").GetString(),
        employeeNumber = user.GetProperty("employeeNumber").GetString(),
    };
}

public sealed class SqliteDirectoryApiTests(SqliteFactory factory) : DirectoryApiTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlDirectoryApiTests(PostgreSqlFactory factory) : DirectoryApiTests<PostgreSqlFactory>(factory);
