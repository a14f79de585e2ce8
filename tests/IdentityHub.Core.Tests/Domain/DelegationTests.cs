using IdentityHub.Core.Access;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Directory;
using IdentityHub.Data.Directory;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Core.Tests.Domain;

/// <summary>
/// Delegated administration in the Core (issue 6): an HR administrator stays inside the department subtrees
/// they administer, never manages another administrator's status or name, never grants to themselves; the last
/// active super administrator cannot be taken out of service. Every refusal changes nothing.
/// </summary>
public abstract class DelegationTests<TDatabase>(TDatabase database) : IClassFixture<TDatabase>
    where TDatabase : DomainDatabase
{
    [PrerequisiteFact]
    public async Task CreateDepartment_HrAdminOutsideOrAtTheTopLevel_IsForbiddenAndInsideIsAllowed()
    {
        var mine = await database.CreateDepartmentAsync("Mine");
        var other = await database.CreateDepartmentAsync("Other");
        var hr = await database.CreateHrAdminAsync(mine.Id, mine.Id);
        var before = await CountAsync();

        var outside = await RefusedAsync(hr, s => Departments(s).CreateAsync(new DepartmentInput(DomainDatabase.NewCode("D"), "Sneaky", other.Id), CancellationToken.None));
        var top = await RefusedAsync(hr, s => Departments(s).CreateAsync(new DepartmentInput(DomainDatabase.NewCode("D"), "Top", null), CancellationToken.None));
        var inside = await database.AsAsync(hr, () => database.CreateDepartmentAsync("Team", mine.Id));

        Assert.Equal(ViolationKind.Forbidden, outside.Kind);
        Assert.Contains("'Other' is outside the departments you administer", outside.Title, StringComparison.Ordinal);
        Assert.True(outside.Errors.ContainsKey("parentId"));
        Assert.Equal(ViolationKind.Forbidden, top.Kind);
        Assert.Equal(mine.Id, inside.ParentId);
        Assert.Equal(before + 1, await CountAsync());
    }

    [PrerequisiteFact]
    public async Task MoveDepartment_HrAdminPullsAnOutsideDepartmentUnderTheirs_IsForbiddenAndMovesNothing()
    {
        var mine = await database.CreateDepartmentAsync("Mine");
        var other = await database.CreateDepartmentAsync("Other");
        var hr = await database.CreateHrAdminAsync(mine.Id, mine.Id);

        var error = await RefusedAsync(hr, s => Departments(s).MoveAsync(other.Id, mine.Id, null, CancellationToken.None));
        var viaUpdate = await RefusedAsync(hr, s => Departments(s).UpdateAsync(other.Id, new DepartmentInput(other.Code, other.Name, mine.Id), null, CancellationToken.None));

        Assert.Equal(ViolationKind.Forbidden, error.Kind);
        Assert.Contains("'Other' is outside", error.Title, StringComparison.Ordinal);
        Assert.Equal(ViolationKind.Forbidden, viaUpdate.Kind);
        var stored = await database.RunAsync(s => DomainDatabase.Db(s).Departments.AsNoTracking().SingleAsync(d => d.Id == other.Id));
        Assert.Null(stored.ParentId);
        Assert.Equal(other.Path, stored.Path);
    }

    [PrerequisiteFact]
    public async Task MoveDepartment_HrAdminMovesTheirOwnOutOfTheirSubtree_IsForbiddenButWithinItIsAllowed()
    {
        var mine = await database.CreateDepartmentAsync("Mine");
        var team = await database.CreateDepartmentAsync("Team", mine.Id);
        var squad = await database.CreateDepartmentAsync("Squad", mine.Id);
        var other = await database.CreateDepartmentAsync("Other");
        var hr = await database.CreateHrAdminAsync(mine.Id, mine.Id);

        var outside = await RefusedAsync(hr, s => Departments(s).MoveAsync(team.Id, other.Id, null, CancellationToken.None));
        var top = await RefusedAsync(hr, s => Departments(s).MoveAsync(team.Id, null, null, CancellationToken.None));
        var moved = await database.AsAsync(hr, () => database.RunAsync(s => Departments(s).MoveAsync(team.Id, squad.Id, null, CancellationToken.None)));

        Assert.Equal(ViolationKind.Forbidden, outside.Kind);
        Assert.True(outside.Errors.ContainsKey("parentId"));
        Assert.Equal(ViolationKind.Forbidden, top.Kind);
        Assert.Equal(squad.Id, moved.ParentId);
    }

    [PrerequisiteFact]
    public async Task RenameAndDeleteDepartment_HrAdminOutsideTheirSubtree_AreForbiddenAndChangeNothing()
    {
        var mine = await database.CreateDepartmentAsync("Mine");
        var other = await database.CreateDepartmentAsync("Other");
        var hr = await database.CreateHrAdminAsync(mine.Id, mine.Id);

        var rename = await RefusedAsync(hr, s => Departments(s).UpdateAsync(other.Id, new DepartmentInput(other.Code, "Renamed", null), null, CancellationToken.None));
        var delete = await RefusedAsync(hr, s => Departments(s).DeleteAsync(other.Id, null, CancellationToken.None));

        Assert.Equal(ViolationKind.Forbidden, rename.Kind);
        Assert.Equal(ViolationKind.Forbidden, delete.Kind);
        Assert.Equal("Other", await database.RunAsync(s => DomainDatabase.Db(s).Departments.Where(d => d.Id == other.Id).Select(d => d.Name).SingleAsync()));
    }

    [PrerequisiteFact]
    public async Task UserWrites_HrAdminOnSomeoneOutsideTheirSubtree_AreForbiddenAndChangeNothing()
    {
        var mine = await database.CreateDepartmentAsync("Mine");
        var other = await database.CreateDepartmentAsync("Other");
        var outsider = await database.CreateUserAsync(other.Id);
        var insider = await database.CreateUserAsync(mine.Id);
        var hr = await database.CreateHrAdminAsync(mine.Id, mine.Id);

        var create = await RefusedAsync(hr, s => Directory(s).CreateAsync(
            new UserInput(DomainDatabase.NewCode("u"), "New", null, null, DomainDatabase.NewCode("E"), other.Id, null), null, CancellationToken.None));
        var edit = await RefusedAsync(hr, s => Directory(s).UpdateAsync(outsider.Id, InputOf(outsider, displayName: "Edited"), null, CancellationToken.None));
        var suspend = await RefusedAsync(hr, s => Directory(s).SuspendAsync(outsider.Id, "x", CancellationToken.None));
        var pushOut = await RefusedAsync(hr, s => Directory(s).UpdateAsync(insider.Id, InputOf(insider, departmentId: other.Id), null, CancellationToken.None));

        Assert.All(new[] { create, edit, suspend, pushOut }, e => Assert.Equal(ViolationKind.Forbidden, e.Kind));
        Assert.Contains("outside the departments you administer", suspend.Title, StringComparison.Ordinal);
        Assert.True(pushOut.Errors.ContainsKey("departmentId"));
        var stored = await database.RunAsync(s => DomainDatabase.Db(s).Users.AsNoTracking().Where(u => u.Id == outsider.Id || u.Id == insider.Id).ToListAsync());
        Assert.Equal(UserStatus.Active, stored.Single(u => u.Id == outsider.Id).Status);
        Assert.Equal("Test Person", stored.Single(u => u.Id == outsider.Id).DisplayName);
        Assert.Equal(mine.Id, stored.Single(u => u.Id == insider.Id).DepartmentId);
    }

    [PrerequisiteFact]
    public async Task EndAssignment_HrAdminOnSomeoneOutsideTheirSubtree_IsForbiddenEvenWhenScopedInside()
    {
        var (application, approve, _) = await database.CreateExpenseAppAsync();
        var role = await database.CreateRoleAsync(application.Id, "delegable", true, new RolePermissionInput(approve.Id));
        var mine = await database.CreateDepartmentAsync("Mine");
        var other = await database.CreateDepartmentAsync("Other");
        var outsider = await database.CreateUserAsync(other.Id);
        var assignment = await database.GrantAsync(new AssignmentInput(outsider.Id, role.Id, mine.Id, null, null, "granted by a super administrator"));
        var hr = await database.CreateHrAdminAsync(mine.Id, mine.Id);

        var error = await RefusedAsync(hr, s => s.GetRequiredService<RoleAssignments>().EndAsync(assignment.Id, "x", CancellationToken.None));

        Assert.Equal(ViolationKind.Forbidden, error.Kind);
        Assert.Contains("outside the departments you administer", error.Title, StringComparison.Ordinal);
        Assert.Null(await database.RunAsync(s => DomainDatabase.Db(s).RoleAssignments.Where(a => a.Id == assignment.Id).Select(a => a.EndedAt).SingleAsync()));
    }

    [PrerequisiteFact]
    public async Task GrantAsync_HrAdminToThemselves_IsForbidden()
    {
        var (application, approve, _) = await database.CreateExpenseAppAsync();
        var role = await database.CreateRoleAsync(application.Id, "delegable", true, new RolePermissionInput(approve.Id));
        var mine = await database.CreateDepartmentAsync("Mine");
        var hr = await database.CreateHrAdminAsync(mine.Id, mine.Id);

        var error = await RefusedAsync(hr, s => s.GetRequiredService<RoleAssignments>().GrantAsync(
            new AssignmentInput(hr.Id, role.Id, mine.Id, null, null, "myself"), CancellationToken.None));

        Assert.Equal(ViolationKind.Forbidden, error.Kind);
        Assert.Contains("of your own", error.Title, StringComparison.Ordinal);
        Assert.False(await database.RunAsync(s => DomainDatabase.Db(s).RoleAssignments.AnyAsync(a => a.UserId == hr.Id)));
    }

    [PrerequisiteFact]
    public async Task StatusAndUserName_HrAdminOnAnAdministratorInTheirSubtree_AreForbiddenButOtherFieldsAreNot()
    {
        var mine = await database.CreateDepartmentAsync("Mine");
        var colleague = await database.CreateUserAsync(mine.Id);
        await database.RunAsync(s => Directory(s).SetAdminRolesAsync(colleague.Id, [AdminRoles.Auditor], [], CancellationToken.None));
        var hr = await database.CreateHrAdminAsync(mine.Id, mine.Id);

        var suspend = await RefusedAsync(hr, s => Directory(s).SuspendAsync(colleague.Id, "x", CancellationToken.None));
        var left = await RefusedAsync(hr, s => Directory(s).MarkLeftAsync(colleague.Id, "x", CancellationToken.None));
        var rename = await RefusedAsync(hr, s => Directory(s).UpdateAsync(colleague.Id, InputOf(colleague, userName: DomainDatabase.NewCode("renamed")), null, CancellationToken.None));
        var edited = await database.AsAsync(hr, () => database.RunAsync(s => Directory(s).UpdateAsync(colleague.Id, InputOf(colleague, displayName: "New Display Name"), null, CancellationToken.None)));

        Assert.All(new[] { suspend, left, rename }, e => Assert.Equal(ViolationKind.Forbidden, e.Kind));
        Assert.Contains("is an administrator", suspend.Title, StringComparison.Ordinal);
        Assert.Equal("New Display Name", edited.DisplayName);
        var stored = await database.RunAsync(s => DomainDatabase.Db(s).Users.AsNoTracking().SingleAsync(u => u.Id == colleague.Id));
        Assert.Equal(UserStatus.Active, stored.Status);
        Assert.Equal(colleague.UserName, stored.UserName);
    }

    [PrerequisiteFact]
    public async Task EndSessionsAsync_HrAdmin_IsForbidden()
    {
        var mine = await database.CreateDepartmentAsync("Mine");
        var user = await database.CreateUserAsync(mine.Id);
        var hr = await database.CreateHrAdminAsync(mine.Id, mine.Id);
        var stamp = await StampAsync(user.Id);

        var error = await RefusedAsync(hr, s => Directory(s).EndSessionsAsync(user.Id, CancellationToken.None));

        Assert.Equal(ViolationKind.Forbidden, error.Kind);
        Assert.Equal(stamp, await StampAsync(user.Id));
    }

    [PrerequisiteFact]
    public async Task StatusAndRoles_LastActiveSuperAdmin_AreRefusedWith409AndStayAsTheyWere()
    {
        var admin = await database.RunAsync(s => DomainDatabase.Db(s).Users.AsNoTracking().SingleAsync(u => u.UserName == FirstAdministrator.UserName));

        var suspend = await RefusedAsync(Actor.System, s => Directory(s).SuspendAsync(admin.Id, "x", CancellationToken.None));
        var left = await RefusedAsync(Actor.System, s => Directory(s).MarkLeftAsync(admin.Id, "x", CancellationToken.None));
        var demote = await RefusedAsync(Actor.System, s => Directory(s).SetAdminRolesAsync(admin.Id, [AdminRoles.Auditor], [], CancellationToken.None));

        Assert.All(new[] { suspend, left, demote }, e => Assert.Equal(ViolationKind.Conflict, e.Kind));
        Assert.Contains("last active super administrator", suspend.Title, StringComparison.Ordinal);
        Assert.Equal("superAdmin.last", demote.Code?.Code);
        Assert.Equal(UserStatus.Active, await database.RunAsync(s => DomainDatabase.Db(s).Users.Where(u => u.Id == admin.Id).Select(u => u.Status).SingleAsync()));
        Assert.Contains(AdminRoles.SuperAdmin, await RolesAsync(admin.Id));
    }

    [PrerequisiteFact]
    public async Task SuspendAsync_ASuperAdminWhileAnotherIsActive_IsAllowed()
    {
        var second = await database.CreateUserAsync();
        await database.RunAsync(s => Directory(s).SetAdminRolesAsync(second.Id, [AdminRoles.SuperAdmin], [], CancellationToken.None));

        var suspended = await database.RunAsync(s => Directory(s).SuspendAsync(second.Id, "leave of absence", CancellationToken.None));

        Assert.Equal(UserStatus.Suspended, suspended.Status);
    }

    [PrerequisiteFact]
    public async Task UpdateRole_NewPermissionMakesAHolderBreakARule_IsRefusedNamingRuleAndHolderAndWritesNothing()
    {
        var (application, approve, submit) = await database.CreateExpenseAppAsync();
        var approver = await database.CreateRoleAsync(application.Id, "approver", false, new RolePermissionInput(approve.Id));
        var submitter = await database.CreateRoleAsync(application.Id, "submitter", false, new RolePermissionInput(submit.Id));
        var rule = DomainDatabase.NewCode("sod");
        await database.RunAsync(s => s.GetRequiredService<SeparationOfDuty>().CreateRuleAsync(
            new SodRuleInput(rule, null, null, null, submit.Id, approve.Id), CancellationToken.None));
        var holder = await database.CreateUserAsync();
        await database.GrantAsync(new AssignmentInput(holder.Id, submitter.Id, null, null, null, "submits"));

        var error = await Assert.ThrowsAsync<RuleViolation>(() => database.RunAsync(s => s.GetRequiredService<Roles>().UpdateAsync(
            submitter.Id, new RoleInput(application.Id, "submitter", null, false, [new(submit.Id), new(approve.Id)]), null, CancellationToken.None)));

        Assert.Equal(ViolationKind.Conflict, error.Kind);
        Assert.Contains($"rule '{rule}'", error.Title, StringComparison.Ordinal);
        Assert.Contains($"'{holder.UserName}'", error.Title, StringComparison.Ordinal);
        Assert.Equal("sod.roleChange", error.Code?.Code);
        var bundled = await database.RunAsync(s => DomainDatabase.Db(s).AccessRoles.AsNoTracking().Include(r => r.Permissions).SingleAsync(r => r.Id == submitter.Id));
        Assert.Equal([submit.Id], bundled.Permissions.Select(p => p.PermissionId));
        Assert.Equal(submitter.UpdatedAt, bundled.UpdatedAt);
        Assert.NotNull(approver);
    }

    [PrerequisiteFact]
    public async Task UpdateRole_NewPermissionWithoutConflictingHolders_IsSaved()
    {
        var (application, approve, submit) = await database.CreateExpenseAppAsync();
        var submitter = await database.CreateRoleAsync(application.Id, "submitter", false, new RolePermissionInput(submit.Id));
        await database.RunAsync(s => s.GetRequiredService<SeparationOfDuty>().CreateRuleAsync(
            new SodRuleInput(DomainDatabase.NewCode("sod"), null, null, null, submit.Id, approve.Id), CancellationToken.None));

        var updated = await database.RunAsync(s => s.GetRequiredService<Roles>().UpdateAsync(
            submitter.Id, new RoleInput(application.Id, "submitter", null, false, [new(submit.Id), new(approve.Id)]), null, CancellationToken.None));

        Assert.Equal(2, updated.Permissions.Count);
    }

    private static Departments Departments(IServiceProvider services) => services.GetRequiredService<Departments>();

    private static UserDirectory Directory(IServiceProvider services) => services.GetRequiredService<UserDirectory>();

    private static UserInput InputOf(UserAccount user, string? userName = null, string? displayName = null, Guid? departmentId = null) =>
        new(userName ?? user.UserName, displayName ?? user.DisplayName, user.Email, user.PhoneNumber, user.EmployeeNumber, departmentId ?? user.DepartmentId, user.ManagerId);

    private Task<RuleViolation> RefusedAsync<T>(Actor actor, Func<IServiceProvider, Task<T>> work) =>
        database.AsAsync(actor, () => Assert.ThrowsAsync<RuleViolation>(() => database.RunAsync(work)));

    private Task<RuleViolation> RefusedAsync(Actor actor, Func<IServiceProvider, Task> work) =>
        database.AsAsync(actor, () => Assert.ThrowsAsync<RuleViolation>(() => database.RunAsync(work)));

    private Task<int> CountAsync() => database.RunAsync(s => DomainDatabase.Db(s).Departments.CountAsync());

    private Task<string?> StampAsync(string userId) =>
        database.RunAsync(s => DomainDatabase.Db(s).Users.Where(u => u.Id == userId).Select(u => u.SecurityStamp).SingleAsync());

    private Task<IList<string>> RolesAsync(string userId) => database.RunAsync(async s =>
    {
        var users = s.GetRequiredService<UserManager<UserAccount>>();
        return await users.GetRolesAsync((await users.FindByIdAsync(userId))!);
    });
}

