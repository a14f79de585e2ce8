using System.Globalization;
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
    public async Task ImportUsers_SameUserNameInAnotherCaseOnALaterRow_RefusesTheLaterRowAsTaken()
    {
        // Created users are saved a batch at a time: the second row must still meet the first, unsaved, as taken.
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var name = NewCode("Same");
        var csv = $"employeeNumber,userName,displayName\n{NewCode("E")},{name},First\n{NewCode("E")},{name.ToLowerInvariant()},Second\n";

        var report = await JsonAsync(await PostCsvAsync(admin, "users", csv), HttpStatusCode.UnprocessableEntity);

        var error = Assert.Single(report.GetProperty("errors").EnumerateArray());
        Assert.Equal((3, "userName"), (error.GetProperty("row").GetInt32(), error.GetProperty("field").GetString()));
        Assert.Equal($"The user name '{name.ToLowerInvariant()}' is taken.", error.GetProperty("message").GetString());
        Assert.Equal(1, report.GetProperty("created").GetInt32());
    }

    [PrerequisiteFact]
    public async Task ImportUsers_RowRenamingAUser_FreesTheOldNameForALaterRow()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var existing = await JsonAsync(await admin.GetAsync($"{Users}/{await CreateUserAsync(admin)}"), HttpStatusCode.OK);
        var (oldName, newcomer) = (existing.GetProperty("userName").GetString(), NewCode("E"));
        var csv = $"""
            employeeNumber,userName,displayName
            {existing.GetProperty("employeeNumber").GetString()},{NewCode("renamed")},Renamed
            {newcomer},{oldName},Takes The Old Name
            """;

        var report = await JsonAsync(await PostCsvAsync(admin, "users?dryRun=false", csv), HttpStatusCode.OK);

        Assert.Equal((1, 1), (report.GetProperty("created").GetInt32(), report.GetProperty("updated").GetInt32()));
        Assert.Equal(oldName, await InDatabaseAsync(factory, db => db.Users.Where(u => u.EmployeeNumber == newcomer).Select(u => u.UserName).SingleAsync()));
    }

    [PrerequisiteFact]
    public async Task ImportUsers_ManyBatchesWithManagersOnEarlierRows_OneAuditEventPerUserAndTheChainVerifies()
    {
        const int Count = 1_234;
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var code = (await JsonAsync(await admin.GetAsync($"{Departments}/{await CreateDepartmentAsync(admin)}"), HttpStatusCode.OK)).GetProperty("code").GetString();
        var run = NewCode("B");
        var csv = new StringBuilder("employeeNumber,userName,displayName,email,departmentCode,managerEmployeeNumber\n");
        for (var i = 0; i < Count; i++)
        {
            // Each row's manager is the first row of its block of 50, often saved in an earlier batch.
            csv.Append(CultureInfo.InvariantCulture, $"{run}-{i:D5},{run}-u{i:D5},Person {i},p{i}.{run}@example.com,{code},{(i % 50 == 0 ? "" : $"{run}-{i - i % 50:D5}")}\n");
        }

        var dryRun = await JsonAsync(await PostCsvAsync(admin, "users", csv.ToString()), HttpStatusCode.OK);
        var report = await JsonAsync(await PostCsvAsync(admin, "users?dryRun=false", csv.ToString()), HttpStatusCode.OK);

        Assert.Equal((Count, Count), (dryRun.GetProperty("created").GetInt32(), report.GetProperty("created").GetInt32()));
        var users = await InDatabaseAsync(factory, db => db.Users.Where(u => u.EmployeeNumber!.StartsWith(run + "-"))
            .Select(u => new { u.Id, u.EmployeeNumber, u.ManagerId }).ToDictionaryAsync(u => u.EmployeeNumber!));
        Assert.Equal(Count, users.Count);
        Assert.Equal(users[$"{run}-01200"].Id, users[$"{run}-01233"].ManagerId);
        var ids = users.Values.Select(u => u.Id).ToList();
        var created = await InDatabaseAsync(factory, db => db.AuditEvents.Where(e => e.Type == "user.created" && ids.Contains(e.TargetId!))
            .OrderBy(e => e.Sequence).Select(e => new { e.Sequence, e.TargetId }).ToListAsync());
        Assert.Equal(Count, created.Count);
        Assert.Equal(Count, created.Select(e => e.TargetId).Distinct().Count());
        // One transaction holding the chain head: the file's events follow each other, the import's own event last.
        Assert.Equal(created[0].Sequence + Count - 1, created[^1].Sequence);
        Assert.Equal(created[^1].Sequence + 1, await InDatabaseAsync(factory, db => db.AuditEvents.Where(e => e.Type == "import.committed" && e.Sequence > created[0].Sequence)
            .OrderBy(e => e.Sequence).Select(e => e.Sequence).FirstAsync()));
        var verification = await JsonAsync(await admin.GetAsync($"{Audit}/verify"), HttpStatusCode.OK);
        Assert.True(verification.GetProperty("intact").GetBoolean(), verification.ToString());
    }

    [PrerequisiteFact]
    public async Task Import_JsonBody_Answers415()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);

        var response = await admin.PostAsync($"{Import}/users", new StringContent("{}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        await AdminApiClient.ProblemAsync(response);
    }

    [PrerequisiteFact]
    public async Task ImportUsers_InviteCommit_InvitesExactlyTheCreatedUsersWithAnEmail()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var existing = await JsonAsync(await admin.GetAsync($"{Users}/{await CreateUserAsync(admin)}"), HttpStatusCode.OK);
        var (withEmail, withoutEmail) = (NewCode("E"), NewCode("E"));
        var csv = $"""
            employeeNumber,userName,displayName,email
            {withEmail},{NewCode("u")},Invited Person,{withEmail.ToLowerInvariant()}@example.test
            {withoutEmail},{NewCode("u")},No Mail Person,
            {existing.GetProperty("employeeNumber").GetString()},{existing.GetProperty("userName").GetString()},Updated Not Invited,{existing.GetProperty("email").GetString()}
            """;

        var report = await JsonAsync(await PostCsvAsync(admin, "users?dryRun=false&invite=true", csv), HttpStatusCode.OK);

        Assert.Equal((2, 1, 1), (report.GetProperty("created").GetInt32(), report.GetProperty("updated").GetInt32(), report.GetProperty("invited").GetInt32()));
        Assert.Empty(report.GetProperty("errors").EnumerateArray());
        var note = Assert.Single(report.GetProperty("notes").EnumerateArray());
        Assert.Equal((3, IdentityHub.Core.Directory.CsvImport.NotInvitedNoEmail), (note.GetProperty("row").GetInt32(), note.GetProperty("message").GetString()));
        var ids = await InDatabaseAsync(factory, db => db.Users.Where(u => u.EmployeeNumber == withEmail || u.EmployeeNumber == withoutEmail)
            .ToDictionaryAsync(u => u.EmployeeNumber!, u => u.Id));
        string[] people = [ids[withEmail], ids[withoutEmail], existing.GetProperty("id").GetString()!];
        var invitations = await InDatabaseAsync(factory, db => db.MailOutbox.Where(m => m.UserId != null && people.Contains(m.UserId)).ToListAsync());
        var invitation = Assert.Single(invitations);
        Assert.Equal((ids[withEmail], IdentityHub.Core.Directory.MailTemplates.Invitation), (invitation.UserId, invitation.Template));
        var audited = await InDatabaseAsync(factory, db => db.AuditEvents.Where(e => e.Type == "user.invited" && people.Contains(e.TargetId!)).ToListAsync());
        Assert.Equal(ids[withEmail], Assert.Single(audited).TargetId);
        Assert.Contains(IdentityHub.Core.Directory.CsvImport.InvitationCause, audited[0].After, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task ImportUsers_InviteDryRun_CountsWhoWouldBeInvitedAndQueuesNothing()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (first, second) = (NewCode("E"), NewCode("E"));
        var addresses = new[] { $"{first.ToLowerInvariant()}@example.test", $"{second.ToLowerInvariant()}@example.test" };
        var csv = $"employeeNumber,userName,displayName,email\n{first},{NewCode("u")},First,{addresses[0]}\n{second},{NewCode("u")},Second,{addresses[1]}\n";

        var report = await JsonAsync(await PostCsvAsync(admin, "users?invite=true", csv), HttpStatusCode.OK);

        Assert.True(report.GetProperty("dryRun").GetBoolean());
        Assert.Equal((2, 2), (report.GetProperty("created").GetInt32(), report.GetProperty("invited").GetInt32()));
        Assert.False(await InDatabaseAsync(factory, db => db.MailOutbox.AnyAsync(m => addresses.Contains(m.ToAddress))));
        Assert.False(await InDatabaseAsync(factory, db => db.Users.AnyAsync(u => u.EmployeeNumber == first || u.EmployeeNumber == second)));
    }

    [PrerequisiteFact]
    public async Task ImportUsers_InviteWithARowRefused_CommitsAndQueuesNothing()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var good = NewCode("E");
        var address = $"{good.ToLowerInvariant()}@example.test";
        var csv = $"employeeNumber,userName,displayName,email,departmentCode\n{good},{NewCode("u")},Good,{address},\n{NewCode("E")},{NewCode("u")},Lost,lost-{good}@example.test,NO-SUCH-DEPT\n";

        var report = await JsonAsync(await PostCsvAsync(admin, "users?dryRun=false&invite=true", csv), HttpStatusCode.UnprocessableEntity);

        Assert.False(report.GetProperty("committed").GetBoolean());
        Assert.False(await InDatabaseAsync(factory, db => db.MailOutbox.AnyAsync(m => m.ToAddress == address)));
        Assert.False(await InDatabaseAsync(factory, db => db.Users.AnyAsync(u => u.EmployeeNumber == good)));
    }

    [PrerequisiteTheory]
    [InlineData("maybe")]
    [InlineData("2")]
    public async Task ImportUsers_InviteNotABoolean_Is400NamingInviteAndWritesNothing(string value)
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var employee = NewCode("E");

        var response = await PostCsvAsync(admin, $"users?dryRun=false&invite={value}", $"employeeNumber,userName,displayName,email\n{employee},{NewCode("u")},P,{employee}@example.test\n");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await AdminApiClient.ProblemAsync(response);
        Assert.True(problem.GetProperty("errors").TryGetProperty("invite", out var messages), problem.ToString());
        Assert.NotEmpty(messages.EnumerateArray());
        Assert.False(await InDatabaseAsync(factory, db => db.Users.AnyAsync(u => u.EmployeeNumber == employee)));
    }

    private static Task<HttpResponseMessage> PostCsvAsync(HttpClient client, string pathAndQuery, string csv) =>
        client.PostAsync($"{Import}/{pathAndQuery}", new StringContent(csv, Encoding.UTF8, "text/csv"));
}

public sealed class SqliteImportApiTests(SqliteFactory factory) : ImportApiTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlImportApiTests(PostgreSqlFactory factory) : ImportApiTests<PostgreSqlFactory>(factory);
