using IdentityHub.Data;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Admin;

/// <summary>The console's audit viewer: the "verify chain" button names the first broken link after tampering.</summary>
public abstract class AuditViewerTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    [PrerequisiteFact]
    public async Task VerifyChain_RowChangedInTheDatabase_ShowsTheFirstBrokenSequence()
    {
        var client = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(client, "admin", IdentityHubFactory.AdminPassword);
        Assert.Contains("Intact:", await client.GetStringAsync("/admin/audit?handler=verify"), StringComparison.Ordinal);

        long tampered;
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
            var row = await db.AuditEvents.OrderBy(e => e.Sequence).FirstAsync();
            row.ActorName = "someone else";
            await db.SaveChangesAsync();
            tampered = row.Sequence;
        }

        var page = await client.GetStringAsync("/admin/audit?handler=verify");

        Assert.Contains($"Broken: the first broken link is event #{tampered}.", page, StringComparison.Ordinal);
    }
}

public sealed class SqliteAuditViewerTests(SqliteFactory factory) : AuditViewerTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlAuditViewerTests(PostgreSqlFactory factory) : AuditViewerTests<PostgreSqlFactory>(factory);
