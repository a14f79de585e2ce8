using IdentityHub.Core.Access;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Data.Audit;
using IdentityHub.Data.Directory;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Core.Tests.Domain;

/// <summary>The organisation and access rules, on each real database.</summary>
public abstract class DomainTests<TDatabase>(TDatabase database) : IClassFixture<TDatabase>
    where TDatabase : DomainDatabase
{
    [PrerequisiteFact]
    public async Task MoveAsync_UnderItsOwnDescendant_IsRefusedNamingTheCycleAndChangesNothing()
    {
        var parent = await database.CreateDepartmentAsync("Finance");
        var child = await database.CreateDepartmentAsync("Payables", parent.Id);

        var error = await Assert.ThrowsAsync<RuleViolation>(() =>
            database.RunAsync(s => s.GetRequiredService<Departments>().MoveAsync(parent.Id, child.Id, null, CancellationToken.None)));

        Assert.Equal(ViolationKind.Conflict, error.Kind);
        Assert.Contains("cycle", error.Title, StringComparison.Ordinal);
        Assert.True(error.Errors.ContainsKey("parentId"));
        var stored = await database.RunAsync(s => DomainDatabase.Db(s).Departments.AsNoTracking().SingleAsync(d => d.Id == parent.Id));
        Assert.Null(stored.ParentId);
        Assert.Equal(parent.Path, stored.Path);
    }

    [PrerequisiteFact]
    public async Task MoveAsync_Subtree_RewritesEveryPathBelow()
    {
        var a = await database.CreateDepartmentAsync("A");
        var b = await database.CreateDepartmentAsync("B", a.Id);
        var c = await database.CreateDepartmentAsync("C", b.Id);
        var target = await database.CreateDepartmentAsync("Target");

        await database.RunAsync(s => s.GetRequiredService<Departments>().MoveAsync(b.Id, target.Id, null, CancellationToken.None));

        var moved = await database.RunAsync(s => DomainDatabase.Db(s).Departments.AsNoTracking().SingleAsync(d => d.Id == c.Id));
        Assert.Equal($"{target.Path}{b.Id:N}/{c.Id:N}/", moved.Path);
    }

    [PrerequisiteFact]
    public async Task DeleteAsync_DepartmentWithUsers_IsRefusedAndKept()
    {
        var department = await database.CreateDepartmentAsync("Sales");
        await database.CreateUserAsync(department.Id);

        var error = await Assert.ThrowsAsync<RuleViolation>(() =>
            database.RunAsync(s => s.GetRequiredService<Departments>().DeleteAsync(department.Id, null, CancellationToken.None)));

        Assert.Equal(ViolationKind.Conflict, error.Kind);
        Assert.Contains("1 user", error.Title, StringComparison.Ordinal);
        Assert.True(await database.RunAsync(s => DomainDatabase.Db(s).Departments.AnyAsync(d => d.Id == department.Id)));
    }

    [PrerequisiteFact]
    public async Task CreateAsync_DuplicateEmployeeNumber_IsAConflictOnThatField()
    {
        var first = await database.CreateUserAsync();
        var count = await database.RunAsync(s => DomainDatabase.Db(s).Users.CountAsync());

        var error = await Assert.ThrowsAsync<RuleViolation>(() => database.RunAsync(s => s.GetRequiredService<UserDirectory>().CreateAsync(
            new UserInput(DomainDatabase.NewCode("u"), "Copy", null, null, first.EmployeeNumber, null, null), null, CancellationToken.None)));

        Assert.Equal(ViolationKind.Conflict, error.Kind);
        Assert.Contains(first.EmployeeNumber!, error.Errors["employeeNumber"][0], StringComparison.Ordinal);
        Assert.Equal(count, await database.RunAsync(s => DomainDatabase.Db(s).Users.CountAsync()));
    }

    [PrerequisiteFact]
    public async Task UpdateAsync_StaleRevision_IsRefused()
    {
        var department = await database.CreateDepartmentAsync("Legal");
        await database.RunAsync(s => s.GetRequiredService<Departments>().UpdateAsync(
            department.Id, new DepartmentInput(department.Code, "Legal & Compliance", null), Revision.Of(department.UpdatedAt), CancellationToken.None));

        var error = await Assert.ThrowsAsync<RuleViolation>(() => database.RunAsync(s => s.GetRequiredService<Departments>().UpdateAsync(
            department.Id, new DepartmentInput(department.Code, "Old view", null), Revision.Of(department.UpdatedAt), CancellationToken.None)));

        Assert.Equal(ViolationKind.Stale, error.Kind);
        Assert.Equal("Legal & Compliance", await database.RunAsync(s => DomainDatabase.Db(s).Departments.Where(d => d.Id == department.Id).Select(d => d.Name).SingleAsync()));
    }

    [PrerequisiteFact]
    public async Task UpdateAsync_TwoUpdatesWithinOneMillisecond_EachGetsANewETagAndTheStaleOneIsRefused()
    {
        var department = await database.CreateDepartmentAsync("Audit");
        var created = Revision.ETag(department.UpdatedAt);
        // Creation and both updates happen in the same millisecond: a revision taken from the clock alone would not change.
        database.Clock.FrozenAt = department.UpdatedAt;
        try
        {
            var first = await UpdateDepartmentAsync(department, "Internal Audit", Revision.Of(department.UpdatedAt));
            var second = await UpdateDepartmentAsync(first, "Internal Audit & Risk", Revision.Of(first.UpdatedAt));

            Assert.Equal(3, new[] { created, Revision.ETag(first.UpdatedAt), Revision.ETag(second.UpdatedAt) }.Distinct().Count());
            var stale = await Assert.ThrowsAsync<RuleViolation>(() => UpdateDepartmentAsync(first, "Lost update", Revision.Of(first.UpdatedAt)));
            Assert.Equal(ViolationKind.Stale, stale.Kind);
            var stored = await database.RunAsync(s => DomainDatabase.Db(s).Departments.AsNoTracking().SingleAsync(d => d.Id == department.Id));
            Assert.Equal("Internal Audit & Risk", stored.Name);
            // The revision survives the round trip through the database: the ETag read back is the one the update answered.
            Assert.Equal(Revision.ETag(second.UpdatedAt), Revision.ETag(stored.UpdatedAt));
        }
        finally
        {
            database.Clock.FrozenAt = null;
        }
    }

    private Task<Department> UpdateDepartmentAsync(Department department, string name, long revision) =>
        database.RunAsync(s => s.GetRequiredService<Departments>().UpdateAsync(department.Id, new DepartmentInput(department.Code, name, null), revision, CancellationToken.None));

    [PrerequisiteFact]
    public async Task GrantAsync_UntilBeforeFromAndUnknownIds_ReportsEachField()
    {
        var now = database.Clock.GetUtcNow();

        var error = await Assert.ThrowsAsync<RuleViolation>(() => database.GrantAsync(new AssignmentInput(
            "no-such-user", Guid.NewGuid(), null, now.AddDays(2), now.AddDays(1), "because")));

        Assert.Equal(ViolationKind.Invalid, error.Kind);
        Assert.Contains("userId", error.Errors.Keys);
        Assert.Contains("roleId", error.Errors.Keys);
        Assert.Contains("validUntil", error.Errors.Keys);
    }

    [PrerequisiteFact]
    public async Task ExplainAsync_ScopedAssignment_GivesPermissionWithParametersAndReason()
    {
        var (application, approve, _) = await database.CreateExpenseAppAsync();
        var role = await database.CreateRoleAsync(application.Id, "approver", delegable: false, new RolePermissionInput(approve.Id, new Dictionary<string, string> { ["amountLimit"] = "20000" }));
        var finance = await database.CreateDepartmentAsync("Finance");
        var user = await database.CreateUserAsync();
        var until = database.Clock.GetUtcNow().AddDays(30);
        var assignment = await database.GrantAsync(new AssignmentInput(user.Id, role.Id, finance.Id, null, until, "quarter close"));

        var grants = await database.RunAsync(s => s.GetRequiredService<EffectiveEntitlements>().ExplainAsync(user.Id, application.Id, CancellationToken.None));
        var rights = await database.RunAsync(s => s.GetRequiredService<EffectiveEntitlements>().ForApplicationAsync(user.Id, application.Id, CancellationToken.None));

        var grant = Assert.Single(grants);
        Assert.Equal("expense.approve", grant.Permission);
        Assert.Equal("20000", grant.Parameters["amountLimit"]);
        // Issue 17 §4: the assignment is named by its role, scope and dates; its id stays in AssignmentId.
        Assert.Equal(assignment.Id, grant.AssignmentId);
        Assert.Contains("granted by role 'approver'", grant.Reason, StringComparison.Ordinal);
        Assert.Contains("scoped to department 'Finance'", grant.Reason, StringComparison.Ordinal);
        Assert.Contains($"from {assignment.ValidFrom:yyyy-MM-dd} until {until:yyyy-MM-dd}", grant.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(assignment.Id.ToString(), grant.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(["approver"], rights.Roles);
        Assert.Equal(["expense.approve"], rights.Permissions);
    }

    [PrerequisiteFact]
    public async Task GrantAsync_SeparationOfDutyConflictInOverlappingScope_IsRefusedNamingRuleAndAssignment()
    {
        var (application, approve, submit) = await database.CreateExpenseAppAsync();
        var approver = await database.CreateRoleAsync(application.Id, "approver", false, new RolePermissionInput(approve.Id));
        var submitter = await database.CreateRoleAsync(application.Id, "submitter", false, new RolePermissionInput(submit.Id));
        var rule = DomainDatabase.NewCode("sod");
        await database.RunAsync(s => s.GetRequiredService<SeparationOfDuty>().CreateRuleAsync(
            new SodRuleInput(rule, null, null, null, submit.Id, approve.Id), CancellationToken.None));
        var finance = await database.CreateDepartmentAsync("Finance");
        var team = await database.CreateDepartmentAsync("Team", finance.Id);
        var user = await database.CreateUserAsync();
        var first = await database.GrantAsync(new AssignmentInput(user.Id, submitter.Id, team.Id, null, null, "submits"));

        var error = await Assert.ThrowsAsync<RuleViolation>(() => database.GrantAsync(new AssignmentInput(user.Id, approver.Id, finance.Id, null, null, "approves")));

        Assert.Equal(ViolationKind.Conflict, error.Kind);
        Assert.Contains($"rule '{rule}'", error.Title, StringComparison.Ordinal);
        // Issue 17 §4: the other assignment is named by role, scope and dates, not by its id.
        Assert.Contains($"already holds role 'submitter' (department 'Team', from {first.ValidFrom:yyyy-MM-dd}, no end date)", error.Title, StringComparison.Ordinal);
        Assert.Contains("overlaps role 'approver' (department 'Finance',", error.Title, StringComparison.Ordinal);
        Assert.DoesNotContain(first.Id.ToString(), error.Title, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1, await database.RunAsync(s => DomainDatabase.Db(s).RoleAssignments.CountAsync(a => a.UserId == user.Id)));
    }

    [PrerequisiteFact]
    public async Task GrantAsync_SeparationOfDutyInDisjointDepartments_IsAllowed()
    {
        var (application, approve, submit) = await database.CreateExpenseAppAsync();
        var approver = await database.CreateRoleAsync(application.Id, "approver", false, new RolePermissionInput(approve.Id));
        var submitter = await database.CreateRoleAsync(application.Id, "submitter", false, new RolePermissionInput(submit.Id));
        await database.RunAsync(s => s.GetRequiredService<SeparationOfDuty>().CreateRuleAsync(
            new SodRuleInput(DomainDatabase.NewCode("sod"), null, submitter.Id, approver.Id, null, null), CancellationToken.None));
        var user = await database.CreateUserAsync();
        await database.GrantAsync(new AssignmentInput(user.Id, submitter.Id, (await database.CreateDepartmentAsync("East")).Id, null, null, "east"));

        var second = await database.GrantAsync(new AssignmentInput(user.Id, approver.Id, (await database.CreateDepartmentAsync("West")).Id, null, null, "west"));

        Assert.NotEqual(Guid.Empty, second.Id);
    }

    [PrerequisiteFact]
    public async Task GrantAsync_HrAdminWithNonDelegableRoleOrOutsideSubtree_IsForbidden()
    {
        var (application, approve, _) = await database.CreateExpenseAppAsync();
        var delegable = await database.CreateRoleAsync(application.Id, "delegable", true, new RolePermissionInput(approve.Id));
        var restricted = await database.CreateRoleAsync(application.Id, "restricted", false, new RolePermissionInput(approve.Id));
        var mine = await database.CreateDepartmentAsync("Mine");
        var below = await database.CreateDepartmentAsync("Below", mine.Id);
        var other = await database.CreateDepartmentAsync("Other");
        var hr = await database.CreateUserAsync();
        await database.RunAsync(s => s.GetRequiredService<UserDirectory>().SetAdminRolesAsync(hr.Id, [AdminRoles.HrAdmin], [mine.Id], CancellationToken.None));
        // HR administrators act on people inside their subtrees only; this one works in it.
        var user = await database.CreateUserAsync(below.Id);
        database.Actor = new Actor(hr.Id, hr.UserName!, new HashSet<string> { AdminRoles.HrAdmin });
        try
        {
            var notDelegable = await Assert.ThrowsAsync<RuleViolation>(() => database.GrantAsync(new AssignmentInput(user.Id, restricted.Id, below.Id, null, null, "x")));
            var outside = await Assert.ThrowsAsync<RuleViolation>(() => database.GrantAsync(new AssignmentInput(user.Id, delegable.Id, other.Id, null, null, "x")));
            var allowed = await database.GrantAsync(new AssignmentInput(user.Id, delegable.Id, below.Id, null, null, "x"));

            Assert.Equal(ViolationKind.Forbidden, notDelegable.Kind);
            Assert.Contains("not delegable", notDelegable.Title, StringComparison.Ordinal);
            Assert.Equal(ViolationKind.Forbidden, outside.Kind);
            Assert.Contains("outside the departments you administer", outside.Title, StringComparison.Ordinal);
            Assert.Contains(hr.Id, allowed.GrantedBy, StringComparison.Ordinal);
        }
        finally
        {
            database.Actor = Actor.System;
        }
    }

    [PrerequisiteFact]
    public async Task RecordExpiredAsync_AfterUntilPasses_StopsCountingAndRecordsOnce()
    {
        var (application, approve, _) = await database.CreateExpenseAppAsync();
        var role = await database.CreateRoleAsync(application.Id, "temp", false, new RolePermissionInput(approve.Id));
        var user = await database.CreateUserAsync();
        var assignment = await database.GrantAsync(new AssignmentInput(user.Id, role.Id, null, null, database.Clock.GetUtcNow().AddHours(1), "cover"));
        try
        {
            database.Clock.Offset = TimeSpan.FromHours(2);
            var first = await database.RunAsync(s => s.GetRequiredService<AssignmentExpiry>().RecordExpiredAsync(CancellationToken.None));
            var second = await database.RunAsync(s => s.GetRequiredService<AssignmentExpiry>().RecordExpiredAsync(CancellationToken.None));
            var rights = await database.RunAsync(s => s.GetRequiredService<EffectiveEntitlements>().ForApplicationAsync(user.Id, application.Id, CancellationToken.None));

            Assert.True(first >= 1);
            Assert.Equal(0, second);
            Assert.Empty(rights.Permissions);
            Assert.Equal(1, await database.RunAsync(s => DomainDatabase.Db(s).AuditEvents.CountAsync(e => e.Type == "assignment.expired" && e.After!.Contains(assignment.Id.ToString()))));
        }
        finally
        {
            database.Clock.Offset = TimeSpan.Zero;
        }
    }

    [PrerequisiteFact]
    public async Task MarkLeftAsync_UserWithAssignments_EndsThemAndHoldsNothing()
    {
        var (application, approve, _) = await database.CreateExpenseAppAsync();
        var role = await database.CreateRoleAsync(application.Id, "approver", false, new RolePermissionInput(approve.Id));
        var user = await database.CreateUserAsync();
        await database.GrantAsync(new AssignmentInput(user.Id, role.Id, null, null, null, "job"));

        await database.RunAsync(s => s.GetRequiredService<UserDirectory>().MarkLeftAsync(user.Id, "resigned", CancellationToken.None));

        var open = await database.RunAsync(s => DomainDatabase.Db(s).RoleAssignments.CountAsync(a => a.UserId == user.Id && a.EndedAt == null));
        var status = await database.RunAsync(s => DomainDatabase.Db(s).Users.Where(u => u.Id == user.Id).Select(u => u.Status).SingleAsync());
        Assert.Equal(0, open);
        Assert.Equal(UserStatus.Left, status);
        await Assert.ThrowsAsync<RuleViolation>(() => database.RunAsync(s => s.GetRequiredService<UserDirectory>().ReactivateAsync(user.Id, CancellationToken.None)));
    }

    [PrerequisiteFact]
    public async Task CreateInBatchAsync_SavesNothingItself_AndTheNextRowMeetsTheUnsavedUserAsTakingTheName()
    {
        var name = $"batch-{Guid.NewGuid():N}";

        var (savedByTheRow, savedByTheBatch, clash) = await database.RunAsync(async s =>
        {
            var db = DomainDatabase.Db(s);
            var directory = s.GetRequiredService<UserDirectory>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            var known = await directory.LoadKnownAsync([name, name.ToUpperInvariant()], [], CancellationToken.None);
            var user = await directory.CreateInBatchAsync(
                new UserInput(name, "Batched", null, null, null, null, null), known, invite: false, invitationCause: null, CancellationToken.None);
            var savedByTheRow = await db.Users.AsNoTracking().AnyAsync(u => u.Id == user.Id);
            var clash = await Assert.ThrowsAsync<RuleViolation>(() => directory.CreateInBatchAsync(
                new UserInput(name.ToUpperInvariant(), "Clash", null, null, null, null, null), known, invite: false, invitationCause: null, CancellationToken.None));
            await db.SaveChangesAsync();
            var savedByTheBatch = await db.Users.AsNoTracking().AnyAsync(u => u.Id == user.Id);
            await transaction.RollbackAsync();
            return (savedByTheRow, savedByTheBatch, clash);
        });

        Assert.False(savedByTheRow);
        Assert.True(savedByTheBatch);
        Assert.Equal($"The user name '{name.ToUpperInvariant()}' is taken.", Assert.Single(clash.Errors["userName"]));
    }

    [PrerequisiteFact]
    public async Task VerifyAsync_AfterARowIsEdited_ReportsThatRowAsTheFirstBrokenLink()
    {
        await database.CreateDepartmentAsync("Audited");
        var intact = await database.RunAsync(s => s.GetRequiredService<AuditTrail>().VerifyAsync(CancellationToken.None));
        Assert.True(intact.Intact, intact.Problem);
        var victim = await database.RunAsync(s => DomainDatabase.Db(s).AuditEvents.Where(e => e.Type == "department.created").OrderBy(e => e.Sequence).Select(e => e.Sequence).FirstAsync());

        await database.RunAsync(s => DomainDatabase.Db(s).AuditEvents.Where(e => e.Sequence == victim).ExecuteUpdateAsync(u => u.SetProperty(e => e.ActorName, "someone else")));
        try
        {
            var broken = await database.RunAsync(s => s.GetRequiredService<AuditTrail>().VerifyAsync(CancellationToken.None));

            Assert.False(broken.Intact);
            Assert.Equal(victim, broken.FirstBrokenSequence);
        }
        finally
        {
            await database.RunAsync(s => DomainDatabase.Db(s).AuditEvents.Where(e => e.Sequence == victim).ExecuteUpdateAsync(u => u.SetProperty(e => e.ActorName, Actor.System.Name)));
        }
    }

    [PrerequisiteFact]
    public async Task RecordAsync_SeveralEventsInOneTransaction_LinkInOrderAcrossSavesAndAClearedContext()
    {
        // The head is read once per transaction and moves with each save; an event dropped with a cleared context (a
        // failed save) leaves no gap: the next event reads the head again.
        var recorded = await database.RunAsync(async s =>
        {
            var db = DomainDatabase.Db(s);
            var audit = s.GetRequiredService<AuditTrail>();
            Task<AuditEvent> Record(string type) => audit.RecordAsync(type, "test", null, null, new { type }, CancellationToken.None);
            return await db.InTransactionAsync(async () =>
            {
                await audit.SerializeAsync(CancellationToken.None);
                var first = await Record("test.first");
                var second = await Record("test.second");
                await db.SaveChangesAsync();
                await Record("test.dropped");
                db.ChangeTracker.Clear();
                var third = await Record("test.third");
                await db.SaveChangesAsync();
                return new[] { first, second, third }.Select(e => (e.Sequence, e.Type)).ToList();
            }, CancellationToken.None);
        });

        var start = recorded[0].Sequence;
        Assert.Equal([(start, "test.first"), (start + 1, "test.second"), (start + 2, "test.third")], recorded);
        var stored = await database.RunAsync(s => DomainDatabase.Db(s).AuditEvents.Where(e => e.Sequence >= start)
            .OrderBy(e => e.Sequence).Select(e => new { e.Sequence, e.Type }).ToListAsync());
        Assert.Equal(recorded, stored.Select(e => (e.Sequence, e.Type)).Take(3).ToList());
        var head = await database.RunAsync(s => DomainDatabase.Db(s).AuditChainHead.AsNoTracking().SingleAsync());
        Assert.True(head.Sequence >= start + 2);
        var verification = await database.RunAsync(s => s.GetRequiredService<AuditTrail>().VerifyAsync(CancellationToken.None));
        Assert.True(verification.Intact, verification.Problem);
    }

    [PrerequisiteFact]
    public async Task RecordAsync_ConcurrentWriters_KeepOneUnbrokenChain()
    {
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => database.CreateDepartmentAsync($"Parallel {i}")));

        var verification = await database.RunAsync(s => s.GetRequiredService<AuditTrail>().VerifyAsync(CancellationToken.None));

        Assert.True(verification.Intact, verification.Problem);
    }
}

public sealed class SqliteDomainTests(SqliteDomainDatabase database) : DomainTests<SqliteDomainDatabase>(database);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlDomainTests(PostgreSqlDomainDatabase database) : DomainTests<PostgreSqlDomainDatabase>(database);
