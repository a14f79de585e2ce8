using IdentityHub.Data;
using IdentityHub.Data.Sessions;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Sessions;

/// <summary>Why a browser session ended, as <see cref="UserSession.EndReason"/> keeps it.</summary>
public static class UserSessionEndReasons
{
    public const string SignedOut = "signed-out";
    public const string SignedOutElsewhere = "signed-out-elsewhere";
    public const string EndedByAdministrator = "ended-by-admin";
    public const string Suspended = "suspended";
    public const string Left = "left";
    public const string AdminRolesRemoved = "admin-roles-removed";
    public const string PasswordChanged = "password-changed";

    /// <summary>The periodic check of the user (security stamp, status, lockout) refused the session.</summary>
    public const string Revalidation = "revalidation-failed";
}

/// <summary>
/// The browser sessions on the server: one row per sign-in (the sid), ended by sign-out, by the user for their other
/// sessions, by an administrator, by suspension or leaving, by a password change. Ending a session is a tracked save, so
/// the cluster change interceptor tells every node (<c>ClusterTopic.SessionEnded</c>) once it is committed, and owes a
/// back-channel logout to every OIDC client that took part in it.
/// </summary>
public sealed class BrowserSessions(IdentityHubDbContext db, BackchannelLogoutNotices backchannel, TimeProvider clock)
{
    /// <summary>How often a live session's <see cref="UserSession.LastSeenAt"/> is written (and its row read).</summary>
    public static readonly TimeSpan SeenInterval = TimeSpan.FromMinutes(1);

    public async Task StartAsync(string sid, string userId, string? ipAddress, string? userAgent, string? issuer, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        db.UserSessions.Add(new UserSession
        {
            Id = sid,
            UserId = userId,
            CreatedAt = now,
            LastSeenAt = now,
            IpAddress = Cut(ipAddress, UserSession.IpAddressMaxLength),
            UserAgent = Cut(userAgent, UserSession.UserAgentMaxLength),
            Issuer = Cut(issuer, UserSession.IssuerMaxLength),
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// Whether the session is live, and notes that it was seen now: one statement, so a live session costs one write a
    /// minute per node and an ended, unknown or missing one is found.
    /// </summary>
    public async Task<bool> SeenAsync(string sid, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var due = now - SeenInterval;
        var touched = await db.UserSessions
            .Where(s => s.Id == sid && s.EndedAt == null && s.LastSeenAt <= due)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.LastSeenAt, now), cancellationToken);
        return touched > 0 || await db.UserSessions.AnyAsync(s => s.Id == sid && s.EndedAt == null, cancellationToken);
    }

    /// <summary>Ends one session (sign-out); <paramref name="issuer"/> is what the session's tokens carry, for the logout tokens.</summary>
    public async Task EndAsync(string sid, string userId, string reason, string? issuer, CancellationToken cancellationToken)
    {
        var session = await db.UserSessions.SingleOrDefaultAsync(s => s.Id == sid && s.EndedAt == null, cancellationToken);
        if (session is not null)
        {
            End(session, reason);
            await db.SaveChangesAsync(cancellationToken);
        }

        if ((issuer ?? session?.Issuer) is { } logoutIssuer)
        {
            await backchannel.EnqueueAsync(sid, userId, logoutIssuer, cancellationToken);
        }
    }

    /// <summary>Ends every live session of the user (an administrator, suspension, leaving); returns how many.</summary>
    public Task<int> EndAllAsync(string userId, string reason, CancellationToken cancellationToken) =>
        EndLiveAsync(userId, keepSid: null, reason, cancellationToken);

    /// <summary>"Sign out my other sessions": every live session of the user but <paramref name="keepSid"/>; returns how many.</summary>
    public Task<int> EndOthersAsync(string userId, string keepSid, CancellationToken cancellationToken) =>
        EndLiveAsync(userId, keepSid, UserSessionEndReasons.SignedOutElsewhere, cancellationToken);

    /// <summary>Every live session of the user but <paramref name="keepSid"/> (none kept when null), for <paramref name="reason"/>; returns how many.</summary>
    public Task<int> EndOthersAsync(string userId, string? keepSid, string reason, CancellationToken cancellationToken) =>
        EndLiveAsync(userId, keepSid, reason, cancellationToken);

    /// <summary>One live session of the user (null when it is not theirs, or has ended).</summary>
    public Task<UserSession?> LiveAsync(string userId, string sid, CancellationToken cancellationToken) =>
        db.UserSessions.AsNoTracking().SingleOrDefaultAsync(s => s.Id == sid && s.UserId == userId && s.EndedAt == null, cancellationToken);

    /// <summary>The user's sessions that have not ended, newest first (for the account page).</summary>
    public async Task<IReadOnlyList<UserSession>> LiveOfAsync(string userId, CancellationToken cancellationToken) =>
        await db.UserSessions.AsNoTracking().Where(s => s.UserId == userId && s.EndedAt == null)
            .OrderByDescending(s => s.CreatedAt).ToListAsync(cancellationToken);

    private async Task<int> EndLiveAsync(string userId, string? keepSid, string reason, CancellationToken cancellationToken)
    {
        var live = await db.UserSessions.Where(s => s.UserId == userId && s.EndedAt == null && s.Id != keepSid).ToListAsync(cancellationToken);
        foreach (var session in live)
        {
            End(session, reason);
        }

        await db.SaveChangesAsync(cancellationToken);
        foreach (var session in live.Where(s => s.Issuer is not null))
        {
            await backchannel.EnqueueAsync(session.Id, userId, session.Issuer!, cancellationToken);
        }

        return live.Count;
    }

    private void End(UserSession session, string reason)
    {
        session.EndedAt = clock.GetUtcNow();
        session.EndReason = reason;
    }

    private static string? Cut(string? value, int max) => value is { Length: > 0 } ? value.Length > max ? value[..max] : value : null;
}
