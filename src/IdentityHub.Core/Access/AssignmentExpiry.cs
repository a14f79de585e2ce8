using IdentityHub.Core.Audit;
using IdentityHub.Core.Changes;
using IdentityHub.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Access;

/// <summary>
/// Assignments stop counting by themselves when <c>ValidUntil</c> passes; this records each expiry once,
/// as a change like any other (an audit event; issue 7 pushes it downstream).
/// </summary>
public sealed class AssignmentExpiry(IdentityHubDbContext db, EntitlementChanges changes, AccessLossRevocation revocation, AuditTrail audit, TimeProvider clock)
{
    private const int Batch = 200;

    public async Task<int> RecordExpiredAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            var now = clock.GetUtcNow();
            var expired = await db.RoleAssignments.Include(a => a.Role)
                .Where(a => a.EndedAt == null && a.ExpiryRecordedAt == null && a.ValidUntil != null && a.ValidUntil <= now)
                .OrderBy(a => a.ValidUntil).Take(Batch).ToListAsync(cancellationToken);
            if (expired.Count == 0)
            {
                return total;
            }

            await db.InTransactionAsync(async () =>
            {
                foreach (var assignment in expired)
                {
                    assignment.ExpiryRecordedAt = Revision.Now(clock);
                    await audit.RecordAsync("assignment.expired", "user", assignment.UserId, null,
                        AssignmentSnapshot.Of(assignment, assignment.Role!.Name), cancellationToken);
                    var applications = await RoleApplications.OfRoleAsync(db, assignment.RoleId, assignment.Role.ApplicationId, cancellationToken);
                    await changes.AssignmentChangedAsync(assignment.UserId, applications, "assignment.expired", cancellationToken);
                    await revocation.RevokeAsync(assignment.UserId, applications, cancellationToken);
                }

                await db.SaveChangesAsync(cancellationToken);
            }, cancellationToken);
            total += expired.Count;
        }
    }
}