public sealed class SqliteDelegationTests(SqliteDomainDatabase database) : DelegationTests<SqliteDomainDatabase>(database);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlDelegationTests(PostgreSqlDomainDatabase database) : DelegationTests<PostgreSqlDomainDatabase>(database);

/// <summary>Issue 6: checks that two changes at the same instant could both pass on PostgreSQL (read committed) are serialised.</summary>
[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlConcurrencyTests(PostgreSqlDomainDatabase database) : IClassFixture<PostgreSqlDomainDatabase>
{
    [PrerequisiteFact]
    public async Task MoveAsync_TwoDepartmentsUnderEachOtherAtOnce_ExactlyOneMovesAndNoCycleForms()
    {
        var pairs = await Task.WhenAll(Enumerable.Range(0, 5).Select(async i =>
            (A: await database.CreateDepartmentAsync($"A{i}"), B: await database.CreateDepartmentAsync($"B{i}"))));

        var outcomes = await Task.WhenAll(pairs.Select(async pair =>
        {
            using var start = new SemaphoreSlim(0);
            var moves = new[] { (pair.A.Id, pair.B.Id), (pair.B.Id, pair.A.Id) }.Select(async move =>
            {
                await start.WaitAsync();
                try
                {
                    await database.RunAsync(s => s.GetRequiredService<Departments>().MoveAsync(move.Item1, move.Item2, null, CancellationToken.None));
                    return (RuleViolation?)null;
                }
                catch (RuleViolation violation)
                {
                    return violation;
                }
            }).ToList();
            start.Release(2);
            return (pair.A, pair.B, Results: await Task.WhenAll(moves));
        }));

        foreach (var (a, b, results) in outcomes)
        {
            Assert.Equal(1, results.Count(r => r is null));
            Assert.Contains("cycle", Assert.Single(results, r => r is not null)!.Title, StringComparison.Ordinal);
            var parents = await database.RunAsync(s => DomainDatabase.Db(s).Departments.AsNoTracking()
                .Where(d => d.Id == a.Id || d.Id == b.Id).ToDictionaryAsync(d => d.Id, d => d.ParentId));
            Assert.Single(parents.Values, p => p is null);
        }
    }

    [PrerequisiteFact]
    public async Task GrantAsync_TwoConflictingGrantsAtOnce_ExactlyOneSucceeds()
    {
        var (application, approve, submit) = await database.CreateExpenseAppAsync();
        var approver = await database.CreateRoleAsync(application.Id, "approver", false, new RolePermissionInput(approve.Id));
        var submitter = await database.CreateRoleAsync(application.Id, "submitter", false, new RolePermissionInput(submit.Id));
        await database.RunAsync(s => s.GetRequiredService<SeparationOfDuty>().CreateRuleAsync(
            new SodRuleInput(DomainDatabase.NewCode("sod"), null, submitter.Id, approver.Id, null, null), CancellationToken.None));
        var people = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => database.CreateUserAsync()));

        // Each person gets both roles at the same instant; without a lock both checks see nothing held yet.
        var outcomes = await Task.WhenAll(people.Select(async person =>
        {
            using var start = new SemaphoreSlim(0);
            var grants = new[] { submitter.Id, approver.Id }.Select(async role =>
            {
                await start.WaitAsync();
                try
                {
                    await database.GrantAsync(new AssignmentInput(person.Id, role, null, null, null, "at once"));
                    return (RuleViolation?)null;
                }
                catch (RuleViolation violation)
                {
                    return violation;
                }
            }).ToList();
            start.Release(2);
            return (Person: person.Id, Results: await Task.WhenAll(grants));
        }));

        foreach (var (person, results) in outcomes)
        {
            Assert.Equal(1, results.Count(r => r is null));
            var refused = Assert.Single(results, r => r is not null)!;
            Assert.Equal(ViolationKind.Conflict, refused.Kind);
            Assert.StartsWith("Separation of duty", refused.Title, StringComparison.Ordinal);
            Assert.Equal(1, await database.RunAsync(s => DomainDatabase.Db(s).RoleAssignments.CountAsync(a => a.UserId == person)));
        }
    }
}
