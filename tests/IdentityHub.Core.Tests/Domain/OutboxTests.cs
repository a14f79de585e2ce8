using IdentityHub.Core.Access;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Data.Provisioning;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Core.Tests.Domain;

/// <summary>Issue 7 point 1: every change that alters what a downstream system should know queues one row per (connector, user), in its own transaction.</summary>
public abstract class OutboxTests<TDatabase>(TDatabase database) : IClassFixture<TDatabase>
    where TDatabase : DomainDatabase
{
    private static string NewCode(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    [PrerequisiteFact]
    public async Task GrantAsync_ApplicationWithTwoConnectors_QueuesOneRowPerConnector()
    {
        var (application, role) = await CreateApplicationWithRoleAsync(connectors: 2);
        var user = await CreateUserAsync();

        await Grant(user, role.Id);

        var rows = await database.RunAsync(s => Db(s).Outbox.Where(o => o.UserId == user && o.Change == "assignment.granted").ToListAsync());
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

        Assert.Equal(0, await database.RunAsync(s => Db(s).Outbox.CountAsync(o => o.UserId == user && o.Change == "assignment.granted")));
    }

    [PrerequisiteFact]
    public async Task MoveAsync_Department_QueuesEveryUserBelowAndEveryHolderOfARightScopedThere()
    {
        var (_, role) = await CreateApplicationWithRoleAsync(connectors: 1);
        var top = await CreateDepartmentAsync(null);
        var below = await CreateDepartmentAsync(top);
        var member = await CreateUserAsync(below);
        var scopedHolder = await CreateUserAsync();
        await database.RunAsync(s => s.GetRequiredService<RoleAssignments>().GrantAsync(
            new AssignmentInput(scopedHolder, role.Id, below, null, null, "scoped"), CancellationToken.None));
        var outsider = await CreateUserAsync();
        var target = await CreateDepartmentAsync(null);

        await database.RunAsync(s => s.GetRequiredService<Departments>().MoveAsync(top, target, null, CancellationToken.None));

        var queued = await database.RunAsync(s => Db(s).Outbox.Where(o => o.Change == "department.moved").Select(o => o.UserId).ToListAsync());
        Assert.Contains(member, queued);
        Assert.Contains(scopedHolder, queued);
        Assert.DoesNotContain(outsider, queued);
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
            var current = await Db(s).AccessRoles.Include(r => r.Permissions).AsNoTracking().SingleAsync(r => r.Id == role.Id);
            return await s.GetRequiredService<Roles>().UpdateAsync(role.Id,
                new RoleInput(application.Id, current.Name, null, false, [.. current.Permissions.Select(p => new RolePermissionInput(p.PermissionId)), new RolePermissionInput(extra.Id)]),
                null, CancellationToken.None);
        });

        var queued = await database.RunAsync(s => Db(s).Outbox.Where(o => o.Change == "role.updated").Select(o => o.UserId).ToListAsync());
        Assert.Equal(holders.Order(), queued.Order());
    }

    private static IdentityHubDbContext Db(IServiceProvider services) => services.GetRequiredService<IdentityHubDbContext>();

    private Task<RoleAssignment> Grant(string userId, Guid roleId) =>
        database.RunAsync(s => s.GetRequiredService<RoleAssignments>().GrantAsync(new AssignmentInput(userId, roleId, null, null, null, "test"), CancellationToken.None));

    private Task<string> CreateUserAsync(Guid? departmentId = null) =>
        database.RunAsync(async s => (await s.GetRequiredService<UserDirectory>().CreateAsync(
            new UserInput(NewCode("user"), "Outbox Person", null, null, NewCode("E"), departmentId, null), null, CancellationToken.None)).Id);

    private Task<Guid> CreateDepartmentAsync(Guid? parentId) =>
        database.RunAsync(async s => (await s.GetRequiredService<Departments>().CreateAsync(new DepartmentInput(NewCode("D"), "Dept", parentId), CancellationToken.None)).Id);

    private async Task<(Application Application, Role Role)> CreateApplicationWithRoleAsync(int connectors)
    {
        var application = await database.RunAsync(async s =>
        {
            var now = DateTimeOffset.UtcNow;
            var app = new Application { Id = Guid.NewGuid(), Name = NewCode("app"), CreatedAt = now, UpdatedAt = now };
            Db(s).Applications.Add(app);
            for (var i = 0; i < connectors; i++)
            {
                Db(s).Connectors.Add(new Connector { Id = Guid.NewGuid(), ApplicationId = app.Id, Name = $"c{i}", Kind = ConnectorKind.Webhook, CreatedAt = now, UpdatedAt = now });
            }

            await Db(s).SaveChangesAsync();
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
