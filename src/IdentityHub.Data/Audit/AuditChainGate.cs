using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;

namespace IdentityHub.Data.Audit;

/// <summary>
/// This process's queue in front of the audit chain head. Every audited write takes the head's row lock (PostgreSQL, SQL
/// Server) or the write lock (SQLite) and keeps it until its transaction ends, so audited writes are one at a time. Many
/// writers waiting in the database is what costs: on PostgreSQL each commit wakes every backend queued on the row and they
/// fight for it again, so a hand-over gets slower the longer the queue (at 100 admin writes/s the queue grew until the
/// connection pool ran dry and the provisioning dispatcher could not get a connection); SQLite's waiters poll. A writer
/// of this process therefore waits here first, in arrival order, and reaches the database lock alone; the database lock
/// still orders the writers of different nodes. One gate per database.
/// <para>
/// A write run by <c>Transactions.InTransactionAsync</c> first takes one of the gate's <see cref="WriterSlots"/> before its
/// transaction opens a connection, so a crowd of writers holds at most that many pooled connections (the provisioning
/// dispatcher must still get its own); it takes its turn at its first write (an audit event writes the head), so the reads
/// and checks before it run beside the turn holder's and only the part from the first write to the commit is one at a
/// time. Never later than the first write: a writer holding row locks while it waits for the turn could wait for a turn
/// holder that waits for those rows, and only the timeout would part them. On SQLite, whose transaction takes the
/// database's write lock when it begins, the slot is the turn itself: there is one. Other writers take their turn at their
/// first audit event. The turn ends when the transaction commits, rolls back or fails, or its connection closes (a
/// transaction disposed without either) (<see cref="Release"/>, added to every context by the providers' Use methods), or
/// when its taker leaves it.
/// </para>
/// </summary>
[SuppressMessage("Reliability", "CA1001:Types that own disposable fields should be disposable",
    Justification = "A gate lives as long as the process; its SemaphoreSlim holds no handle unless AvailableWaitHandle is read.")]
public sealed class AuditChainGate
{
    private static readonly ConcurrentDictionary<string, AuditChainGate> Gates = new(StringComparer.Ordinal);

    /// <summary>
    /// The gate whose turn runs in a transaction and on a connection (both are keys): the end of a transaction is seen by
    /// its transaction or connection alone, its context may be gone by then.
    /// </summary>
    private static readonly ConcurrentDictionary<object, AuditChainGate> Running = new(ReferenceEqualityComparer.Instance);

    /// <summary>The connections of <c>InTransactionAsync</c> writers holding a slot, whose turn comes at their first write.</summary>
    private static readonly ConcurrentDictionary<DbConnection, AuditChainGate> SlotWriters = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// Writers in their transaction at once, per database and process, where the turn is taken at the first write: enough
    /// that the next writers' reads overlap the turn holder's serial part, few against a connection pool of 100.
    /// </summary>
    public const int ConcurrentWriters = 8;

    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly SemaphoreSlim _writers;
    private readonly bool _turnBeforeTransaction;
    private Holder? _holder;

    private AuditChainGate(bool turnBeforeTransaction)
    {
        _turnBeforeTransaction = turnBeforeTransaction;
        WriterSlots = turnBeforeTransaction ? 1 : ConcurrentWriters;
        _writers = new SemaphoreSlim(WriterSlots, WriterSlots);
    }

    /// <summary>How many <c>InTransactionAsync</c> writers may be in their transactions at once (<see cref="EnterWriterAsync"/>).</summary>
    public int WriterSlots { get; }

    /// <summary>The gate of the context's database (its connection string).</summary>
    public static AuditChainGate Of(DbContext db)
    {
        ArgumentNullException.ThrowIfNull(db);
        return Gates.GetOrAdd(db.Database.GetConnectionString() ?? "", _ => new AuditChainGate(db.Database.ProviderName == IdentityHubDbContext.SqliteProviderName));
    }

