using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Inbound;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Data.Directory;
using IdentityHub.Data.Inbound;
using IdentityHub.Provisioning.Inbound;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Inbound;

/// <summary>
/// The REST (pull) source against an OA-like service on real HTTP (<see cref="OaStandIn"/>: paged people since a cursor,
/// departments, leavers, HMAC signatures checked), through the server's own DI container and database.
/// </summary>
public abstract class RestSourceTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly string _p = Guid.NewGuid().ToString("N")[..6];

    [PrerequisiteFact]
    public async Task RunAsync_FirstImportNotApproved_IsADryRunWithAReportAndNothingWritten()
    {
        await using var oa = await OaStandIn.StartAsync();
        Organisation(oa);
        var (sourceId, _) = await SourceAsync(oa, approve: false);
        var auditBefore = await ReadAsync(db => db.AuditEvents.CountAsync());

        var run = await RunAsync(sourceId, InboundRunKind.Increment);

        Assert.Equal(InboundRunKind.DryRun, run.Kind);
        Assert.Null(run.Failure);
        Assert.Equal((4, 0), (run.Created, run.Failed));
        using var report = JsonDocument.Parse(run.Report!);
        var counts = report.RootElement.GetProperty("counts");
        Assert.Equal(2, counts.GetProperty("departmentsToCreate").GetInt32());
        Assert.Equal(2, counts.GetProperty("peopleToCreate").GetInt32());
        Assert.Contains(report.RootElement.GetProperty("people").GetProperty("create").EnumerateArray(), p => p.GetProperty("employeeNumber").GetString() == N("E1"));
        Assert.Equal(0, await ReadAsync(db => db.Users.CountAsync(u => u.SourceId == sourceId)));
        Assert.Equal(0, await ReadAsync(db => db.Departments.CountAsync(d => d.SourceId == sourceId || d.Code == N("D1"))));
        Assert.Equal(auditBefore, await ReadAsync(db => db.AuditEvents.CountAsync()));
        Assert.Null((await SourceRowAsync(sourceId)).Cursor);
    }

    [PrerequisiteFact]
    public async Task RunAsync_ApprovedFirstImport_DepartmentsBeforePeopleAndALaterManagerLinked()
    {
        await using var oa = await OaStandIn.StartAsync();
        // The child department is listed before its parent; E1's manager E3 comes on the second page.
        oa.Department(N("D2"), "Sales East", N("D1"));
        oa.Department(N("D1"), "Sales", null);
        oa.Person(N("p1"), N("E1"), "Li Lei", N("D2"), managerNumber: N("E3"));
        oa.Person(N("p2"), N("E2"), "Han Meimei", N("D1"));
        oa.Person(N("p3"), N("E3"), "Wang Fang", N("D1"));
        var (sourceId, rootId) = await SourceAsync(oa);

        var run = await RunAsync(sourceId, InboundRunKind.Increment);

        Assert.Null(run.Failure);
        Assert.Equal((InboundRunKind.Increment, 5, 0), (run.Kind, run.Created, run.Failed));
        var d1 = await DepartmentAsync(N("D1"));
        var d2 = await DepartmentAsync(N("D2"));
        Assert.Equal((rootId, d1.Id), (d1.ParentId!.Value, d2.ParentId!.Value));
        var e1 = await PersonAsync(N("E1"));
        var e3 = await PersonAsync(N("E3"));
        Assert.Equal((d2.Id, e3.Id), (e1.DepartmentId!.Value, e1.ManagerId));
        Assert.Null(e1.PendingManagerRef);
        Assert.Equal(oa.UpdatedAt(N("p3")), (await SourceRowAsync(sourceId)).Cursor);
        Assert.Equal(0, oa.Requests.Count(r => r.StartsWith("401", StringComparison.Ordinal)));
        var approvalAudited = await ReadAsync(db => db.AuditEvents.CountAsync(a => a.Type == "source.first-import-approved" && a.TargetId == sourceId.ToString()));
        Assert.Equal(1, approvalAudited);
    }

    [PrerequisiteFact]
    public async Task RunAsync_IncrementAfterAChange_TakesOnlyWhatChangedAndMovesTheCursor()
    {
        await using var oa = await OaStandIn.StartAsync();
        Organisation(oa);
        oa.Person(N("p3"), N("E3"), "Wang Fang", N("D1"));
        var (sourceId, _) = await SourceAsync(oa);
        await RunAsync(sourceId, InboundRunKind.Increment);
        var pagesBefore = oa.Served("people");

        oa.Person(N("p2"), N("E2"), "Han Meimei (Finance)", N("D2"));
        var run = await RunAsync(sourceId, InboundRunKind.Increment);

        Assert.Equal((0, 1, 0), (run.Created, run.Updated, run.Failed));
        Assert.Equal(1, oa.Served("people") - pagesBefore);
        var e2 = await PersonAsync(N("E2"));
        Assert.Equal(("Han Meimei (Finance)", (await DepartmentAsync(N("D2"))).Id), (e2.DisplayName, e2.DepartmentId!.Value));
        Assert.Equal(oa.UpdatedAt(N("p2")), (await SourceRowAsync(sourceId)).Cursor);
    }

    [PrerequisiteFact]
    public async Task RunAsync_PersonOnTheLeaverList_MarkedLeftAndAssignmentsEnd()
    {
        await using var oa = await OaStandIn.StartAsync();
        Organisation(oa);
        var (sourceId, _) = await SourceAsync(oa);
        await RunAsync(sourceId, InboundRunKind.Increment);
        var e1 = await PersonAsync(N("E1"));
        await GrantRoleAsync(e1.Id);

        oa.Leave(N("p1"));
        var run = await RunAsync(sourceId, InboundRunKind.Increment);

        Assert.Equal((1, 0), (run.Left, run.Failed));
        Assert.Equal(UserStatus.Left, (await PersonAsync(N("E1"))).Status);
        var now = DateTimeOffset.UtcNow;
        Assert.Equal(0, await ReadAsync(db => db.RoleAssignments.Where(RoleAssignment.ActiveAt(now)).CountAsync(a => a.UserId == e1.Id)));
        Assert.Equal(UserStatus.Active, (await PersonAsync(N("E2"))).Status);
    }

    [PrerequisiteFact]
    public async Task RunAsync_SamePagesTwice_SecondTimeChangesNothing()
    {
        await using var oa = await OaStandIn.StartAsync();
        Organisation(oa);
        var (sourceId, _) = await SourceAsync(oa);
        await RunAsync(sourceId, InboundRunKind.Increment);
        var actorId = SourceActor.IdOf(sourceId);
        var audited = await ReadAsync(db => db.AuditEvents.CountAsync(a => a.ActorId == actorId));
        var revisions = await ReadAsync(db => db.Users.Where(u => u.SourceId == sourceId).OrderBy(u => u.Id).Select(u => u.UpdatedAt).ToListAsync());
        // The cursor is put back: the OA hands out the very same pages again.
        await WriteAsync(db => db.InboundSources.Where(s => s.Id == sourceId).ExecuteUpdateAsync(s => s.SetProperty(x => x.Cursor, (string?)null)));

        var run = await RunAsync(sourceId, InboundRunKind.Increment);

        Assert.Equal((0, 0, 0, 0), (run.Created, run.Updated, run.Left, run.Failed));
        Assert.Equal(audited, await ReadAsync(db => db.AuditEvents.CountAsync(a => a.ActorId == actorId)));
        Assert.Equal(revisions, await ReadAsync(db => db.Users.Where(u => u.SourceId == sourceId).OrderBy(u => u.Id).Select(u => u.UpdatedAt).ToListAsync()));
    }

    [PrerequisiteFact]
    public async Task RunAsync_PageThreeFails_FirstTwoPagesKeptCursorAtPageTwoFailureRecorded()
    {
        await using var oa = await OaStandIn.StartAsync();
        Organisation(oa);
        oa.Person(N("p3"), N("E3"), "Wang Fang", N("D1"));
        oa.Person(N("p4"), N("E4"), "Zhao Lei", N("D2"), managerNumber: N("E3"));
        oa.Person(N("p5"), N("E5"), "Sun Li", N("D2"), managerNumber: N("E4"));
        var (sourceId, _) = await SourceAsync(oa);
        oa.FailPage("people", 3);

        var run = await RunAsync(sourceId, InboundRunKind.Increment);

        Assert.Contains("people page 3", run.Failure, StringComparison.Ordinal);
        Assert.Contains("HTTP 500", run.Failure, StringComparison.Ordinal);
        Assert.DoesNotContain(OaStandIn.AppSecret, run.Failure, StringComparison.Ordinal);
        Assert.NotNull(run.FinishedAt);
        Assert.Equal(2 + 4, run.Created);
        var people = await ReadAsync(db => db.Users.AsNoTracking().Where(u => u.SourceId == sourceId).ToListAsync());
        Assert.Equal([N("E1"), N("E2"), N("E3"), N("E4")], people.Select(u => u.EmployeeNumber).Order());
        // Nobody half-applied: each person came in whole (department, source id, manager where given).
        Assert.All(people, u => Assert.True(u.DepartmentId is not null && u.ExternalId is not null, u.EmployeeNumber));
        Assert.Equal((await PersonAsync(N("E3"))).Id, people.Single(u => u.EmployeeNumber == N("E4")).ManagerId);
        Assert.Equal(oa.UpdatedAt(N("p4")), (await SourceRowAsync(sourceId)).Cursor);
        var latest = await ReadAsync(db => db.InboundRuns.AsNoTracking().SingleAsync(r => r.Id == run.Id));
        Assert.Equal(run.Failure, latest.Failure);

        var retry = await RunAsync(sourceId, InboundRunKind.Increment);

        Assert.Null(retry.Failure);
        Assert.Equal(1, retry.Created);
        Assert.Equal((await PersonAsync(N("E4"))).Id, (await PersonAsync(N("E5"))).ManagerId);
        Assert.Equal(oa.UpdatedAt(N("p5")), (await SourceRowAsync(sourceId)).Cursor);
    }

    [PrerequisiteFact]
    public async Task RunAsync_ReconciliationAfterChangesTheIncrementsMissed_ReportsAndAppliesThem()
    {
        await using var oa = await OaStandIn.StartAsync();
        Organisation(oa);
        oa.Person(N("p3"), N("E3"), "Wang Fang", N("D1"));
        var (sourceId, _) = await SourceAsync(oa);
        await RunAsync(sourceId, InboundRunKind.Increment);
        // Renamed without a new updatedAt, and gone without a leaver entry: an increment sees neither.
        oa.Person(N("p2"), N("E2"), "Han Meimei (renamed quietly)", N("D2"), managerNumber: N("E1"), touch: false);
        oa.Vanish(N("p3"));
        var increment = await RunAsync(sourceId, InboundRunKind.Increment);
        Assert.Equal((0, 0), (increment.Updated, increment.Left));

        var run = await RunAsync(sourceId, InboundRunKind.Reconciliation);

        Assert.Null(run.Failure);
        Assert.Equal((InboundRunKind.Reconciliation, 0, 1, 1, 1, 0), (run.Kind, run.Created, run.Updated, run.Left, run.Conflicts, run.Failed));
        using var report = JsonDocument.Parse(run.Report!);
        var updated = Assert.Single(report.RootElement.GetProperty("people").GetProperty("update").EnumerateArray());
        var change = Assert.Single(updated.GetProperty("changes").EnumerateArray());
        Assert.Equal(("displayName", "Han Meimei", "Han Meimei (renamed quietly)"),
            (change.GetProperty("attribute").GetString(), change.GetProperty("ours").GetString(), change.GetProperty("theirs").GetString()));
        var left = Assert.Single(report.RootElement.GetProperty("people").GetProperty("left").EnumerateArray());
        Assert.Equal(N("p3"), left.GetProperty("externalId").GetString());
        Assert.Single(report.RootElement.GetProperty("conflicts").EnumerateArray());
        Assert.Equal("Han Meimei (renamed quietly)", (await PersonAsync(N("E2"))).DisplayName);
        Assert.Equal(UserStatus.Left, (await PersonAsync(N("E3"))).Status);
        var e2 = await PersonAsync(N("E2"));
        var conflict = await ReadAsync(db => db.InboundConflicts.AsNoTracking().SingleAsync(c => c.SourceId == sourceId));
        Assert.Equal((e2.Id, "displayName", "drift", "Han Meimei"), (conflict.UserId, conflict.Attribute, conflict.Resolution, conflict.LocalValue));
    }

    [PrerequisiteFact]
    public async Task RunAsync_ReconciliationWithAnUnreadablePerson_MarksNobodyAsLeft()
    {
        await using var oa = await OaStandIn.StartAsync();
        Organisation(oa);
        oa.Person(N("p3"), N("E3"), "Wang Fang", N("D1"));
        var (sourceId, _) = await SourceAsync(oa);
        await RunAsync(sourceId, InboundRunKind.Increment);
        oa.Person(N("p2"), N("E2"), "Han Meimei", N("D2"), managerNumber: N("E1"), active: "perhaps", touch: false);
        oa.Vanish(N("p3"));

        var run = await RunAsync(sourceId, InboundRunKind.Reconciliation);

        Assert.Equal((0, 1), (run.Left, run.Failed));
        Assert.Contains(JsonSerializer.Deserialize<List<string>>(run.Errors!)!, e => e.Contains("nobody was marked as left", StringComparison.Ordinal));
        Assert.Equal(UserStatus.Active, (await PersonAsync(N("E3"))).Status);
        Assert.Equal(UserStatus.Active, (await PersonAsync(N("E2"))).Status);
    }

    [PrerequisiteFact]
    public async Task RunAsync_PersonInADepartmentOutsideTheSubtrees_RefusedAndCounted()
    {
        await using var oa = await OaStandIn.StartAsync();
        Organisation(oa);
        var elsewhere = await ServiceAsync<Departments, Department>(d => d.CreateAsync(new DepartmentInput(N("X"), "Elsewhere " + _p, null), CancellationToken.None));
        oa.Person(N("px"), N("EX"), "Outsider", N("X"));
        var (sourceId, _) = await SourceAsync(oa);

        var run = await RunAsync(sourceId, InboundRunKind.Increment);

        Assert.Null(run.Failure);
        Assert.Equal((2 + 2, 1), (run.Created, run.Failed));
        var error = Assert.Single(JsonSerializer.Deserialize<List<string>>(run.Errors!)!);
        Assert.StartsWith($"person {N("px")}:", error, StringComparison.Ordinal);
        Assert.Equal(0, await ReadAsync(db => db.Users.CountAsync(u => u.EmployeeNumber == N("EX") || u.DepartmentId == elsewhere.Id)));
    }

    [PrerequisiteFact]
    public async Task RunAsync_NextPageTokenPaging_ReadsEveryPageAndKeepsTheLatestCursor()
    {
        await using var oa = await OaStandIn.StartAsync();
        Organisation(oa);
        oa.Person(N("p3"), N("E3"), "Wang Fang", N("D1"));
        var (sourceId, _) = await SourceAsync(oa, tokenPaging: true);

        var run = await RunAsync(sourceId, InboundRunKind.Increment);

        Assert.Null(run.Failure);
        Assert.Equal((2 + 3, 0), (run.Created, run.Failed));
        Assert.Equal(2, oa.Served("people-by-token"));
        Assert.Equal(oa.UpdatedAt(N("p3")), (await SourceRowAsync(sourceId)).Cursor);
    }

    [PrerequisiteFact]
    public async Task RunAsync_OaRefusesTheSignature_FailureRecordedWithoutTheSecret()
    {
        await using var oa = await OaStandIn.StartAsync();
        Organisation(oa);
        var (sourceId, _) = await SourceAsync(oa, secret: "not-the-oa-secret");

        var run = await RunAsync(sourceId, InboundRunKind.Increment);

        Assert.Contains("departments page 1", run.Failure, StringComparison.Ordinal);
        Assert.Contains("HTTP 401", run.Failure, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-oa-secret", run.Failure, StringComparison.Ordinal);
        Assert.Equal(0, run.Created);
        Assert.Equal(0, await ReadAsync(db => db.Users.CountAsync(u => u.SourceId == sourceId)));
    }

    [PrerequisiteFact]
    public async Task RunAsync_ScimSource_RefusedAsNothingToPull()
    {
        var root = await ServiceAsync<Departments, Department>(d => d.CreateAsync(new DepartmentInput(N("S"), "Scim root " + _p, null), CancellationToken.None));
        var created = await ServiceAsync<InboundSources, InboundSourceCreated>(s => s.CreateAsync(
            new InboundSourceInput("SCIM " + _p, "scim", [root.Id], null, null), CancellationToken.None));

        var refusal = await Assert.ThrowsAsync<RuleViolation>(() => RunAsync(created.Source.Id, InboundRunKind.Increment));

        Assert.Contains("kind", refusal.Errors.Keys);
    }

    [PrerequisiteTheory]
    [InlineData("baseUrl", null, "settings.baseUrl")]
    [InlineData("baseUrl", "\"http://oa.example.com/api\"", "settings.baseUrl")]
    [InlineData("people.url", null, "settings.people.url")]
    [InlineData("people.url", "\"people?since={{ cursor \"", "settings.people.url")]
    [InlineData("people.fields.displayName", "\"{{ item.name | nosuchfilter }}\"", "settings.people.fields.displayName")]
    [InlineData("people.fields.salary", "\"{{ item.salary }}\"", "settings.people.fields.salary")]
    [InlineData("people.items", "\"data[\"", "settings.people.items")]
    [InlineData("people.paging", "\"token\"", "settings.people.nextPage")]
    [InlineData("departments.fields.name", null, "settings.departments.fields.name")]
    [InlineData("auth.appKey", null, "settings.auth.appKey")]
    [InlineData("reconcileAt", "\"25:00\"", "settings.reconcileAt")]
    [InlineData("intervalMinutes", "0", "settings.intervalMinutes")]
    [InlineData("maxPages", "0", "settings.maxPages")]
    [InlineData("people.pageSise", "10", "settings.people.pageSise")]
    public async Task CreateAsync_SettingsWithAnError_RefusedNamingTheField(string path, string? value, string field)
    {
        await using var oa = await OaStandIn.StartAsync();
        var settings = JsonNode.Parse(oa.Settings())!.AsObject();
        var parts = path.Split('.');
        var parent = parts[..^1].Aggregate((JsonNode)settings, (node, part) => node[part]!).AsObject();
        parent.Remove(parts[^1]);
        if (value is not null)
        {
            parent[parts[^1]] = JsonNode.Parse(value);
        }

        var root = await ServiceAsync<Departments, Department>(d => d.CreateAsync(new DepartmentInput(N("R"), "Root " + _p, null), CancellationToken.None));
        var refusal = await Assert.ThrowsAsync<RuleViolation>(() => ServiceAsync<InboundSources, InboundSourceCreated>(s => s.CreateAsync(
            new InboundSourceInput("OA " + _p, "rest", [root.Id], null, null, true, JsonDocument.Parse(settings.ToJsonString()).RootElement, OaStandIn.AppSecret),
            CancellationToken.None)));

        Assert.Contains(field, refusal.Errors.Keys);
    }

    [PrerequisiteFact]
    public async Task CreateAsync_HmacWithoutTheSecret_RefusedOnSecret()
    {
        await using var oa = await OaStandIn.StartAsync();
        var root = await ServiceAsync<Departments, Department>(d => d.CreateAsync(new DepartmentInput(N("R"), "Root " + _p, null), CancellationToken.None));

        var refusal = await Assert.ThrowsAsync<RuleViolation>(() => ServiceAsync<InboundSources, InboundSourceCreated>(s => s.CreateAsync(
            new InboundSourceInput("OA " + _p, "rest", [root.Id], null, null, true, JsonDocument.Parse(oa.Settings()).RootElement), CancellationToken.None)));

        Assert.Equal(["secret"], refusal.Errors.Keys);
    }

    [PrerequisiteFact]
    public async Task RunDueAsync_TwoScopesRacing_RunTheDueSourceOnce()
    {
        await using var oa = await OaStandIn.StartAsync();
        Organisation(oa);
        var (sourceId, _) = await SourceAsync(oa);
        // Only this test's source is due: the sources of earlier tests in this class are switched off.
        await WriteAsync(db => db.InboundSources.Where(s => s.Id != sourceId).ExecuteUpdateAsync(s => s.SetProperty(x => x.Enabled, false)));
        await WriteAsync(db => db.InboundSources.Where(s => s.Id == sourceId).ExecuteUpdateAsync(s => s.SetProperty(x => x.NextIncrementAt, DateTimeOffset.UtcNow.AddMinutes(-1))));
        var schedule = factory.Services.GetRequiredService<SourceSchedule>();

        var ran = await Task.WhenAll(schedule.RunDueAsync(CancellationToken.None), schedule.RunDueAsync(CancellationToken.None));

        Assert.Equal(1, ran.Sum());
        var runs = await ReadAsync(db => db.InboundRuns.AsNoTracking().Where(r => r.SourceId == sourceId).ToListAsync());
        var single = Assert.Single(runs);
        Assert.Equal((InboundRunKind.Increment, SourceSchedule.RequestedBy, 4), (single.Kind, single.RequestedBy, single.Created));
        var source = await SourceRowAsync(sourceId);
        Assert.True(source.NextIncrementAt > DateTimeOffset.UtcNow.AddMinutes(4), $"next increment at {source.NextIncrementAt}");
        Assert.True(source.NextReconciliationAt > DateTimeOffset.UtcNow, $"next reconciliation at {source.NextReconciliationAt}");
        Assert.Null(source.RunClaimedAt);

        Assert.Equal(0, await schedule.RunDueAsync(CancellationToken.None));
    }

    [PrerequisiteFact]
    public async Task RunAsync_WhileARunOfTheSourceHoldsIt_RefusedAsConflict()
    {
        await using var oa = await OaStandIn.StartAsync();
        Organisation(oa);
        var (sourceId, _) = await SourceAsync(oa);
        await WriteAsync(db => db.InboundSources.Where(s => s.Id == sourceId).ExecuteUpdateAsync(s => s.SetProperty(x => x.RunClaimedAt, DateTimeOffset.UtcNow)));

        var refusal = await Assert.ThrowsAsync<RuleViolation>(() => RunAsync(sourceId, InboundRunKind.Increment));

        Assert.Equal(ViolationKind.Conflict, refusal.Kind);
        Assert.Equal(0, oa.Served("people"));
    }

    private string N(string name) => $"{_p}-{name}";

    /// <summary>Two departments (D2 under D1) and two people (E2 reports to E1).</summary>
    private void Organisation(OaStandIn oa)
    {
        oa.Department(N("D1"), "Sales " + _p, null);
        oa.Department(N("D2"), "Sales East " + _p, N("D1"));
        oa.Person(N("p1"), N("E1"), "Li Lei", N("D1"));
        oa.Person(N("p2"), N("E2"), "Han Meimei", N("D2"), managerNumber: N("E1"));
    }

    private async Task<(Guid SourceId, Guid RootId)> SourceAsync(OaStandIn oa, bool approve = true, bool tokenPaging = false, string secret = OaStandIn.AppSecret)
    {
        var root = await ServiceAsync<Departments, Department>(d => d.CreateAsync(new DepartmentInput(N("root"), "Company " + _p, null), CancellationToken.None));
        var created = await ServiceAsync<InboundSources, InboundSourceCreated>(s => s.CreateAsync(new InboundSourceInput(
            "OA " + _p, "rest", [root.Id], null, "overwrite", true, JsonDocument.Parse(oa.Settings(tokenPaging: tokenPaging)).RootElement, secret), CancellationToken.None));
        if (approve)
        {
            await ServiceAsync<SourceRunner, bool>(async r => { await r.ApproveFirstImportAsync(created.Source.Id, CancellationToken.None); return true; });
        }

        return (created.Source.Id, root.Id);
    }

    private Task<InboundRun> RunAsync(Guid sourceId, InboundRunKind kind) =>
        ServiceAsync<SourceRunner, InboundRun>(r => r.RunAsync(sourceId, kind, "integration test", CancellationToken.None));

    private async Task GrantRoleAsync(string userId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentActor>().Value = Actor.System;
        var services = scope.ServiceProvider;
        var application = await services.GetRequiredService<Applications>().CreateAsync(new ApplicationInput("Expense " + _p, null), CancellationToken.None);
        var permission = await services.GetRequiredService<Permissions>().CreateAsync(application.Id, new("expense.view", null, null), CancellationToken.None);
        var role = await services.GetRequiredService<Roles>().CreateAsync(new(application.Id, "viewer", null, false, [new(permission.Id)]), CancellationToken.None);
        await services.GetRequiredService<RoleAssignments>().GrantAsync(new AssignmentInput(userId, role.Id, null, null, null, "test"), CancellationToken.None);
    }

    private async Task<T> ServiceAsync<TService, T>(Func<TService, Task<T>> call)
        where TService : notnull
    {
        await using var scope = factory.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentActor>().Value = Actor.System;
        return await call(scope.ServiceProvider.GetRequiredService<TService>());
    }

    private async Task<T> ReadAsync<T>(Func<IdentityHubDbContext, Task<T>> read)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await read(scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>());
    }

    private Task<int> WriteAsync(Func<IdentityHubDbContext, Task<int>> write) => ReadAsync(write);

    private Task<InboundSource> SourceRowAsync(Guid sourceId) => ReadAsync(db => db.InboundSources.AsNoTracking().SingleAsync(s => s.Id == sourceId));

    private Task<UserAccount> PersonAsync(string employeeNumber) => ReadAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.EmployeeNumber == employeeNumber));

    private Task<Department> DepartmentAsync(string code) => ReadAsync(db => db.Departments.AsNoTracking().SingleAsync(d => d.Code == code));
}

/// <summary>The sources' schedule stays off: the tests run it themselves (<see cref="SourceSchedule.RunDueAsync"/>).</summary>
public sealed class RestSourceServerSettings : IServerSettings
{
    public static void Apply(IWebHostBuilder builder) => builder.UseSetting("Provisioning:SourcePollInterval", "00:00:00");
}

public sealed class SqliteRestSourceTests(SqliteFactory<RestSourceServerSettings> factory) : RestSourceTests<SqliteFactory<RestSourceServerSettings>>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlRestSourceTests(PostgreSqlFactory<RestSourceServerSettings> factory) : RestSourceTests<PostgreSqlFactory<RestSourceServerSettings>>(factory);
