using System.Net;
using System.Net.Http.Headers;
using System.Text;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using static IdentityHub.Server.IntegrationTests.AdminApi.AdminCallers;

namespace IdentityHub.Server.IntegrationTests.AdminApi;

/// <summary>/import: CSV dry runs report per row, commits write every row in one transaction or none.</summary>
public abstract class ImportApiTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    [PrerequisiteFact]
    public async Task ImportDepartments_DryRunByDefault_ReportsAndWritesNothing()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (root, child) = (NewCode("R"), NewCode("C"));

        var report = await JsonAsync(await PostCsvAsync(admin, "departments", $"code,name,parentCode\n{child},Child,{root}\n{root},Root,\n"), HttpStatusCode.OK);

        Assert.True(report.GetProperty("dryRun").GetBoolean());
        Assert.False(report.GetProperty("committed").GetBoolean());
        Assert.Equal(2, report.GetProperty("created").GetInt32());
        Assert.False(await InDatabaseAsync(factory, db => db.Departments.AnyAsync(d => d.Code == root || d.Code == child)));
    }

    [PrerequisiteFact]
    public async Task ImportDepartments_Commit_WritesTheTreeWithParentsFromCodes()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (root, child) = (NewCode("R"), NewCode("C"));

        var report = await JsonAsync(await PostCsvAsync(admin, "departments?dryRun=false", $"code,name,parentCode\n{child},Child,{root}\n{root},Root,\n"), HttpStatusCode.OK);

        Assert.True(report.GetProperty("committed").GetBoolean());
        var departments = await InDatabaseAsync(factory, db => db.Departments.Where(d => d.Code == root || d.Code == child).ToDictionaryAsync(d => d.Code));
        Assert.Equal(departments[root].Id, departments[child].ParentId);
        Assert.True(await InDatabaseAsync(factory, db => db.AuditEvents.AnyAsync(e => e.Type == "import.committed")));
    }

    [PrerequisiteFact]
    public async Task ImportDepartments_ParentsFormingACycle_ReportsBothRowsAndCommitsNothing()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (a, b, fine) = (NewCode("A"), NewCode("B"), NewCode("F"));

        var response = await PostCsvAsync(admin, "departments?dryRun=false", $"code,name,parentCode\n{fine},Fine,\n{a},A,{b}\n{b},B,{a}\n");
        var report = await JsonAsync(response, HttpStatusCode.UnprocessableEntity);

        var errors = report.GetProperty("errors").EnumerateArray().ToList();
        Assert.Equal([3, 4], errors.Select(e => e.GetProperty("row").GetInt32()));
        Assert.All(errors, e => Assert.Contains("cycle", e.GetProperty("message").GetString(), StringComparison.Ordinal));
        Assert.False(await InDatabaseAsync(factory, db => db.Departments.AnyAsync(d => d.Code == fine)));
    }

    [PrerequisiteFact]
    public async Task ImportUsers_RowsWithErrors_ReportsEachRowAndCommitsNothing()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var department = await JsonAsync(await admin.GetAsync($"{Departments}/{await CreateDepartmentAsync(admin)}"), HttpStatusCode.OK);
        var code = department.GetProperty("code").GetString();
        var (good, dup) = (NewCode("E"), NewCode("E"));
        var csv = $"""
            employeeNumber,userName,displayName,email,departmentCode
            {good},{NewCode("u")},Good Person,good@example.com,{code}
            {dup},{NewCode("u")},First,first@example.com,{code}
            {dup},{NewCode("u")},Second,second@example.com,{code}
            {NewCode("E")},{NewCode("u")},Lost,lost@example.com,NO-SUCH-DEPT
            {NewCode("E")},{NewCode("u")},,nameless@example.com,{code}
            """;

        var response = await PostCsvAsync(admin, "users?dryRun=false", csv);
        var report = await JsonAsync(response, HttpStatusCode.UnprocessableEntity);

        Assert.False(report.GetProperty("committed").GetBoolean());
        var errors = report.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("row").GetInt32(), e.GetProperty("field").GetString())).ToList();
        Assert.Equal([(4, "employeeNumber"), (5, "departmentCode"), (6, "displayName")], errors);
        Assert.False(await InDatabaseAsync(factory, db => db.Users.AnyAsync(u => u.EmployeeNumber == good || u.EmployeeNumber == dup)));
    }

    [PrerequisiteFact]
    public async Task ImportUsers_UserNameTakenInTheDirectory_ReportsTheRowFromTheDomainRule()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var existing = await JsonAsync(await admin.GetAsync($"{Users}/{await CreateUserAsync(admin)}"), HttpStatusCode.OK);

        var csv = $"employeeNumber,userName,displayName\n{NewCode("E")},{existing.GetProperty("userName").GetString()},Clash\n";
        var report = await JsonAsync(await PostCsvAsync(admin, "users", csv), HttpStatusCode.UnprocessableEntity);

        var error = Assert.Single(report.GetProperty("errors").EnumerateArray());
        Assert.Equal(2, error.GetProperty("row").GetInt32());
        Assert.Equal("userName", error.GetProperty("field").GetString());
    }

    [PrerequisiteFact]
    public async Task ImportUsers_MultipartCommit_CreatesAndUpdatesByEmployeeNumber()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var department = await JsonAsync(await admin.GetAsync($"{Departments}/{await CreateDepartmentAsync(admin)}"), HttpStatusCode.OK);
        var existing = await JsonAsync(await admin.GetAsync($"{Users}/{await CreateUserAsync(admin)}"), HttpStatusCode.OK);
        var (manager, report) = (NewCode("E"), NewCode("E"));
        var csv = $"""
            employeeNumber,userName,displayName,email,departmentCode,managerEmployeeNumber
            {report},{NewCode("u")},Reports To Manager,r@example.com,{department.GetProperty("code").GetString()},{manager}
            {manager},{NewCode("u")},The Manager,m@example.com,{department.GetProperty("code").GetString()},
            {existing.GetProperty("employeeNumber").GetString()},{existing.GetProperty("userName").GetString()},Renamed By Import,{existing.GetProperty("email").GetString()},,
            """;
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(csv));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        form.Add(file, "file", "users.csv");

        var result = await JsonAsync(await admin.PostAsync($"{Import}/users?dryRun=false", form), HttpStatusCode.OK);

        Assert.Equal((2, 1), (result.GetProperty("created").GetInt32(), result.GetProperty("updated").GetInt32()));
        var users = await InDatabaseAsync(factory, db => db.Users.Where(u => u.EmployeeNumber == manager || u.EmployeeNumber == report).ToDictionaryAsync(u => u.EmployeeNumber!));
        Assert.Equal(users[manager].Id, users[report].ManagerId);
        Assert.Equal(department.GetProperty("id").GetGuid(), users[report].DepartmentId);
        Assert.Equal("Renamed By Import", (await JsonAsync(await admin.GetAsync($"{Users}/{existing.GetProperty("id").GetString()}"), HttpStatusCode.OK)).GetProperty("displayName").GetString());
    }

    [PrerequisiteFact]
    public async Task Import_JsonBody_Answers415()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);

        var response = await admin.PostAsync($"{Import}/users", new StringContent("{}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        await AdminApiClient.ProblemAsync(response);
    }

    private static Task<HttpResponseMessage> PostCsvAsync(HttpClient client, string pathAndQuery, string csv) =>
        client.PostAsync($"{Import}/{pathAndQuery}", new StringContent(csv, Encoding.UTF8, "text/csv"));
}

public sealed class SqliteImportApiTests(SqliteFactory factory) : ImportApiTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlImportApiTests(PostgreSqlFactory factory) : ImportApiTests<PostgreSqlFactory>(factory);
