using IdentityHub.Core.Directory;
using IdentityHub.Core.Factors;
using IdentityHub.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Queries;

/// <summary>One security event of a person's own account, as their activity page shows it.</summary>
public sealed record AccountActivityEvent(long Sequence, DateTimeOffset OccurredAt, string Type, string ActorName, string? IpAddress, string? UserAgent);

/// <summary>
/// The security events of one person's account from the audit trail: sign-ins and refusals, password and factor changes,
/// sessions ended. Newest first, the last <see cref="Window"/>, a page at a time.
/// </summary>
public sealed class AccountActivity(IdentityHubDbContext db, TimeProvider clock)
{
    public static readonly TimeSpan Window = TimeSpan.FromDays(30);

    public const string SessionsEndedByAdministrator = "user.sessions-ended";

    /// <summary>Page <paramref name="page"/> (from 1) of the events, and whether an older page exists.</summary>
    public async Task<(IReadOnlyList<AccountActivityEvent> Items, bool More)> PageAsync(string userId, int page, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        page = Math.Max(1, page);
        var since = clock.GetUtcNow() - Window;
        var rows = await db.AuditEvents.AsNoTracking()
            .Where(e => e.TargetType == "user" && e.TargetId == userId && e.OccurredAt >= since
                && (e.Type.StartsWith(AccountEventTypes.Prefix) || e.Type.StartsWith(AccountFactors.EventTypes.Prefix) || e.Type == SessionsEndedByAdministrator))
            .OrderByDescending(e => e.Sequence)
            .Skip((page - 1) * pageSize)
            .Take(pageSize + 1)
            .Select(e => new AccountActivityEvent(e.Sequence, e.OccurredAt, e.Type, e.ActorName, e.IpAddress, e.UserAgent))
            .ToListAsync(cancellationToken);
        return (rows.Take(pageSize).ToList(), rows.Count > pageSize);
    }
}
