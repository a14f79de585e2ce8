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
    public async Task InTransaction_WritersBeyondTheSlots_WaitWithoutAConnection()
    {
        // The first writer holds the turn; the others of the gate's slots wait for it in their transactions (on SQLite the
        // one slot is the turn); one writer more waits for a slot, before its transaction.
        var firstMayEnd = new TaskCompletionSource();
        await using var firstScope = database.CreateScope();
        var first = InTransactionWriter.Start(firstScope, () => firstMayEnd.Task);
        await first.HoldsTurn.WaitAsync(Patience);

        var slots = AuditChainGate.Of(first.Db).WriterSlots;
        var scopes = Enumerable.Range(0, slots).Select(_ => database.CreateScope()).ToList();
        var others = new List<InTransactionWriter>();
        try
        {
            others.AddRange(scopes.Select(scope => InTransactionWriter.Start(scope, () => Task.CompletedTask)));
            bool Open(InTransactionWriter o) => o.Connection.State == System.Data.ConnectionState.Open;
            await WaitUntilAsync(() => others.Count(Open) == slots - 1);
            await Task.Delay(200);
            Assert.All(others, o => Assert.False(o.Done.IsCompleted));
            // The one beyond the slots is queued in the process, not in the database: its transaction has not opened a connection.
            Assert.Equal(slots - 1, others.Count(Open));
            Assert.Single(others, o => o.Connection.State == System.Data.ConnectionState.Closed);

            firstMayEnd.SetResult();
            await first.Done.WaitAsync(Patience);
            await Task.WhenAll(others.Select(o => o.Done)).WaitAsync(Patience);
            Assert.All(others, o => Assert.False(AuditChainGate.Of(o.Db).IsHeldBy(o.Db)));
        }
        finally
        {
            // Writers still running when an assertion failed end before their scopes go.
            firstMayEnd.TrySetResult();
            await Task.WhenAny(Task.WhenAll(others.Select(o => o.Done)), Task.Delay(Patience));
            foreach (var scope in scopes)
            {
                await scope.DisposeAsync();
            }
        }
    }

    [PrerequisiteFact]
    public async Task InTransaction_FirstWriteBeforeAnyAuditEvent_WaitsForTheTurnItsReadsDoNot()
    {
        // A writer must not hold row locks while it waits for the turn: its first write, audited or not, takes the turn.
        await using var first = await Writer.StartAsync(database);
        await using var scope = database.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        // Set up here, before the writer's thread uses the context: a context is not for two threads at once.
        var gate = AuditChainGate.Of(db);
        var read = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var wrote = false;
        var writing = Task.Run(() => db.InTransactionAsync(async () =>
        {
            await db.Users.CountAsync();
            read.SetResult();
            await db.Users.Where(u => u.Id == "nobody").ExecuteUpdateAsync(s => s.SetProperty(u => u.DisplayName, "nobody"));
            wrote = true;
        }, CancellationToken.None));

        if (gate.WriterSlots > 1)
        {
            // Its reads run beside the turn holder's transaction (on SQLite the one slot is the turn: nothing runs).
            await read.Task.WaitAsync(Patience);
        }

        await Task.Delay(200);
        Assert.False(wrote);
        Assert.False(writing.IsCompleted);

        await first.Transaction.CommitAsync();
        await writing.WaitAsync(Patience);
        Assert.True(wrote);
        Assert.False(gate.IsHeldBy(db));
    }

    [PrerequisiteFact]
    public async Task InTransaction_SaveWaitingTooLongForTheTurn_RefusedAsBusyNotAsAConflict()
    {
        await using var first = await Writer.StartAsync(database);
        await using var scope = database.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        db.Database.SetCommandTimeout(1);
        var name = $"busy-{Guid.NewGuid():N}";

        await Assert.ThrowsAsync<AuditChainBusyException>(() => db.InTransactionAsync(async () =>
        {
            db.Departments.Add(new IdentityHub.Data.Directory.Department { Name = name, Code = name, Path = "/" + name });
            await db.SaveChangesAsync();
        }, CancellationToken.None));

        await first.Transaction.RollbackAsync();
        Assert.False(await database.RunAsync(s => s.GetRequiredService<IdentityHubDbContext>().Departments.AnyAsync(d => d.Name == name)));
    }

    [PrerequisiteFact]
    public async Task InTransaction_TurnNotFreedWithinTheCommandTimeout_RefusedAsBusyAndChangesNothing()
    {
        await using var first = await Writer.StartAsync(database);
        await using var scope = database.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        db.Database.SetCommandTimeout(1);
        var ran = false;

        var busy = await Assert.ThrowsAsync<AuditChainBusyException>(() => db.InTransactionAsync(async () =>
        {
            await scope.ServiceProvider.GetRequiredService<AuditTrail>().SerializeAsync(CancellationToken.None);
            ran = true;
        }, CancellationToken.None));

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

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The writers did not reach their transactions in time.");
            await Task.Delay(20);
        }
    }

    /// <summary>A write through <c>InTransactionAsync</c> in its own scope, on its own thread: takes its turn, then waits for <c>end</c>.</summary>
    private sealed class InTransactionWriter
    {
        private readonly TaskCompletionSource _holds = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private InTransactionWriter(AsyncServiceScope scope, Func<Task> end)
        {
            Db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
            // Read here, before the writer's thread uses the context: a context is not for two threads at once.
            Connection = Db.Database.GetDbConnection();
            var audit = scope.ServiceProvider.GetRequiredService<AuditTrail>();
            // On its own thread: SQLite's provider waits for the write lock inside BeginTransactionAsync, synchronously.
            Done = Task.Run(() => Db.InTransactionAsync(async () =>
            {
                await audit.SerializeAsync(CancellationToken.None);
                _holds.SetResult();
                await end();
            }, CancellationToken.None));
        }

        public IdentityHubDbContext Db { get; }

        /// <summary>The context's connection, whose state the test reads while the writer runs.</summary>
        public System.Data.Common.DbConnection Connection { get; }

        public Task HoldsTurn => _holds.Task;

        public Task Done { get; }

        public static InTransactionWriter Start(AsyncServiceScope scope, Func<Task> end) => new(scope, end);
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
            // Set up now, on the test's thread: a test reads HoldsTurn while TakeTurnAsync runs on another one.
            _ = AuditChainGate.Of(Db);
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
