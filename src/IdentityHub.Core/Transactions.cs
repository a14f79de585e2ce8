using IdentityHub.Data;
using IdentityHub.Data.Audit;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core;

/// <summary>Runs a write and its audit event in one transaction, joining the caller's when there is one (CSV import).</summary>
public static class Transactions
{
    public static async Task<T> InTransactionAsync<T>(this IdentityHubDbContext db, Func<Task<T>> work, CancellationToken cancellationToken)
    {
        if (db.Database.CurrentTransaction is not null)
        {
            return await work();
        }

        // Audited writes are one at a time from their first write to the commit: a crowd of them waits here for a writer
        // slot before its transaction takes a pooled connection, so it holds few connections (AuditChainGate).
        using var writer = await AuditChainGate.Of(db).EnterWriterAsync(db, cancellationToken);
        return await RunAsync(db, work, cancellationToken);
    }

    public static Task InTransactionAsync(this IdentityHubDbContext db, Func<Task> work, CancellationToken cancellationToken) =>
        db.InTransactionAsync(async () => { await work(); return true; }, cancellationToken);

    private static AuditChainBusyException? BusyIn(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is AuditChainBusyException busy)
            {
                return busy;
            }
        }

        return null;
    }

    private static async Task<T> RunAsync<T>(IdentityHubDbContext db, Func<Task<T>> work, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // All or nothing: a failed save ends in the rollback below, so EF's savepoint around each save would only cost two
        // round trips, holding the turn (a step that must undo part of its work takes a savepoint of its own).
        var autoSavepoints = db.Database.AutoSavepointsEnabled;
        db.Database.AutoSavepointsEnabled = false;
        try
        {
            var result = await work();
            await transaction.CommitAsync(cancellationToken);
            return result;
        }
        catch (Exception ex) when (ex is not AuditChainBusyException && BusyIn(ex) is { } busy)
        {
            // A save's first write waited the whole command timeout for the turn (AuditChainGate), and EF wrapped that
            // (DbUpdateException, and the execution strategy's "transient failure"): refused as busy, not as a conflict.
            db.ChangeTracker.Clear();
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(busy);
            throw;
        }
        catch (DbUpdateException ex)
        {
            // The checks passed but a concurrent request saved the same name or number first (a unique index caught it).
            db.ChangeTracker.Clear();
            throw new RuleViolation(ViolationKind.Conflict, "Another change to the same record was saved at the same moment; reload and try again.", ex);
        }
        catch
        {
            // Nothing half-written: the tracked changes go too, or a later save on this context would replay them.
            db.ChangeTracker.Clear();
            throw;
        }
        finally
        {
            db.Database.AutoSavepointsEnabled = autoSavepoints;
        }
    }
}
