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
/// still orders the writers of different nodes. One gate per database; the turn ends when the transaction that took it
/// commits, rolls back or fails, or its connection closes (a transaction disposed without either)
/// (<see cref="Release"/>, added to every context by the providers' Use methods).
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

    private readonly SemaphoreSlim _turn = new(1, 1);
    private Holder? _holder;

    /// <summary>The gate of the context's database (its connection string).</summary>
    public static AuditChainGate Of(DbContext db)
    {
        ArgumentNullException.ThrowIfNull(db);
        return Gates.GetOrAdd(db.Database.GetConnectionString() ?? "", _ => new AuditChainGate());
    }

    /// <summary>True while the context's current transaction has this process's turn.</summary>
    public bool IsHeldBy(DbContext db)
    {
        ArgumentNullException.ThrowIfNull(db);
        return db.Database.CurrentTransaction?.GetDbTransaction() is { } transaction && Volatile.Read(ref _holder)?.Transaction == transaction;
    }

    /// <summary>
    /// Waits for this process's turn for the context's current transaction (at once when it has it already); gives up with
    /// a <see cref="TimeoutException"/> after the context's command timeout, as a database lock wait would. Returns the
    /// turn, for <see cref="Leave"/> when the transaction's end might not be seen (the caller's scope ends).
    /// </summary>
    public async Task<object> EnterAsync(DbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("The audit chain is taken inside a transaction.");
        if (Volatile.Read(ref _holder) is { } held && held.Transaction == transaction)
        {
            return held;
        }

        var timeout = TimeSpan.FromSeconds(db.Database.GetCommandTimeout() ?? 30);
        if (!await _turn.WaitAsync(timeout, cancellationToken))
        {
            throw new TimeoutException($"Waited {timeout.TotalSeconds:0} s for the audit chain: another change of this node held it all that time.");
        }

        var connection = db.Database.GetDbConnection();
        var turn = new Holder(transaction, connection);
        Running[transaction] = this;
        Running[connection] = this;
        Volatile.Write(ref _holder, turn);
        return turn;
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

        Running.TryRemove(new KeyValuePair<object, AuditChainGate>(holder.Transaction, this));
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

    private sealed record Holder(DbTransaction Transaction, DbConnection Connection);

    /// <summary>Ends a turn when its transaction ends: commit, rollback, a failed commit or rollback, or its connection closing.</summary>
    public sealed class Release : DbTransactionInterceptor, IDbConnectionInterceptor
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
    }
}
