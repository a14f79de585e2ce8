using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IdentityHub.Data;
using IdentityHub.Data.Audit;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace IdentityHub.Core.Audit;

/// <summary>The result of walking the chain: intact, or the first row whose link is broken.</summary>
public sealed record AuditVerification(bool Intact, long Checked, long? FirstBrokenSequence, string? Problem);

/// <summary>
/// Appends audit events to a hash chain: each row's hash covers its content and the previous row's hash,
/// so editing, inserting or deleting a row afterwards breaks every later link. Writers of this process queue for the
/// head in <see cref="AuditChainGate"/> before they take its database lock.
/// </summary>
public sealed class AuditTrail(IdentityHubDbContext db, CurrentActor actor, TimeProvider clock) : IDisposable
{
    private static readonly JsonSerializerOptions SnapshotJson = new(JsonSerializerDefaults.Web);

    private HeldHead? _held;
    private IDbContextTransaction? _locked;
    private AuditChainHead? _head;
    private (AuditChainGate Gate, object Turn)? _turn;

    /// <summary>
    /// Adds an event to the caller's transaction (saved by the caller's SaveChanges). Taking the chain head
    /// first serializes writers on every provider (row lock on PostgreSQL/SQL Server, write lock on SQLite).
    /// </summary>
    public async Task<AuditEvent> RecordAsync(string type, string? targetType, string? targetId, object? before, object? after, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("Audit events are written in the transaction of the change they record.");
        }

        var held = _held is { } chain && ReferenceEquals(chain.Transaction, db.Database.CurrentTransaction) ? chain : null;
        AuditChainHead? staged = null;
        (long Sequence, string Hash) last;
        if (held is { Head: { } heldLast })
        {
            last = heldLast;
        }
        else if (held is not null)
        {
            var head = await LockHeadAsync(cancellationToken);
            last = (head.Sequence, head.Hash);
        }
        else
        {
            staged = await StagedHeadAsync(cancellationToken);
            last = (staged.Sequence, staged.Hash);
        }

        var who = actor.Value;
        var entry = new AuditEvent
        {
            Sequence = last.Sequence + 1,
            OccurredAt = Revision.Now(clock),
            Type = type,
            ActorId = Truncate(who.Id, 450)!,
            ActorName = Truncate(who.Name, 256)!,
            TargetType = targetType,
            TargetId = targetId,
            Before = before is null ? null : JsonSerializer.Serialize(before, SnapshotJson),
            After = after is null ? null : JsonSerializer.Serialize(after, SnapshotJson),
            IpAddress = Truncate(who.IpAddress, 64),
            UserAgent = Truncate(who.UserAgent, 512),
            CorrelationId = Truncate(who.CorrelationId, 128),
            PreviousHash = last.Hash,
            Hash = "",
        };
        entry.Hash = HashOf(entry);
        if (held is not null)
        {
            held.Head = (entry.Sequence, entry.Hash);
        }
        else
        {
            // The head moves in the caller's save, with the event: one statement of its batch, not a round trip of its own.
            (staged!.Sequence, staged.Hash) = (entry.Sequence, entry.Hash);
            db.Entry(staged).State = EntityState.Modified;
        }

