using IdentityHub.Core.Access;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Inbound;
using IdentityHub.Data.Directory;
using IdentityHub.Data.Inbound;
using IdentityHub.Provisioning.Inbound;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Core.Tests.Domain;

/// <summary>
/// Issue 14: what comes in from an OA or HR source goes through the directory's own rules as the source (an HR
/// administrator of its subtrees), writes only what the source owns, is idempotent, links late managers, and the
/// source's ownership holds against changes made elsewhere. Every refusal writes nothing.
/// </summary>
public abstract class OrganisationIntakeTests<TDatabase>(TDatabase database) : IClassFixture<TDatabase>
    where TDatabase : DomainDatabase
{
    [PrerequisiteFact]
    public async Task ApplyPerson_SameRecordTwice_SecondChangesNothingAndIsAuditedAsTheSource()
    {
        var (source, root) = await CreateSourceAsync();
        var person = Person(root.Id);

        var first = await ApplyAsync(source, person);
        var events = await AuditCountAsync();
        var second = await ApplyAsync(source, person);

        Assert.Equal(IntakeOutcome.Created, first.Outcome);
        Assert.Equal(IntakeOutcome.Unchanged, second.Outcome);
        Assert.Equal(first.Value.Id, second.Value.Id);
        Assert.Equal(events, await AuditCountAsync());
        var stored = await UserAsync(first.Value.Id);
        Assert.Equal(source.Id, stored.SourceId);
        Assert.Equal(person.ExternalId, stored.ExternalId);
        var created = await database.RunAsync(s => DomainDatabase.Db(s).AuditEvents.AsNoTracking()
            .SingleAsync(e => e.Type == "user.created" && e.TargetId == first.Value.Id));
        Assert.Equal(SourceActor.IdOf(source.Id), created.ActorId);
        Assert.Contains(source.Name, created.ActorName, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task ApplyPerson_ManagerNamedBeforeTheyArrive_IsLinkedWhenTheManagerArrives()
    {
        var (source, root) = await CreateSourceAsync();
        var boss = Person(root.Id);
        var report = Person(root.Id) with { ManagerRef = boss.EmployeeNumber };

        var waiting = await ApplyAsync(source, report);
        Assert.Null((await UserAsync(waiting.Value.Id)).ManagerId);
        Assert.Equal(boss.EmployeeNumber, (await UserAsync(waiting.Value.Id)).PendingManagerRef);

        var arrived = await ApplyAsync(source, boss);

        var linked = await UserAsync(waiting.Value.Id);
        Assert.Equal(arrived.Value.Id, linked.ManagerId);
        Assert.Null(linked.PendingManagerRef);
    }

    [PrerequisiteFact]
    public async Task ApplyPerson_IntoADepartmentOutsideTheSourcesSubtrees_IsForbiddenAndWritesNothing()
    {
        var (source, _) = await CreateSourceAsync();
        var elsewhere = await database.CreateDepartmentAsync("Elsewhere");
        var users = await UserCountAsync();

        var refusal = await Assert.ThrowsAsync<RuleViolation>(() => ApplyAsync(source, Person(elsewhere.Id)));

        Assert.Equal(ViolationKind.Forbidden, refusal.Kind);
        Assert.Equal(users, await UserCountAsync());
    }

    [PrerequisiteFact]
    public async Task ApplyPerson_Update_WritesOnlyTheAttributesTheSourceOwns()
    {
        var (source, root) = await CreateSourceAsync();
        var person = Person(root.Id);
        var created = await ApplyAsync(source, person);

        var result = await ApplyAsync(source, person with { DisplayName = "Renamed in HR", Email = "other@example.com" });

        var stored = await UserAsync(created.Value.Id);
        Assert.Equal(IntakeOutcome.Updated, result.Outcome);
        Assert.Equal("Renamed in HR", stored.DisplayName);
        Assert.Equal(person.Email, stored.Email);
    }

    [PrerequisiteFact]
    public async Task ApplyPerson_ManagerLoop_IsRefusedAndWritesNothing()
    {
        var (source, root) = await CreateSourceAsync();
        var a = Person(root.Id);
        var b = Person(root.Id) with { ManagerRef = a.EmployeeNumber };
        var first = await ApplyAsync(source, a);
        await ApplyAsync(source, b);
        var events = await AuditCountAsync();

        var refusal = await Assert.ThrowsAsync<RuleViolation>(() => ApplyAsync(source, a with { ManagerRef = b.EmployeeNumber }));

        Assert.True(refusal.Errors.ContainsKey("managerId"));
        Assert.Null((await UserAsync(first.Value.Id)).ManagerId);
        Assert.Equal(events, await AuditCountAsync());
    }

    [PrerequisiteFact]
    public async Task ApplyPerson_SomeoneFromAnotherSource_IsRefusedAsAConflict()
    {
        var (hr, root) = await CreateSourceAsync();
        var (oa, _) = await CreateSourceAsync(root.Id);
        var person = Person(root.Id);
        await ApplyAsync(hr, person);

        var refusal = await Assert.ThrowsAsync<RuleViolation>(() => ApplyAsync(oa, person with { DisplayName = "Taken over" }));

        Assert.Equal(ViolationKind.Conflict, refusal.Kind);
        Assert.Contains(hr.Name, refusal.Title, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task ConsoleChange_ToAnOwnedAttributeWithRefusePolicy_IsRefusedNamingTheSource()
    {
        var (source, root) = await CreateSourceAsync();
        var created = await ApplyAsync(source, Person(root.Id));
        var user = await UserAsync(created.Value.Id);

        var refusal = await Assert.ThrowsAsync<RuleViolation>(() => database.RunAsync(s => s.GetRequiredService<UserDirectory>()
            .UpdateAsync(user.Id, InputOf(user) with { DisplayName = "Changed in the console" }, null, CancellationToken.None)));
        var allowed = await database.RunAsync(s => s.GetRequiredService<UserDirectory>()
            .UpdateAsync(user.Id, InputOf(user) with { Email = "mine@example.com" }, null, CancellationToken.None));

        Assert.Equal(ViolationKind.Conflict, refusal.Kind);
        Assert.True(refusal.Errors.ContainsKey("displayName"));
        Assert.Contains(source.Name, refusal.Title + string.Join(" ", refusal.Errors["displayName"]), StringComparison.Ordinal);
        Assert.Equal("mine@example.com", allowed.Email);
        Assert.Equal(user.DisplayName, (await UserAsync(user.Id)).DisplayName);
    }

    [PrerequisiteFact]
    public async Task ConsoleChange_ToAnOwnedAttributeWithOverwritePolicy_IsKeptAsAConflictAndTheSourceWinsNextTime()
    {
        var (source, root) = await CreateSourceAsync(policy: "overwrite");
        var person = Person(root.Id);
        var created = await ApplyAsync(source, person);
        var user = await UserAsync(created.Value.Id);

        await database.RunAsync(s => s.GetRequiredService<UserDirectory>()
            .UpdateAsync(user.Id, InputOf(user) with { DisplayName = "Changed in the console" }, null, CancellationToken.None));
        var conflict = await database.RunAsync(s => DomainDatabase.Db(s).InboundConflicts.AsNoTracking().SingleAsync(c => c.UserId == user.Id));
        var again = await ApplyAsync(source, person);

        Assert.Equal(SourceAttributes.DisplayName, conflict.Attribute);
        Assert.Equal("Changed in the console", conflict.LocalValue);
        Assert.Equal(person.DisplayName, conflict.SourceValue);
        Assert.Equal(IntakeOutcome.Updated, again.Outcome);
        Assert.Equal(person.DisplayName, (await UserAsync(user.Id)).DisplayName);
    }

    [PrerequisiteFact]
    public async Task MarkLeft_APersonWithRights_EndsTheirAssignmentsAndKeepsTheRecord()
    {
        var (source, root) = await CreateSourceAsync();
        var created = await ApplyAsync(source, Person(root.Id));
        var (application, approve, _) = await database.CreateExpenseAppAsync();
        var role = await database.CreateRoleAsync(application.Id, DomainDatabase.NewCode("approver"), false, new RolePermissionInput(approve.Id));
        await database.GrantAsync(new AssignmentInput(created.Value.Id, role.Id, null, null, null, "test"));

        var left = await database.RunAsync(s => s.GetRequiredService<OrganisationIntake>().MarkLeftAsync(source, created.Value.Id, CancellationToken.None));
        var again = await database.RunAsync(s => s.GetRequiredService<OrganisationIntake>().MarkLeftAsync(source, created.Value.Id, CancellationToken.None));

        Assert.Equal(IntakeOutcome.Left, left.Outcome);
        Assert.Equal(IntakeOutcome.Unchanged, again.Outcome);
        Assert.Equal(UserStatus.Left, (await UserAsync(created.Value.Id)).Status);
        Assert.True(await database.RunAsync(s => DomainDatabase.Db(s).RoleAssignments.AllAsync(a => a.UserId != created.Value.Id || a.EndedAt != null)));
    }

    [PrerequisiteFact]
    public async Task ApplyDepartment_NewWithoutParent_GoesUnderTheSourcesSubtreeAndAParentLoopIsRefused()
    {
        var (source, root) = await CreateSourceAsync();
        var upper = await ApplyDepartmentAsync(source, new SourceDepartment("oa-upper", "Upper", null));
        var lower = await ApplyDepartmentAsync(source, new SourceDepartment("oa-lower", "Lower", "oa-upper"));

        var loop = await Assert.ThrowsAsync<RuleViolation>(() => ApplyDepartmentAsync(source, new SourceDepartment("oa-upper", "Upper", "oa-lower")));
        var same = await ApplyDepartmentAsync(source, new SourceDepartment("oa-lower", "Lower", "oa-upper"));

        Assert.Equal(root.Id, upper.Value.ParentId);
        Assert.Equal(upper.Value.Id, lower.Value.ParentId);
        Assert.Equal(ViolationKind.Conflict, loop.Kind);
        Assert.Contains("cycle", loop.Errors["parentId"][0], StringComparison.Ordinal);
        Assert.Equal(IntakeOutcome.Unchanged, same.Outcome);
        var stored = await database.RunAsync(s => DomainDatabase.Db(s).Departments.AsNoTracking().SingleAsync(d => d.Id == upper.Value.Id));
        Assert.Equal(root.Id, stored.ParentId);
    }

    [PrerequisiteFact]
    public async Task ApplyPerson_AnAdministratorsStatus_IsForbiddenToTheSource()
    {
        var (source, root) = await CreateSourceAsync();
        var created = await ApplyAsync(source, Person(root.Id));
        await database.RunAsync(s => s.GetRequiredService<UserDirectory>().SetAdminRolesAsync(created.Value.Id, [AdminRoles.HrAdmin], [root.Id], CancellationToken.None));

        var refusal = await Assert.ThrowsAsync<RuleViolation>(() => ApplyAsync(source, Person(root.Id) with
        {
            ExternalId = created.Value.ExternalId, EmployeeNumber = created.Value.EmployeeNumber, Active = false,
        }));

        Assert.Equal(ViolationKind.Forbidden, refusal.Kind);
        Assert.Equal(UserStatus.Active, (await UserAsync(created.Value.Id)).Status);
    }

    private static SourcePerson Person(Guid departmentId)
    {
        var number = DomainDatabase.NewCode("E");
        return new SourcePerson($"oa-{number}", number, null, $"Person {number}", $"{number}@example.com", null, departmentId.ToString(), null);
    }

    private static UserInput InputOf(UserAccount u) => new(u.UserName, u.DisplayName, u.Email, u.PhoneNumber, u.EmployeeNumber, u.DepartmentId, u.ManagerId);

    private async Task<(InboundSource Source, Department Root)> CreateSourceAsync(Guid? rootId = null, string policy = "refuse")
    {
        var root = rootId is { } id
            ? await database.RunAsync(s => DomainDatabase.Db(s).Departments.AsNoTracking().SingleAsync(d => d.Id == id))
            : await database.CreateDepartmentAsync("HR root");
        var created = await database.RunAsync(s => s.GetRequiredService<InboundSources>().CreateAsync(
            new InboundSourceInput(DomainDatabase.NewCode("HR"), "scim", [root.Id], null, policy), CancellationToken.None));
        return (created.Source, root);
    }

    private Task<IntakeResult<UserAccount>> ApplyAsync(InboundSource source, SourcePerson person) =>
        database.RunAsync(s => s.GetRequiredService<OrganisationIntake>().ApplyPersonAsync(source, person, null, CancellationToken.None));

    private Task<IntakeResult<Department>> ApplyDepartmentAsync(InboundSource source, SourceDepartment department) =>
        database.RunAsync(s => s.GetRequiredService<OrganisationIntake>().ApplyDepartmentAsync(source, department, null, CancellationToken.None));

    private Task<UserAccount> UserAsync(string id) => database.RunAsync(s => DomainDatabase.Db(s).Users.AsNoTracking().SingleAsync(u => u.Id == id));

    private Task<int> UserCountAsync() => database.RunAsync(s => DomainDatabase.Db(s).Users.CountAsync());

    private Task<int> AuditCountAsync() => database.RunAsync(s => DomainDatabase.Db(s).AuditEvents.CountAsync());
}

public sealed class SqliteOrganisationIntakeTests(SqliteDomainDatabase database) : OrganisationIntakeTests<SqliteDomainDatabase>(database);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlOrganisationIntakeTests(PostgreSqlDomainDatabase database) : OrganisationIntakeTests<PostgreSqlDomainDatabase>(database);