    /// <summary>
    /// Before an audited write's transaction begins: waits for one of the <see cref="WriterSlots"/> (on SQLite, for the
    /// turn). Refused with an <see cref="AuditChainBusyException"/> after the context's command timeout. Dispose the result
    /// once the transaction has ended: it gives the slot back, and ends a turn its transaction's end left on the connection.
    /// </summary>
    public async Task<IDisposable> EnterWriterAsync(DbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (_turnBeforeTransaction)
        {
            var turn = await EnterAsync(db, cancellationToken);
            return new Pass(() => Leave(turn));
        }

        var timeout = CommandTimeout(db);
        if (!await _writers.WaitAsync(timeout, cancellationToken))
        {
            throw new AuditChainBusyException(timeout);
        }

        var connection = db.Database.GetDbConnection();
        SlotWriters[connection] = this;
        return new Pass(() =>
        {
            SlotWriters.TryRemove(new KeyValuePair<DbConnection, AuditChainGate>(connection, this));
            LeaveIf(h => h.Connection == connection);
            _writers.Release();
        });
    }

    /// <summary>Before a command of a slot writer's transaction: its turn, if the command may write and it has none yet.</summary>
    private static async ValueTask TurnBeforeWriteAsync(DbCommand command, DbContext? context, CancellationToken cancellationToken)
    {
        if (context is not null && command.Transaction is not null && command.Connection is { } connection
            && SlotWriters.TryGetValue(connection, out var gate) && !gate.IsHeldBy(context) && MayWrite(command.CommandText))
        {
            await gate.EnterAsync(context, cancellationToken);
        }
    }

    /// <summary>Anything but a query or a savepoint counts as a write (taking the turn early is only slower, never wrong).</summary>
    private static bool MayWrite(string text)
    {
        var start = text.AsSpan().TrimStart();
        return !(start.StartsWith("SELECT", StringComparison.OrdinalIgnoreCase) || start.StartsWith("SAVEPOINT", StringComparison.OrdinalIgnoreCase)
            || start.StartsWith("RELEASE", StringComparison.OrdinalIgnoreCase) || start.StartsWith("SAVE TRANSACTION", StringComparison.OrdinalIgnoreCase)
            || start.StartsWith("ROLLBACK TO", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>True while the context (its connection, in its current transaction if it has one) has this process's turn.</summary>
    public bool IsHeldBy(DbContext db)
    {
        ArgumentNullException.ThrowIfNull(db);
        return Volatile.Read(ref _holder) is { } held && held.Connection == db.Database.GetDbConnection()
            && (held.Transaction is null || held.Transaction == db.Database.CurrentTransaction?.GetDbTransaction());
    }

    /// <summary>
    /// Waits for this process's turn for the context: for its current transaction, or, before the transaction begins
    /// (<c>Transactions.InTransactionAsync</c>), for the transaction it is about to begin, so that a queue of writers holds
    /// neither pooled connections nor database lock waits. At once when the context has the turn already (a turn left on
    /// its connection by an earlier transaction is over, and taken over). Gives up with an
    /// <see cref="AuditChainBusyException"/> after the context's command timeout, as a database lock wait would. Returns the turn, for <see cref="Leave"/> when
    /// the transaction's end might not be seen (the caller's scope ends) or the turn was taken before it began.
    /// </summary>
    public async Task<object> EnterAsync(DbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        var connection = db.Database.GetDbConnection();
        if (Volatile.Read(ref _holder) is { } held && held.Connection == connection)
        {
            // One connection has one transaction at a time: whatever transaction the turn names has ended or is this one.
            Bind(held, transaction);
            return held;
        }

        var timeout = CommandTimeout(db);
        if (!await _turn.WaitAsync(timeout, cancellationToken))
        {
            throw new AuditChainBusyException(timeout);
        }

        var turn = new Holder(connection);
        Running[connection] = this;
        Bind(turn, transaction);
        Volatile.Write(ref _holder, turn);
        return turn;
    }

    private static TimeSpan CommandTimeout(DbContext db) => TimeSpan.FromSeconds(db.Database.GetCommandTimeout() ?? 30);

    private void Bind(Holder turn, DbTransaction? transaction)
    {
        if (transaction is not null && turn.Transaction != transaction)
        {
            if (turn.Transaction is { } ended)
            {
                Running.TryRemove(new KeyValuePair<object, AuditChainGate>(ended, this));
            }

            turn.Transaction = transaction;
            Running[transaction] = this;
        }
    }

    /// <summary>Ends <paramref name="turn"/> if it is still running; true when it did.</summary>
    public bool Leave(object turn) => LeaveIf(h => ReferenceEquals(h, turn));

    private bool LeaveIf(Func<Holder, bool> owns)
    {
        var holder = Volatile.Read(ref _holder);
        if (holder is null || !owns(holder) || Interlocked.CompareExchange(ref _holder, null, holder) != holder)
        {
            return false;
        }

        if (holder.Transaction is { } transaction)
        {
            Running.TryRemove(new KeyValuePair<object, AuditChainGate>(transaction, this));
        }

        Running.TryRemove(new KeyValuePair<object, AuditChainGate>(holder.Connection, this));
        _turn.Release();
        return true;
    }

    private static void Ended(object key, Func<Holder, bool> owns)
    {
        if (Running.TryGetValue(key, out var gate))
        {
            gate.LeaveIf(owns);
        }
    }

    /// <summary>A writer's slot (or SQLite's turn), given back once.</summary>
    private sealed class Pass(Action leave) : IDisposable
    {
        private Action? _leave = leave;

        public void Dispose() => Interlocked.Exchange(ref _leave, null)?.Invoke();
    }

    /// <summary>A turn: the connection it runs on and, once known, its transaction.</summary>
    private sealed class Holder(DbConnection connection)
    {
        public DbConnection Connection { get; } = connection;

        public DbTransaction? Transaction { get; set; }
    }

    /// <summary>
    /// Ends a turn when its transaction ends: commit, rollback, a failed commit or rollback, or its connection closing; and
    /// gives a slot writer its turn before its transaction's first write.
    /// </summary>
    public sealed class Release : DbTransactionInterceptor, IDbConnectionInterceptor, IDbCommandInterceptor
    {
        public static readonly Release Instance = new();

        private Release()
        {
        }

        public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) =>
            Ended(transaction, h => h.Transaction == transaction);

        public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            TransactionCommitted(transaction, eventData);
            return Task.CompletedTask;
        }

        public override void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) =>
            Ended(transaction, h => h.Transaction == transaction);

        public override Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            TransactionRolledBack(transaction, eventData);
            return Task.CompletedTask;
        }

