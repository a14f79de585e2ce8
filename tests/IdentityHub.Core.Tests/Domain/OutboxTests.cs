using IdentityHub.Core.Access;
using IdentityHub.Core.Changes;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Data.Directory;
using IdentityHub.Data.Provisioning;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Core.Tests.Domain;

/// <summary>
/// Issue 7 point 1: every change that alters what a downstream system should know queues one row per affected
/// (connector, user), in its own transaction, and only for connectors whose scope the user is in.
/// </summary>
public abstract class OutboxTests<TDatabase>(TDatabase database) : IClassFixture<TDatabase>
    where TDatabase : DomainDatabase
{
    [PrerequisiteFact]
    public async Task GrantAsync_ApplicationWithTwoConnectors_QueuesOneRowPerConnector()
    {
        var (application, role) = await CreateApplicationWithRoleAsync(connectors: 2);
        var user = await CreateUserAsync();

        await Grant(user, role.Id);

        var rows = await database.RunAsync(s => DomainDatabase.Db(s).Outbox.Where(o => o.UserId == user && o.Change == "assignment.granted").ToListAsync());
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Equal(OutboxStatus.Pending, r.Status));
        Assert.Equal(2, rows.Select(r => r.ConnectorId).Distinct().Count());
        Assert.NotEqual(Guid.Empty, application.Id);
    }

    [PrerequisiteFact]
    public async Task GrantAsync_Refused_QueuesNothing()
    {
        var (_, role) = await CreateApplicationWithRoleAsync(connectors: 1);
        var user = await CreateUserAsync();

        await Assert.ThrowsAsync<RuleViolation>(() => database.RunAsync(s => s.GetRequiredService<RoleAssignments>().GrantAsync(
            new AssignmentInput(user, role.Id, Guid.NewGuid(), null, null, "bad scope"), CancellationToken.None)));

        Assert.Equal(0, await database.RunAsync(s => DomainDatabase.Db(s).Outbox.CountAsync(o => o.UserId == user && o.Change == "assignment.granted")));
    }

    [PrerequisiteFact]
    public async Task CreateAsync_UserWithoutAccess_QueuesOnlyConnectorsThatProvisionEveryone()
    {
        var (application, _) = await CreateApplicationWithRoleAsync(connectors: 1);
        var everyone = await AddConnectorAsync(application.Id, ConnectorKind.Scim, """{"baseUrl":"https://scim.example/v2","allUsers":true}""");
        try
        {
            var user = await CreateUserAsync();

            Assert.Equal([everyone], await QueuedConnectorsAsync(user, "user.created"));
        }
        finally
        {
            // The other tests of the class share the database: a connector that takes everyone would be in their rows.
            await database.RunAsync(s => DomainDatabase.Db(s).Connectors.Where(c => c.Id == everyone).ExecuteDeleteAsync());
        }
    }

    [PrerequisiteFact]
    public async Task UpdateAsync_UserWithAccessInOneApplication_QueuesThatApplicationsConnectorsOnly()
    {
        var (expense, approver) = await CreateApplicationWithRoleAsync(connectors: 1);
        var (attendance, _) = await CreateApplicationWithRoleAsync(connectors: 1);
        var user = await CreateUserAsync();
        await Grant(user, approver.Id);

        await RenameAsync(user, "Renamed Person");

        Assert.Equal(await ConnectorsOfAsync(expense.Id), await QueuedConnectorsAsync(user, "user.updated"));
        Assert.DoesNotContain((await ConnectorsOfAsync(attendance.Id)).Single(), await QueuedConnectorsAsync(user, "user.updated"));
    }

    [PrerequisiteFact]
    public async Task UpdateAsync_AccessGoneButConnectorWasDeliveredTheUser_StillQueuesThatConnector()
    {
        var (application, role) = await CreateApplicationWithRoleAsync(connectors: 1);
        var connector = (await ConnectorsOfAsync(application.Id)).Single();
        var user = await CreateUserAsync();
        var assignment = await Grant(user, role.Id);
        await MarkDeliveredAsync(connector, user);
        await database.RunAsync(s => s.GetRequiredService<RoleAssignments>().EndAsync(assignment.Id, "moved on", CancellationToken.None));

        await RenameAsync(user, "Renamed After Losing Access");

        Assert.Equal([connector], await QueuedConnectorsAsync(user, "user.updated"));
    }

    [PrerequisiteFact]
    public async Task UpdateAsync_ConnectorWasLastToldTheUserLeft_QueuesNothing()
    {
        var (application, role) = await CreateApplicationWithRoleAsync(connectors: 1);
        var connector = (await ConnectorsOfAsync(application.Id)).Single();
        var user = await CreateUserAsync();
        var assignment = await Grant(user, role.Id);
        await database.RunAsync(s => s.GetRequiredService<RoleAssignments>().EndAsync(assignment.Id, "moved on", CancellationToken.None));
        await MarkDeliveredAsync(connector, user, sentEvent: "user.deleted");

        await RenameAsync(user, "Renamed After Being Removed Downstream");

        Assert.Empty(await QueuedConnectorsAsync(user, "user.updated"));
    }

    [PrerequisiteFact]
    public async Task SuspendAsync_UserWithAccess_QueuesTheSuspensionForTheirConnectors()
    {
        var (application, role) = await CreateApplicationWithRoleAsync(connectors: 1);
        var user = await CreateUserAsync();
        await Grant(user, role.Id);

        await database.RunAsync(s => s.GetRequiredService<UserDirectory>().SuspendAsync(user, "on leave", CancellationToken.None));

        Assert.Equal(await ConnectorsOfAsync(application.Id), await QueuedConnectorsAsync(user, "user.suspended"));
    }

    [PrerequisiteFact]
    public async Task MarkLeftAsync_UserWithAccessAndDelivered_QueuesEveryEndedAssignmentAndTheDeparture()
    {
        var (application, role) = await CreateApplicationWithRoleAsync(connectors: 1);
        var connector = (await ConnectorsOfAsync(application.Id)).Single();
        var user = await CreateUserAsync();
        await Grant(user, role.Id);
        await MarkDeliveredAsync(connector, user);

        await database.RunAsync(s => s.GetRequiredService<UserDirectory>().MarkLeftAsync(user, "resigned", CancellationToken.None));

        Assert.Equal([connector], await QueuedConnectorsAsync(user, "assignment.ended"));
        Assert.Equal([connector], await QueuedConnectorsAsync(user, "user.left"));
    }

    [PrerequisiteFact]
    public async Task RecordExpiredAsync_AssignmentRunsOut_QueuesTheExpiryForTheApplicationsConnectors()
    {
        var (application, role) = await CreateApplicationWithRoleAsync(connectors: 2);
        var user = await CreateUserAsync();
        await database.RunAsync(s => s.GetRequiredService<RoleAssignments>().GrantAsync(
            new AssignmentInput(user, role.Id, null, null, database.Clock.GetUtcNow().AddHours(1), "cover"), CancellationToken.None));
        try
        {
            database.Clock.Offset = TimeSpan.FromHours(2);
            await database.RunAsync(s => s.GetRequiredService<AssignmentExpiry>().RecordExpiredAsync(CancellationToken.None));
        }
        finally
        {
            database.Clock.Offset = TimeSpan.Zero;
        }

        Assert.Equal(await ConnectorsOfAsync(application.Id), await QueuedConnectorsAsync(user, "assignment.expired"));
    }

    [PrerequisiteFact]
    public async Task MoveAsync_Department_QueuesEveryUserBelowAndEveryHolderOfARightScopedThere()
    {
        var (_, role) = await CreateApplicationWithRoleAsync(connectors: 1);
        var top = await CreateDepartmentAsync(null);
        var below = await CreateDepartmentAsync(top);
        var member = await CreateUserAsync(below);
        await Grant(member, role.Id);
        var scopedHolder = await CreateUserAsync();
        await database.RunAsync(s => s.GetRequiredService<RoleAssignments>().GrantAsync(
            new AssignmentInput(scopedHolder, role.Id, below, null, null, "scoped"), CancellationToken.None));
        var outsider = await CreateUserAsync();
        await Grant(outsider, role.Id);
        var target = await CreateDepartmentAsync(null);

        await database.RunAsync(s => s.GetRequiredService<Departments>().MoveAsync(top, target, null, CancellationToken.None));

        var queued = await database.RunAsync(s => DomainDatabase.Db(s).Outbox.Where(o => o.Change == "department.moved").Select(o => o.UserId).ToListAsync());
        Assert.Contains(member, queued);
        Assert.Contains(scopedHolder, queued);
        Assert.DoesNotContain(outsider, queued);
    }

    [PrerequisiteFact]
    public async Task UpdateAsync_DepartmentRenamed_QueuesItsMembersAndHoldersOfRightsScopedToItOrBelow()
    {
        var (_, role) = await CreateApplicationWithRoleAsync(connectors: 1);
        var top = await CreateDepartmentAsync(null);
        var below = await CreateDepartmentAsync(top);
        var elsewhere = await CreateDepartmentAsync(null);
        var member = await CreateUserAsync(top);
        await Grant(member, role.Id);
        var (scopedHere, scopedBelow, scopedElsewhere) = (await CreateUserAsync(), await CreateUserAsync(), await CreateUserAsync());
        await GrantScoped(scopedHere, role.Id, top);
        await GrantScoped(scopedBelow, role.Id, below);
        await GrantScoped(scopedElsewhere, role.Id, elsewhere);

        await UpdateDepartmentAsync(top, d => new DepartmentInput(d.Code, "Renamed " + d.Name, d.ParentId));

        var queued = await QueuedUsersAsync("department.updated", [member, scopedHere, scopedBelow, scopedElsewhere]);
        Assert.Equal(new[] { member, scopedBelow, scopedHere }.Order(StringComparer.Ordinal), queued.Order(StringComparer.Ordinal));
    }

    [PrerequisiteFact]
    public async Task UpdateAsync_DepartmentCodeChanged_QueuesHoldersOfRightsScopedToIt()
    {
        var (_, role) = await CreateApplicationWithRoleAsync(connectors: 1);
        var department = await CreateDepartmentAsync(null);
        var holder = await CreateUserAsync();
        await GrantScoped(holder, role.Id, department);

        await UpdateDepartmentAsync(department, d => new DepartmentInput(DomainDatabase.NewCode("D"), d.Name, d.ParentId));

        Assert.Equal([holder], await QueuedUsersAsync("department.updated", [holder]));
    }

    [PrerequisiteFact]
    public async Task UpdateAsync_ManagersEmployeeNumberChanged_QueuesTheirReportsInScopeAfterTheManager()
    {
        var (application, role) = await CreateApplicationWithRoleAsync(connectors: 1);
        var manager = await CreateUserAsync();
        await Grant(manager, role.Id);
        var report = await CreateUserAsync(managerId: manager);
        await Grant(report, role.Id);
        var reportWithoutAccess = await CreateUserAsync(managerId: manager);

        await database.RunAsync(async s =>
        {
            var current = await DomainDatabase.Db(s).Users.AsNoTracking().SingleAsync(u => u.Id == manager);
            return await s.GetRequiredService<UserDirectory>().UpdateAsync(manager, new UserInput(
                current.UserName, current.DisplayName, current.Email, current.PhoneNumber, DomainDatabase.NewCode("E"), current.DepartmentId, current.ManagerId), null, CancellationToken.None);
        });

        var rows = await database.RunAsync(s => DomainDatabase.Db(s).Outbox.AsNoTracking().Where(o => o.UserId == manager || o.UserId == report || o.UserId == reportWithoutAccess)
            .Where(o => o.Change == "user.updated" || o.Change == "manager.changed").ToListAsync());
        var managersRow = Assert.Single(rows, r => r.UserId == manager);
        var reportsRow = Assert.Single(rows, r => r.UserId == report);
        Assert.Equal("manager.changed", reportsRow.Change);
        Assert.Equal(await ConnectorsOfAsync(application.Id), [reportsRow.ConnectorId]);
        Assert.True(reportsRow.DueAt >= managersRow.DueAt + EntitlementChanges.ReportsDelay - TimeSpan.FromMilliseconds(1), $"{reportsRow.DueAt:O} vs {managersRow.DueAt:O}");
        Assert.DoesNotContain(rows, r => r.UserId == reportWithoutAccess);
    }

    [PrerequisiteFact]
    public async Task GrantAsync_ManagersFirstAccess_QueuesTheirReportsThereSoTheManagerReferenceFollows()
    {
        var (application, role) = await CreateApplicationWithRoleAsync(connectors: 1);
        var manager = await CreateUserAsync();
        var report = await CreateUserAsync(managerId: manager);
        await Grant(report, role.Id);

        await Grant(manager, role.Id);

        var reportsRow = await database.RunAsync(s => DomainDatabase.Db(s).Outbox.AsNoTracking().SingleAsync(o => o.UserId == report && o.Change == "manager.changed"));
        var managersRow = await database.RunAsync(s => DomainDatabase.Db(s).Outbox.AsNoTracking().SingleAsync(o => o.UserId == manager && o.Change == "assignment.granted"));
        Assert.Equal(managersRow.ConnectorId, reportsRow.ConnectorId);
        Assert.True(reportsRow.DueAt > managersRow.DueAt);
        Assert.Equal(await ConnectorsOfAsync(application.Id), [reportsRow.ConnectorId]);
    }

    [PrerequisiteFact]
    public async Task UpdateAsync_RolePermissionSetEdited_QueuesEveryHolder()
    {
        var (application, role) = await CreateApplicationWithRoleAsync(connectors: 1);
        var holders = new[] { await CreateUserAsync(), await CreateUserAsync() };
        foreach (var holder in holders)
        {
            await Grant(holder, role.Id);
        }

        var extra = await database.RunAsync(s => s.GetRequiredService<Permissions>().CreateAsync(application.Id, new PermissionInput("expense.audit", null, null), CancellationToken.None));
        await database.RunAsync(async s =>
        {
            var current = await DomainDatabase.Db(s).AccessRoles.Include(r => r.Permissions).AsNoTracking().SingleAsync(r => r.Id == role.Id);
            return await s.GetRequiredService<Roles>().UpdateAsync(role.Id,
                new RoleInput(application.Id, current.Name, null, false, [.. current.Permissions.Select(p => new RolePermissionInput(p.PermissionId)), new RolePermissionInput(extra.Id)]),
                null, CancellationToken.None);
        });

        // The application's own connector: other tests of the class edit roles too.
        var connectors = await ConnectorsOfAsync(application.Id);
        var queued = await database.RunAsync(s => DomainDatabase.Db(s).Outbox.Where(o => o.Change == "role.updated" && connectors.Contains(o.ConnectorId)).Select(o => o.UserId).ToListAsync());
        Assert.Equal(holders.Order(), queued.Order());
    }

    [PrerequisiteFact]
    public async Task UpdateAsync_GlobalRoleGainsAnotherApplicationsPermission_QueuesTheConnectorsOfTheOldAndNewApplicationsOnly()
    {
        var (expense, _) = await CreateApplicationWithRoleAsync(connectors: 1);
        var (attendance, _) = await CreateApplicationWithRoleAsync(connectors: 1);
        var (unrelated, _) = await CreateApplicationWithRoleAsync(connectors: 1);
        var audit = await database.RunAsync(s => s.GetRequiredService<Permissions>().CreateAsync(expense.Id, new PermissionInput("expense.audit", null, null), CancellationToken.None));
        var clock = await database.RunAsync(s => s.GetRequiredService<Permissions>().CreateAsync(attendance.Id, new PermissionInput("attendance.audit", null, null), CancellationToken.None));
        var global = await database.RunAsync(s => s.GetRequiredService<Roles>().CreateAsync(
            new RoleInput(null, DomainDatabase.NewCode("auditor"), null, false, [new RolePermissionInput(audit.Id)]), CancellationToken.None));
        var holder = await CreateUserAsync();
        await Grant(holder, global.Id);

        await database.RunAsync(s => s.GetRequiredService<Roles>().UpdateAsync(global.Id,
            new RoleInput(null, global.Name, null, false, [new RolePermissionInput(audit.Id), new RolePermissionInput(clock.Id)]), null, CancellationToken.None));

        var expected = (await ConnectorsOfAsync(expense.Id)).Concat(await ConnectorsOfAsync(attendance.Id)).Order().ToList();
        Assert.Equal(expected, await QueuedConnectorsAsync(holder, "role.updated"));
        Assert.DoesNotContain((await ConnectorsOfAsync(unrelated.Id)).Single(), await QueuedConnectorsAsync(holder, "role.updated"));
    }

    [PrerequisiteFact]
    public async Task MarkLeftAsync_TransactionFailsAfterTheRowsWereWritten_LeavesNoRowAndNothingChanged()
    {
        var (application, role) = await CreateApplicationWithRoleAsync(connectors: 1);
        var user = await CreateUserAsync();
        var assignment = await Grant(user, role.Id);
        await MarkDeliveredAsync((await ConnectorsOfAsync(application.Id)).Single(), user);
        var clashing = await CreateDepartmentAsync(null);
        var taken = await database.RunAsync(s => DomainDatabase.Db(s).Departments.Where(d => d.Id == clashing).Select(d => d.Code).SingleAsync());

        // One transaction, as a CSV import runs its rows: the departure saves its rows, then a later write hits a unique index.
        await database.RunAsync(async s =>
        {
            var db = DomainDatabase.Db(s);
            await using var transaction = await db.Database.BeginTransactionAsync();
            await s.GetRequiredService<UserDirectory>().MarkLeftAsync(user, "resigned", CancellationToken.None);
            Assert.True(await db.Outbox.AnyAsync(o => o.UserId == user && o.Change == "user.left"), "The row should be written before the failure.");
            db.Departments.Add(new Department { Id = Guid.NewGuid(), Code = taken, Name = "Clash", Path = "/clash/", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow });
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        });

        Assert.Equal(0, await database.RunAsync(s => DomainDatabase.Db(s).Outbox.CountAsync(o => o.UserId == user && o.Change != "assignment.granted")));
        Assert.Equal(UserStatus.Active, await database.RunAsync(s => DomainDatabase.Db(s).Users.Where(u => u.Id == user).Select(u => u.Status).SingleAsync()));
        Assert.Null(await database.RunAsync(s => DomainDatabase.Db(s).RoleAssignments.Where(a => a.Id == assignment.Id).Select(a => a.EndedAt).SingleAsync()));
    }

    private Task<RoleAssignment> Grant(string userId, Guid roleId) =>
        database.RunAsync(s => s.GetRequiredService<RoleAssignments>().GrantAsync(new AssignmentInput(userId, roleId, null, null, null, "test"), CancellationToken.None));

    private Task<RoleAssignment> GrantScoped(string userId, Guid roleId, Guid departmentId) =>
        database.RunAsync(s => s.GetRequiredService<RoleAssignments>().GrantAsync(new AssignmentInput(userId, roleId, departmentId, null, null, "scoped"), CancellationToken.None));

    private Task<string> CreateUserAsync(Guid? departmentId = null, string? managerId = null) =>
        database.RunAsync(async s => (await s.GetRequiredService<UserDirectory>().CreateAsync(
            new UserInput(DomainDatabase.NewCode("user"), "Outbox Person", null, null, DomainDatabase.NewCode("E"), departmentId, managerId), null, CancellationToken.None)).Id);

    private Task<UserAccount> RenameAsync(string userId, string displayName) => database.RunAsync(async s =>
    {
        var current = await DomainDatabase.Db(s).Users.AsNoTracking().SingleAsync(u => u.Id == userId);
        return await s.GetRequiredService<UserDirectory>().UpdateAsync(userId, new UserInput(
            current.UserName, displayName, current.Email, current.PhoneNumber, current.EmployeeNumber, current.DepartmentId, current.ManagerId), null, CancellationToken.None);
    });

    private Task<Guid> CreateDepartmentAsync(Guid? parentId) =>
        database.RunAsync(async s => (await s.GetRequiredService<Departments>().CreateAsync(new DepartmentInput(DomainDatabase.NewCode("D"), "Dept", parentId), CancellationToken.None)).Id);

    private Task<Department> UpdateDepartmentAsync(Guid id, Func<Department, DepartmentInput> change) => database.RunAsync(async s =>
    {
        var current = await DomainDatabase.Db(s).Departments.AsNoTracking().SingleAsync(d => d.Id == id);
        return await s.GetRequiredService<Departments>().UpdateAsync(id, change(current), null, CancellationToken.None);
    });

    /// <summary>As the dispatcher records a delivery: the connector now holds the user.</summary>
    private Task MarkDeliveredAsync(Guid connectorId, string userId, string sentEvent = "user.created") => database.RunAsync(async s =>
    {
        DomainDatabase.Db(s).ConnectorUserStates.Add(new ConnectorUserState { ConnectorId = connectorId, UserId = userId, Version = 1, SentState = sentEvent + ":x.y", LastDeliveredAt = DateTimeOffset.UtcNow });
        await DomainDatabase.Db(s).SaveChangesAsync();
    });

    private Task<List<Guid>> QueuedConnectorsAsync(string userId, string change) =>
        database.RunAsync(s => DomainDatabase.Db(s).Outbox.Where(o => o.UserId == userId && o.Change == change).Select(o => o.ConnectorId).OrderBy(c => c).ToListAsync());

    private Task<List<string>> QueuedUsersAsync(string change, string[] among) =>
        database.RunAsync(s => DomainDatabase.Db(s).Outbox.Where(o => o.Change == change && among.Contains(o.UserId)).Select(o => o.UserId).Distinct().ToListAsync());

    private Task<List<Guid>> ConnectorsOfAsync(Guid applicationId) =>
        database.RunAsync(s => DomainDatabase.Db(s).Connectors.Where(c => c.ApplicationId == applicationId).Select(c => c.Id).OrderBy(c => c).ToListAsync());

    private Task<Guid> AddConnectorAsync(Guid applicationId, ConnectorKind kind, string settings) => database.RunAsync(async s =>
    {
        var now = DateTimeOffset.UtcNow;
        var connector = new Connector { Id = Guid.NewGuid(), ApplicationId = applicationId, Name = DomainDatabase.NewCode("c"), Kind = kind, Settings = settings, CreatedAt = now, UpdatedAt = now };
        DomainDatabase.Db(s).Connectors.Add(connector);
        await DomainDatabase.Db(s).SaveChangesAsync();
        return connector.Id;
    });

    private async Task<(Application Application, Role Role)> CreateApplicationWithRoleAsync(int connectors)
    {
        var application = await database.RunAsync(async s =>
        {
            var now = DateTimeOffset.UtcNow;
            var app = new Application { Id = Guid.NewGuid(), Name = DomainDatabase.NewCode("app"), CreatedAt = now, UpdatedAt = now };
            DomainDatabase.Db(s).Applications.Add(app);
            for (var i = 0; i < connectors; i++)
            {
                DomainDatabase.Db(s).Connectors.Add(new Connector { Id = Guid.NewGuid(), ApplicationId = app.Id, Name = $"c{i}", Kind = ConnectorKind.Webhook, CreatedAt = now, UpdatedAt = now });
            }

            await DomainDatabase.Db(s).SaveChangesAsync();
            return app;
        });
        var permission = await database.RunAsync(s => s.GetRequiredService<Permissions>().CreateAsync(application.Id, new PermissionInput("expense.approve", null, null), CancellationToken.None));
        var role = await database.RunAsync(s => s.GetRequiredService<Roles>().CreateAsync(
            new RoleInput(application.Id, "approver", null, false, [new RolePermissionInput(permission.Id)]), CancellationToken.None));
        return (application, role);
    }
}

public sealed class SqliteOutboxTests(SqliteDomainDatabase database) : OutboxTests<SqliteDomainDatabase>(database);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlOutboxTests(PostgreSqlDomainDatabase database) : OutboxTests<PostgreSqlDomainDatabase>(database);
