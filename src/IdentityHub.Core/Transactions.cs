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

        // Audited writes are one at a time (the audit chain head): wait for this node's turn before the transaction takes a
        // pooled connection, so writers queued behind one another hold no connections (AuditChainGate).
        var gate = AuditChainGate.Of(db);
        var turn = await gate.EnterAsync(db, cancellationToken);
        try
        {
            return await RunAsync(db, work, cancellationToken);
        }
        finally
        {
            gate.Leave(turn);
        }
    }

    public static Task InTransactionAsync(this IdentityHubDbContext db, Func<Task> work, CancellationToken cancellationToken) =>
        db.InTransactionAsync(async () => { await work(); return true; }, cancellationToken);

    private static async Task<T> RunAsync<T>(IdentityHubDbContext db, Func<Task<T>> work, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        try
        {
            var result = await work();
            await transaction.CommitAsync(cancellationToken);
            return result;
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
    }
}