        public override void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) =>
            Ended(transaction, h => h.Transaction == transaction);

        public override Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
        {
            TransactionFailed(transaction, eventData);
            return Task.CompletedTask;
        }

        public void ConnectionClosed(DbConnection connection, ConnectionEndEventData eventData) =>
            Ended(connection, h => h.Connection == connection);

        public Task ConnectionClosedAsync(DbConnection connection, ConnectionEndEventData eventData)
        {
            ConnectionClosed(connection, eventData);
            return Task.CompletedTask;
        }

        public InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result) =>
            Before(command, eventData, result);

        public ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default) =>
            BeforeAsync(command, eventData, result, cancellationToken);

        public InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result) =>
            Before(command, eventData, result);

        public ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default) =>
            BeforeAsync(command, eventData, result, cancellationToken);

        public InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result) =>
            Before(command, eventData, result);

        public ValueTask<InterceptionResult<object>> ScalarExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default) =>
            BeforeAsync(command, eventData, result, cancellationToken);

        private static T Before<T>(DbCommand command, CommandEventData eventData, T result)
        {
            TurnBeforeWriteAsync(command, eventData.Context, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            return result;
        }

        private static async ValueTask<T> BeforeAsync<T>(DbCommand command, CommandEventData eventData, T result, CancellationToken cancellationToken)
        {
            await TurnBeforeWriteAsync(command, eventData.Context, cancellationToken);
            return result;
        }
    }
}

/// <summary>
/// A change waited the whole command timeout for its turn at the audit chain (more audited writes arrive than the node
/// writes) and was not made: the admin API answers 503 with Retry-After.
/// </summary>
public sealed class AuditChainBusyException(TimeSpan waited)
    : TimeoutException($"Too many changes at once: this one waited {waited.TotalSeconds:0} s for its turn to be written and was not made; try again.");
