using System.Data.Common;
using System.Runtime.CompilerServices;
using IdentityHub.Data.Cluster;
using IdentityHub.Data.Directory;
using IdentityHub.Data.Keys;
using IdentityHub.Data.Sessions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityHub.Core.Cluster;

/// <summary>
/// Publishes what other nodes cache from every save, so no call site can forget: a user's security stamp,
/// status or lockout (their sessions), an ended browser session, an OIDC client, a signing key. Published once the change is committed — after the save when no transaction is open, else
/// after that transaction's commit — and never when the save fails or the transaction rolls back.
/// </summary>
public sealed class ClusterChangeInterceptor(ClusterChanges cluster) : ISaveChangesInterceptor, IDbTransactionInterceptor
{
    // Per context: this save's changes and the transaction they belong to; per transaction: what waits for its commit.
    // What a session check reads: a change to any of them makes every node check that user's sessions at once.
    private static readonly string[] SessionFacts = [nameof(UserAccount.SecurityStamp), nameof(UserAccount.Status), nameof(UserAccount.LockoutEnd)];

    private readonly ConditionalWeakTable<DbContext, Saving> _saving = [];
    private readonly ConditionalWeakTable<DbTransaction, List<ClusterChange>> _pending = [];

    /// <summary>What a save of these tracked entries means to the other nodes.</summary>
    public static IReadOnlyCollection<ClusterChange> ChangesOf(ChangeTracker tracker)
    {
        ArgumentNullException.ThrowIfNull(tracker);
        var changes = new HashSet<ClusterChange>();
        foreach (var entry in tracker.Entries())
        {
            if (entry.State is not (EntityState.Added or EntityState.Modified or EntityState.Deleted))
            {
                continue;
            }

            switch (entry.Entity)
            {
                case UserAccount user when entry.State == EntityState.Deleted
                    || (entry.State == EntityState.Modified && SessionFacts.Any(fact => entry.Property(fact).IsModified)):
                    changes.Add(new ClusterChange(ClusterTopic.UserSessions, user.Id));
                    break;
                case OpenIddictEntityFrameworkCoreApplication client:
                    AddClient(changes, client.ClientId);
                    if (entry.State == EntityState.Modified && entry.Property(nameof(client.ClientId)) is { IsModified: true } id)
                    {
                        AddClient(changes, id.OriginalValue as string);
                    }

                    break;
                case SigningKey:
                    changes.Add(ClusterChange.KeysChanged);
                    break;
                case UserSession session when session.EndedAt is not null
                    && (entry.State == EntityState.Added || entry.Property(nameof(UserSession.EndedAt)).IsModified):
                    changes.Add(new ClusterChange(ClusterTopic.SessionEnded, session.Id));
                    break;
            }
        }

        return changes;
    }

    public InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Remember(eventData.Context);
        return result;
    }

    public ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Remember(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        if (Saved(eventData.Context) is { Count: > 0 } committed)
        {
            // The save committed on its own; publishing sends without blocking past the local subscribers.
            _ = cluster.PublishAsync(committed, CancellationToken.None);
        }

        return result;
    }

    public async ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        if (Saved(eventData.Context) is { Count: > 0 } committed)
        {
            await cluster.PublishAsync(committed, CancellationToken.None);
        }

        return result;
    }

    public void SaveChangesFailed(DbContextErrorEventData eventData) => Forget(eventData.Context);

    public Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    public void SaveChangesCanceled(DbContextEventData eventData) => Forget(eventData.Context);

    public Task SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData)
    {
        if (Committed(transaction) is { } changes)
        {
            _ = cluster.PublishAsync(changes, CancellationToken.None);
        }
    }

    public async Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (Committed(transaction) is { } changes)
        {
            await cluster.PublishAsync(changes, CancellationToken.None);
        }
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => _pending.Remove(transaction);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        _pending.Remove(transaction);
        return Task.CompletedTask;
    }

    public void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => _pending.Remove(transaction);

    public Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        _pending.Remove(transaction);
        return Task.CompletedTask;
    }

    private static void AddClient(HashSet<ClusterChange> changes, string? clientId)
    {
        if (!string.IsNullOrEmpty(clientId))
        {
            changes.Add(new ClusterChange(ClusterTopic.Client, clientId));
        }
    }

    private void Remember(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        var changes = ChangesOf(context.ChangeTracker);
        if (changes.Count == 0)
        {
            _saving.Remove(context);
            return;
        }

        _saving.AddOrUpdate(context, new Saving(changes, context.Database.CurrentTransaction?.GetDbTransaction()));
    }

    private void Forget(DbContext? context)
    {
        if (context is not null)
        {
            _saving.Remove(context);
        }
    }

    /// <summary>The changes to publish now (the save was its own transaction), or none: they wait for the open transaction.</summary>
    private IReadOnlyCollection<ClusterChange>? Saved(DbContext? context)
    {
        if (context is null || !_saving.TryGetValue(context, out var saving))
        {
            return null;
        }

        _saving.Remove(context);
        if (saving.Transaction is null)
        {
            return saving.Changes;
        }

        var pending = _pending.GetValue(saving.Transaction, _ => []);
        lock (pending)
        {
            pending.AddRange(saving.Changes);
        }

        return null;
    }

    private List<ClusterChange>? Committed(DbTransaction transaction)
    {
        if (!_pending.TryGetValue(transaction, out var changes))
        {
            return null;
        }

        _pending.Remove(transaction);
        lock (changes)
        {
            return [.. changes.Distinct()];
        }
    }

    private sealed record Saving(IReadOnlyCollection<ClusterChange> Changes, DbTransaction? Transaction);
}
