using IdentityHub.Core;
using IdentityHub.Core.Audit;
using IdentityHub.Data;
using IdentityHub.Data.Audit;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Core.Tests.Domain;

/// <summary>
/// Audited writers of one process take turns at the chain head in <see cref="AuditChainGate"/> before its database lock,
/// and every way a transaction can end gives the turn back: a turn that is never given back would stop every audited write
/// of the node.
/// </summary>
public abstract class AuditChainGateTests<TDatabase>(TDatabase database) : IClassFixture<TDatabase>
    where TDatabase : DomainDatabase
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [PrerequisiteFact]
    public async Task Serialize_SecondWriter_GetsItsTurnOnlyWhenTheFirstCommits()
    {
        await using var first = await Writer.StartAsync(database);
        Assert.True(first.HoldsTurn);

        await using var second = new Writer(database);
        // On its own thread: SQLite's provider waits for the write lock inside BeginTransactionAsync, synchronously.
        var waiting = Task.Run(second.TakeTurnAsync);
        await Task.Delay(200);
        Assert.False(waiting.IsCompleted);
        Assert.False(second.HoldsTurn);

        await first.Transaction.CommitAsync();
        await waiting.WaitAsync(Patience);
        Assert.True(second.HoldsTurn);
        Assert.False(first.HoldsTurn);
    }

    [PrerequisiteFact]
    public async Task InTransaction_WriterQueuedBehindAnother_WaitsWithoutAConnection()
    {
        var firstHolds = new TaskCompletionSource();
        var firstMayEnd = new TaskCompletionSource();
        await using var firstScope = database.CreateScope();
        var firstDb = firstScope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var first = Task.Run(() => firstDb.InTransactionAsync(async () =>
        {
            await firstScope.ServiceProvider.GetRequiredService<AuditTrail>().SerializeAsync(CancellationToken.None);
            firstHolds.SetResult();
            await firstMayEnd.Task;
        }, CancellationToken.None));
        await firstHolds.Task.WaitAsync(Patience);

        await using var secondScope = database.CreateScope();
        var secondDb = secondScope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var secondRan = false;
        var second = Task.Run(() => secondDb.InTransactionAsync(async () =>
        {
            await secondScope.ServiceProvider.GetRequiredService<AuditTrail>().SerializeAsync(CancellationToken.None);
            secondRan = true;
        }, CancellationToken.None));
        await Task.Delay(200);
        Assert.False(second.IsCompleted);
        // Queued in the process, not in the database: its transaction has not even opened a connection.
        Assert.Equal(System.Data.ConnectionState.Closed, secondDb.Database.GetDbConnection().State);

        firstMayEnd.SetResult();
        await first.WaitAsync(Patience);
        await second.WaitAsync(Patience);
        Assert.True(secondRan);
        Assert.False(AuditChainGate.Of(secondDb).IsHeldBy(secondDb));
    }

    [PrerequisiteFact]
    public async Task InTransaction_TurnNotFreedWithinTheCommandTimeout_RefusedAsBusyAndChangesNothing()
    {
        await using var first = await Writer.StartAsync(database);
        await using var scope = database.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        db.Database.SetCommandTimeout(1);
        var ran = false;

        var busy = await Assert.ThrowsAsync<AuditChainBusyException>(() => db.InTransactionAsync(() => { ran = true; return Task.CompletedTask; }, CancellationToken.None));

        Assert.False(ran);
        Assert.Contains("try again", busy.Message, StringComparison.Ordinal);
        Assert.True(first.HoldsTurn);
    }

    [PrerequisiteFact]
    public async Task Serialize_FirstRollsBack_NextWriterGetsItsTurn()
    {
        await using (var first = await Writer.StartAsync(database))
        {
            await first.Transaction.RollbackAsync();
        }

        await using var next = await Writer.StartAsync(database).WaitAsync(Patience);
        Assert.True(next.HoldsTurn);
    }

    [PrerequisiteFact]
    public async Task Serialize_FirstDisposedWithoutCommit_NextWriterGetsItsTurn()
    {
        var first = await Writer.StartAsync(database);
        await first.Transaction.DisposeAsync();

        await using var next = await Writer.StartAsync(database).WaitAsync(Patience);
        Assert.True(next.HoldsTurn);
        await first.DisposeAsync();
    }

    [PrerequisiteFact]
    public async Task Serialize_TransactionDroppedOnAnOpenConnection_ScopeEndGivesTheTurnBack()
    {
        // The connection was opened by the caller, so ending the transaction does not close it: only the scope's end is left.
        var first = new Writer(database);
        await first.Db.Database.OpenConnectionAsync();
        await first.TakeTurnAsync();
        await first.Transaction.DisposeAsync();

        var next = new Writer(database);
        var waiting = Task.Run(next.TakeTurnAsync);
        await first.DisposeAsync();
        await waiting.WaitAsync(Patience);
        Assert.True(next.HoldsTurn);
        await next.DisposeAsync();
    }

    [PrerequisiteFact]
    public async Task RecordAsync_AfterSerialize_KeepsTheTurnAndChainsTheEvent()
    {
        await using var writer = await Writer.StartAsync(database);
        await writer.Audit.RecordAsync("test.gate", "test", "1", null, new { value = 1 }, CancellationToken.None);
        await writer.Db.SaveChangesAsync();
        Assert.True(writer.HoldsTurn);
        await writer.Transaction.CommitAsync();
        Assert.False(writer.HoldsTurn);

        var verified = await database.RunAsync(s => s.GetRequiredService<AuditTrail>().VerifyAsync(CancellationToken.None));
        Assert.True(verified.Intact, verified.Problem);
    }

    /// <summary>One writer: its own scope (context, audit trail) and transaction, like a request.</summary>
    private sealed class Writer : IAsyncDisposable
    {
        private readonly AsyncServiceScope _scope;
        private Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction? _transaction;

        public Writer(DomainDatabase database)
        {
            _scope = database.CreateScope();
            Db = _scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
            Audit = _scope.ServiceProvider.GetRequiredService<AuditTrail>();
        }

        public IdentityHubDbContext Db { get; }

        public AuditTrail Audit { get; }

        public Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction Transaction => _transaction!;

        public bool HoldsTurn => AuditChainGate.Of(Db).IsHeldBy(Db);

        public static async Task<Writer> StartAsync(DomainDatabase database)
        {
            var writer = new Writer(database);
            await writer.TakeTurnAsync();
            return writer;
        }

        public async Task TakeTurnAsync()
        {
            _transaction = await Db.Database.BeginTransactionAsync();
            await Audit.SerializeAsync(CancellationToken.None);
        }

        public async ValueTask DisposeAsync() => await _scope.DisposeAsync();
    }
}

public sealed class SqliteAuditChainGateTests(SqliteDomainDatabase database)
    : AuditChainGateTests<SqliteDomainDatabase>(database);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlAuditChainGateTests(PostgreSqlDomainDatabase database)
    : AuditChainGateTests<PostgreSqlDomainDatabase>(database);
