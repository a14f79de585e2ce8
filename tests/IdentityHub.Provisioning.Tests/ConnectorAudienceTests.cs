using IdentityHub.Core.Access;
using IdentityHub.Core.Changes;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Reconciliation;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Provisioning.Tests;

/// <summary>How a user stands towards an application, for the scope rule's rows.</summary>
public enum Standing
{
    HoldsTheApplicationsRole,
    HoldsAGlobalRoleGrantingThere,
    HoldsAnotherApplicationsRole,
    HoldsAGlobalRoleGrantingElsewhere,
    HoldsAGlobalRoleGrantingNothing,
    AssignmentEnded,
    AssignmentExpired,
    AssignmentStartsLater,
    Nothing,
}

/// <summary>
/// The one connector-scope rule (<see cref="ConnectorAudience"/>): who holds access in the connector's application now,
/// everyone for a kind that provisions everyone, and whoever the receiver still knows; the outbox writes (through Core),
/// full syncs and drift checks all read it.
/// </summary>
public abstract class ConnectorAudienceTests<TDatabase>(TDatabase database) : IClassFixture<TDatabase>
    where TDatabase : ProvisioningDatabase
{
    private const string Webhook = """{"url":"https://hooks.example/identityhub"}""";

    [PrerequisiteTheory]
    [InlineData(Standing.HoldsTheApplicationsRole, true)]
    [InlineData(Standing.HoldsAGlobalRoleGrantingThere, true)]
    [InlineData(Standing.HoldsAnotherApplicationsRole, false)]
    [InlineData(Standing.HoldsAGlobalRoleGrantingElsewhere, false)]
    [InlineData(Standing.HoldsAGlobalRoleGrantingNothing, false)]
    [InlineData(Standing.AssignmentEnded, false)]
    [InlineData(Standing.AssignmentExpired, false)]
    [InlineData(Standing.AssignmentStartsLater, false)]
    [InlineData(Standing.Nothing, false)]
    public async Task Of_UserWithThisStanding_IsInTheAudienceOnlyWithAccessThereNow(Standing standing, bool inAudience)
    {
        var application = await database.CreateApplicationAsync();
        var connector = await database.AddConnectorAsync(application.Id, ConnectorKind.Webhook, Webhook);
        try
        {
            var user = await ArrangeAsync(application.Id, standing);

            var audience = await AudienceAsync(connector);

            Assert.Equal(inAudience, audience.Contains(user));
        }
        finally
        {
            // The tests of the class share the database and its clock.
            database.Clock.Offset = TimeSpan.Zero;
        }
    }

    [PrerequisiteTheory]
    [InlineData("user.created", true)]
    [InlineData("access.changed", true)]
    [InlineData("user.disabled", true)]
    [InlineData("user.deleted", false)]
    [InlineData("none", false)]
    public async Task Of_DeliveredBeforeWithoutAccessNow_StaysUntilTheReceiverWasToldTheyLeft(string lastEvent, bool inAudience)
    {
        var application = await database.CreateApplicationAsync();
        var connector = await database.AddConnectorAsync(application.Id, ConnectorKind.Webhook, Webhook);
        var user = await database.CreateUserAsync();
        await database.MarkDeliveredAsync(connector.Id, user, lastEvent);

        Assert.Equal(inAudience, (await AudienceAsync(connector)).Contains(user));
    }

    [PrerequisiteFact]
    public async Task Of_ScimConnectorProvisioningEveryone_HasEveryUserWhileAWebhookBesideItHasOnlyHolders()
    {
        var application = await database.CreateApplicationAsync();
        var everyone = await database.AddConnectorAsync(application.Id, ConnectorKind.Scim, """{"baseUrl":"https://scim.example/v2","allUsers":true}""");
        var holdersOnly = await database.AddConnectorAsync(application.Id, ConnectorKind.Webhook, Webhook);
        var outsider = await database.CreateUserAsync();

        var all = await database.ReadAsync(db => db.Users.Select(u => u.Id).ToListAsync());
        Assert.Equal(all.Order(StringComparer.Ordinal), (await AudienceAsync(everyone)).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(outsider, await AudienceAsync(holdersOnly));
    }

    [PrerequisiteFact]
    public async Task InScopeAsync_UsersOfTwoApplications_PairsEachUserWithTheConnectorsWhoseScopeTheyAreIn()
    {
        var expense = await database.CreateApplicationAsync();
        var attendance = await database.CreateApplicationAsync();
        var expenseHooks = await database.AddConnectorAsync(expense.Id, ConnectorKind.Webhook, Webhook);
        var attendanceHooks = await database.AddConnectorAsync(attendance.Id, ConnectorKind.Webhook, Webhook);
        var approver = await ArrangeAsync(expense.Id, Standing.HoldsTheApplicationsRole);
        var clerk = await ArrangeAsync(attendance.Id, Standing.HoldsTheApplicationsRole);
        var outsider = await database.CreateUserAsync();

        var pairs = await database.RunAsync(s => s.GetRequiredService<IConnectorAudience>()
            .InScopeAsync([approver, clerk, outsider], [expense.Id, attendance.Id], CancellationToken.None));
        var onlyExpense = await database.RunAsync(s => s.GetRequiredService<IConnectorAudience>()
            .InScopeAsync([approver, clerk, outsider], [expense.Id], CancellationToken.None));

        Assert.Equal([new ConnectorUser(expenseHooks.Id, approver), new ConnectorUser(attendanceHooks.Id, clerk)], pairs);
        Assert.Equal([new ConnectorUser(expenseHooks.Id, approver)], onlyExpense);
    }

    [PrerequisiteFact]
    public async Task QueueAsync_FullSync_QueuesExactlyTheAudience()
    {
        var application = await database.CreateApplicationAsync();
        var connector = await database.AddConnectorAsync(application.Id, ConnectorKind.Webhook, Webhook);
        var holder = await ArrangeAsync(application.Id, Standing.HoldsTheApplicationsRole);
        var known = await database.CreateUserAsync();
        await database.MarkDeliveredAsync(connector.Id, known);
        var forgotten = await database.CreateUserAsync();
        await database.MarkDeliveredAsync(connector.Id, forgotten, "user.deleted");
        _ = await ArrangeAsync(application.Id, Standing.AssignmentStartsLater);

        var progress = await database.RunAsync(s => s.GetRequiredService<FullSyncs>().StartAsync(connector.Id, CancellationToken.None));

        var change = "full-sync:" + progress.RunId.ToString("N");
        var queued = await database.ReadAsync(db => db.Outbox.Where(o => o.ConnectorId == connector.Id && o.Change == change).Select(o => o.UserId).ToListAsync());
        Assert.Equal(new[] { holder, known }.Order(StringComparer.Ordinal), queued.Order(StringComparer.Ordinal));
        Assert.Equal(2, progress.Total);
    }

    private Task<List<string>> AudienceAsync(Connector connector) =>
        database.RunAsync(s => s.GetRequiredService<ConnectorAudience>().Of(connector).ToListAsync());

    /// <summary>A new user standing towards <paramref name="applicationId"/> as asked; returns their id.</summary>
    private async Task<string> ArrangeAsync(Guid applicationId, Standing standing)
    {
        var user = await database.CreateUserAsync();
        var now = database.Clock.GetUtcNow();
        switch (standing)
        {
            case Standing.HoldsTheApplicationsRole:
                await database.GrantAsync(user, (await ApplicationRoleAsync(applicationId)).Id);
                break;
            case Standing.HoldsAGlobalRoleGrantingThere:
                await database.GrantAsync(user, (await database.CreateRoleAsync(null, (await database.CreatePermissionAsync(applicationId)).Id)).Id);
                break;
            case Standing.HoldsAnotherApplicationsRole:
                await database.GrantAsync(user, (await ApplicationRoleAsync((await database.CreateApplicationAsync()).Id)).Id);
                break;
            case Standing.HoldsAGlobalRoleGrantingElsewhere:
                var elsewhere = await database.CreatePermissionAsync((await database.CreateApplicationAsync()).Id);
                await database.GrantAsync(user, (await database.CreateRoleAsync(null, elsewhere.Id)).Id);
                break;
            case Standing.HoldsAGlobalRoleGrantingNothing:
                await database.GrantAsync(user, (await database.CreateRoleAsync(null)).Id);
                break;
            case Standing.AssignmentEnded:
                var ended = await database.GrantAsync(user, (await ApplicationRoleAsync(applicationId)).Id);
                await database.RunAsync(s => s.GetRequiredService<RoleAssignments>().EndAsync(ended.Id, "moved on", CancellationToken.None));
                break;
            case Standing.AssignmentExpired:
                await database.GrantAsync(user, (await ApplicationRoleAsync(applicationId)).Id, until: now.AddMinutes(1));
                database.Clock.Offset = TimeSpan.FromMinutes(2);
                break;
            case Standing.AssignmentStartsLater:
                await database.GrantAsync(user, (await ApplicationRoleAsync(applicationId)).Id, from: now.AddDays(1));
                break;
            case Standing.Nothing:
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(standing));
        }

        return user;
    }

    /// <summary>The application's role (one permission), created on first use.</summary>
    private async Task<Data.Access.Role> ApplicationRoleAsync(Guid applicationId) =>
        await database.ReadAsync(db => db.AccessRoles.FirstOrDefaultAsync(r => r.ApplicationId == applicationId))
            ?? await database.CreateRoleAsync(applicationId, (await database.CreatePermissionAsync(applicationId)).Id);
}

public sealed class SqliteConnectorAudienceTests(SqliteProvisioningDatabase database) : ConnectorAudienceTests<SqliteProvisioningDatabase>(database);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlConnectorAudienceTests(PostgreSqlProvisioningDatabase database) : ConnectorAudienceTests<PostgreSqlProvisioningDatabase>(database);
