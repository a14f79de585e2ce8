using System.Collections.Concurrent;
using IdentityHub.Core.Cluster;
using IdentityHub.Data.Cluster;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityHub.Core.Tests.Domain;

/// <summary>
/// Issue 19 point 2: what other nodes cache is published from the save itself, and only once it is committed: after the
/// save when no transaction is open, after the commit when one is, never after a rollback.
/// </summary>
public abstract class ClusterChangeInterceptorTests<TDatabase>(TDatabase database) : IClassFixture<TDatabase>, IDisposable
    where TDatabase : DomainDatabase
{
    private readonly ConcurrentQueue<(ClusterTopic Topic, string? Key)> _published = new();
    private IDisposable? _subscriptions;

    [PrerequisiteFact]
    public async Task SaveChanges_SecurityStampWithoutTransaction_PublishesUserSessionsAfterTheSave()
    {
        var user = await database.CreateUserAsync();
        Listen();

        await database.RunAsync(s => s.GetRequiredService<UserManager<Data.Directory.UserAccount>>().UpdateSecurityStampAsync(
            DomainDatabase.Db(s).Users.Single(u => u.Id == user.Id)));

        Assert.Equal([(ClusterTopic.UserSessions, user.Id)], Published(user.Id));
    }

    [PrerequisiteFact]
    public async Task SaveChanges_InsideTransaction_PublishesOnlyAfterCommit()
    {
        var user = await database.CreateUserAsync();
        Listen();

        await database.RunAsync(async s =>
        {
            var db = DomainDatabase.Db(s);
            await using var transaction = await db.Database.BeginTransactionAsync();
            var tracked = await db.Users.SingleAsync(u => u.Id == user.Id);
            tracked.SecurityStamp = Guid.NewGuid().ToString("N");
            await db.SaveChangesAsync();
            Assert.Empty(Published(user.Id));

            await transaction.CommitAsync();
        });

        Assert.Equal([(ClusterTopic.UserSessions, user.Id)], Published(user.Id));
    }

    [PrerequisiteFact]
    public async Task SaveChanges_TransactionRolledBack_PublishesNothing()
    {
        var user = await database.CreateUserAsync();
        Listen();

        await database.RunAsync(async s =>
        {
            var db = DomainDatabase.Db(s);
            await using var transaction = await db.Database.BeginTransactionAsync();
            (await db.Users.SingleAsync(u => u.Id == user.Id)).SecurityStamp = Guid.NewGuid().ToString("N");
            await db.SaveChangesAsync();
            await transaction.RollbackAsync();
        });

        Assert.Empty(Published(user.Id));
    }

    [PrerequisiteFact]
    public async Task SaveChanges_TransactionDisposedWithoutCommit_PublishesNothing()
    {
        var user = await database.CreateUserAsync();
        Listen();

        await database.RunAsync(async s =>
        {
            var db = DomainDatabase.Db(s);
            await using var transaction = await db.Database.BeginTransactionAsync();
            (await db.Users.SingleAsync(u => u.Id == user.Id)).SecurityStamp = Guid.NewGuid().ToString("N");
            await db.SaveChangesAsync();
        });

        Assert.Empty(Published(user.Id));
    }

    [PrerequisiteFact]
    public async Task SaveChanges_OtherUserFields_PublishesNothing()
    {
        var user = await database.CreateUserAsync();
        Listen();

        await database.RunAsync(async s =>
        {
            var db = DomainDatabase.Db(s);
            (await db.Users.SingleAsync(u => u.Id == user.Id)).DisplayName = "Renamed";
            await db.SaveChangesAsync();
        });

        Assert.Empty(Published(user.Id));
    }

    [PrerequisiteFact]
    public async Task SaveChanges_ClientAddedChangedRemoved_PublishesTheClientEachTime()
    {
        var clientId = DomainDatabase.NewCode("cluster");
        Listen();

        await database.RunAsync(async s =>
        {
            var db = DomainDatabase.Db(s);
            var client = new OpenIddictEntityFrameworkCoreApplication { ClientId = clientId, ClientType = "public" };
            db.Add(client);
            await db.SaveChangesAsync();
            client.RedirectUris = "[\"https://new.example/cb\"]";
            await db.SaveChangesAsync();
            db.Remove(client);
            await db.SaveChangesAsync();
        });

        Assert.Equal(3, Published(clientId).Count(p => p.Topic == ClusterTopic.Client));
    }

    public void Dispose()
    {
        _subscriptions?.Dispose();
        GC.SuppressFinalize(this);
    }

    private void Listen() => _subscriptions = database.RunAsync(s =>
    {
        var changes = s.GetRequiredService<ClusterChanges>();
        var subscriptions = Enum.GetValues<ClusterTopic>().Select(topic => changes.Subscribe(topic, key => _published.Enqueue((topic, key)))).ToList();
        return Task.FromResult<IDisposable>(new Subscriptions(subscriptions));
    }).GetAwaiter().GetResult();

    private List<(ClusterTopic Topic, string? Key)> Published(string key) => [.. _published.Where(p => p.Key == key)];

    private sealed class Subscriptions(List<IDisposable> all) : IDisposable
    {
        public void Dispose() => all.ForEach(s => s.Dispose());
    }
}

public sealed class SqliteClusterChangeInterceptorTests(SqliteDomainDatabase database)
    : ClusterChangeInterceptorTests<SqliteDomainDatabase>(database);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlClusterChangeInterceptorTests(PostgreSqlDomainDatabase database)
    : ClusterChangeInterceptorTests<PostgreSqlDomainDatabase>(database);