        db.AuditEvents.Add(entry);
        return entry;
    }

    /// <summary>
    /// For many events in one transaction (a CSV import): from now on in the caller's transaction, the chain head is taken
    /// (locked) and read by the first event only, each later event links to the one before in memory, and
    /// <see cref="WriteHeldHeadAsync"/> stores the head they end at before the caller saves and commits. The events,
    /// their sequence numbers and hashes are the ones an update of the head per event gives; the lock is held from the
    /// first event to the commit, as it is then.
    /// </summary>
    public void HoldHead()
    {
        var transaction = db.Database.CurrentTransaction
            ?? throw new InvalidOperationException("The chain head is held only inside a transaction.");
        _held = new HeldHead(transaction);
    }

    /// <summary>Stores the head of the events chained in memory since <see cref="HoldHead"/> (if any) and stops holding it.</summary>
    public async Task WriteHeldHeadAsync(CancellationToken cancellationToken)
    {
        var held = _held;
        _held = null;
        if (held?.Head is { } head)
        {
            await db.AuditChainHead.Where(h => h.Id == AuditChainHead.SingletonId)
                .ExecuteUpdateAsync(s => s.SetProperty(h => h.Sequence, head.Sequence).SetProperty(h => h.Hash, head.Hash), cancellationToken);
        }
    }

    /// <summary>Stops holding the head without storing it: the caller rolls its transaction back.</summary>
    public void ForgetHeldHead() => _held = null;

    /// <summary>
    /// Takes the chain head's lock now, in the caller's transaction, before it reads what its change depends on:
    /// every audited write takes it anyway, so a change that must not interleave with another (a department move
    /// and its cycle check) is serialised without a lock of its own.
    /// </summary>
    public async Task SerializeAsync(CancellationToken cancellationToken)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("Serialising only holds inside a transaction.");
        }

        await StagedHeadAsync(cancellationToken);
    }

    /// <summary>
    /// Ends a turn at the gate that the end of its transaction did not (a transaction dropped without commit or rollback
    /// on a connection left open): the next writer of this process must not wait for this scope's lock forever.
    /// </summary>
    public void Dispose()
    {
        if (_turn is { } turn)
        {
            _turn = null;
            turn.Gate.Leave(turn.Turn);
        }
    }

    /// <summary>
    /// The chain's end as this transaction sees it, tracked in the context: the head this transaction locked and read, or
    /// the one its last event (saved or still to be saved) left. Nobody else moves the head while this transaction holds
    /// its lock, so after the first read the tracked row is the truth; a context cleared after a failure reads it again.
    /// </summary>
    private async Task<AuditChainHead> StagedHeadAsync(CancellationToken cancellationToken)
    {
        var transaction = db.Database.CurrentTransaction;
        if (_head is { } known && ReferenceEquals(_locked, transaction) && db.Entry(known).State != EntityState.Detached)
        {
            return known;
        }

        var head = await LockHeadAsync(cancellationToken);
        if (db.AuditChainHead.Local.FindEntry(AuditChainHead.SingletonId) is { } entry)
        {
            entry.CurrentValues.SetValues(head);
            entry.OriginalValues.SetValues(head);
            entry.State = EntityState.Unchanged;
            head = entry.Entity;
        }
        else
        {
            db.AuditChainHead.Attach(head);
        }

        (_head, _locked) = (head, transaction);
        return head;
    }

    /// <summary>
    /// Takes this process's turn, then the head's row lock (write lock on SQLite) and reads it: one statement where the
    /// provider returns an update's row (PostgreSQL, SQLite), a lock and a read elsewhere.
    /// </summary>
    private async Task<AuditChainHead> LockHeadAsync(CancellationToken cancellationToken)
    {
        await TakeTurnAsync(cancellationToken);
        if (db.Database.ProviderName is IdentityHubDbContext.SqliteProviderName or IdentityHubDbContext.PostgreSqlProviderName)
        {
            var rows = await db.AuditChainHead
                .FromSql($"UPDATE \"AuditChainHead\" SET \"Hash\" = \"Hash\" WHERE \"Id\" = {AuditChainHead.SingletonId} RETURNING *")
                .AsNoTracking().ToListAsync(cancellationToken);
            return rows.Single();
        }

        await db.AuditChainHead.Where(h => h.Id == AuditChainHead.SingletonId)
            .ExecuteUpdateAsync(s => s.SetProperty(h => h.Hash, h => h.Hash), cancellationToken);
        return await db.AuditChainHead.AsNoTracking().SingleAsync(h => h.Id == AuditChainHead.SingletonId, cancellationToken);
    }

    /// <summary>This process's turn at the head for the current transaction, before its database lock (<see cref="AuditChainGate"/>).</summary>
    private async Task TakeTurnAsync(CancellationToken cancellationToken)
    {
        var gate = AuditChainGate.Of(db);
        _turn = (gate, await gate.EnterAsync(db, cancellationToken));
    }

    /// <summary>Records a standalone event (sign-in, key rotation) in a transaction of its own.</summary>
    public async Task RecordEventAsync(string type, string? targetType, string? targetId, object? details, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await RecordAsync(type, targetType, targetId, before: null, details, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Walks the chain in order and reports the first row whose hash or link does not hold.</summary>
    public async Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken)
    {
        const int Batch = 1000;
        var expectedPrevious = AuditChainHead.GenesisHash;
        long expectedSequence = 1, checkedRows = 0;
        while (true)
        {
            var rows = await db.AuditEvents.AsNoTracking().Where(e => e.Sequence >= expectedSequence)
                .OrderBy(e => e.Sequence).Take(Batch).ToListAsync(cancellationToken);
            foreach (var row in rows)
            {
                if (row.Sequence != expectedSequence)
                {
                    return new(false, checkedRows, expectedSequence, $"Event {expectedSequence} is missing.");
                }

                if (row.PreviousHash != expectedPrevious)
                {
                    return new(false, checkedRows, row.Sequence, $"Event {row.Sequence} does not link to event {row.Sequence - 1}.");
                }

                if (HashOf(row) != row.Hash)
                {
                    return new(false, checkedRows, row.Sequence, $"Event {row.Sequence} was changed after it was written.");
                }

                expectedPrevious = row.Hash;
                expectedSequence++;
                checkedRows++;
            }

            if (rows.Count < Batch)
            {
                break;
            }
        }

        var head = await db.AuditChainHead.AsNoTracking().SingleAsync(h => h.Id == AuditChainHead.SingletonId, cancellationToken);
        return head.Sequence == checkedRows && head.Hash == expectedPrevious
            ? new(true, checkedRows, null, null)
            : new(false, checkedRows, checkedRows + 1, $"Events after {checkedRows} were removed.");
    }

    private static string HashOf(AuditEvent e)
    {
        var canonical = JsonSerializer.Serialize(new object?[]
        {
            e.Sequence, e.OccurredAt.UtcTicks, e.Type, e.ActorId, e.ActorName, e.TargetType, e.TargetId,
            e.Before, e.After, e.IpAddress, e.UserAgent, e.CorrelationId, e.PreviousHash,
        });
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    private static string? Truncate(string? value, int length) => value is null || value.Length <= length ? value : value[..length];

    /// <summary>The chain head held in memory for one transaction: null until its first event took and read the real one.</summary>
    private sealed class HeldHead(IDbContextTransaction transaction)
    {
        public IDbContextTransaction Transaction { get; } = transaction;

        public (long Sequence, string Hash)? Head { get; set; }
    }
}
