using System.Collections.Concurrent;
using System.Security.Claims;
using IdentityHub.Core.Cluster;
using IdentityHub.Core.Sessions;
using IdentityHub.Data.Cluster;
using IdentityHub.Server.Identities;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;

namespace IdentityHub.Server.Sessions;

/// <summary>
/// Whether a session cookie's session is still live, on every authenticated request, mostly without the database: this
/// node remembers the sessions ended lately (heard through <see cref="ClusterTopic.SessionEnded"/>, from any node within
/// about a second) and which sessions the database said were live within the last minute. A session neither ended nor
/// checked lately is read (and its last-seen time written) once. A cookie without a session id predates server-side
/// sessions and is refused: its user signs in again.
/// </summary>
public sealed class SessionLiveness : IDisposable
{
    // Beyond this many, what is remembered is dropped and every session is read once more: bounded memory.
    private const int MaxRemembered = 100_000;

    // Longer than a "live" answer is trusted, so a check racing with the end cannot outlive the end's memory.
    private static readonly TimeSpan EndedKept = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, DateTimeOffset> _ended = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _live = new(StringComparer.Ordinal);
    private readonly TimeProvider _clock;
    private readonly IDisposable _subscription;
    private long _forgetAllBeforeTicks;
    private long _prunedAtTicks;

    public SessionLiveness(ClusterChanges changes, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(changes);
        _clock = clock;
        _subscription = changes.Subscribe(ClusterTopic.SessionEnded, Ended);
    }

    /// <summary>
    /// Runs before the user checks (<see cref="SessionRevocations"/>, the security stamp): an ended session is refused
    /// and its cookie removed; a session the user checks refuse (security stamp changed, suspended, left, deleted) is ended too.
    /// </summary>
    public static async Task ValidatePrincipalAsync(CookieValidatePrincipalContext context, Func<CookieValidatePrincipalContext, Task> userChecks)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(userChecks);
        var services = context.HttpContext.RequestServices;
        var cancellationToken = context.HttpContext.RequestAborted;
        var sid = context.Principal?.FindFirstValue(IdentityHubClaims.SessionId);
        if (sid is null
            || !await services.GetRequiredService<SessionLiveness>().IsLiveAsync(sid, () => services.GetRequiredService<BrowserSessions>().SeenAsync(sid, cancellationToken)))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(IdentityConstants.ApplicationScheme);
            return;
        }

        var userId = context.Principal!.FindFirstValue(ClaimTypes.NameIdentifier);
        await userChecks(context);
        if (context.Principal is null && userId is not null)
        {
            await services.GetRequiredService<BrowserSessions>().EndAsync(sid, userId, UserSessionEndReasons.Revalidation, issuer: null, cancellationToken);
        }
    }

    /// <summary>Whether session <paramref name="sid"/> is live; <paramref name="readDatabase"/> answers when this node cannot.</summary>
    public async Task<bool> IsLiveAsync(string sid, Func<Task<bool>> readDatabase)
    {
        ArgumentNullException.ThrowIfNull(readDatabase);
        if (_ended.ContainsKey(sid))
        {
            return false;
        }

        var now = _clock.GetUtcNow();
        if (_live.TryGetValue(sid, out var checkedAt) && checkedAt.UtcTicks >= Interlocked.Read(ref _forgetAllBeforeTicks)
            && now - checkedAt < BrowserSessions.SeenInterval)
        {
            return true;
        }

        PruneIfDue(now);
        if (!await readDatabase())
        {
            Remember(_ended, sid, now);
            _live.TryRemove(sid, out _);
            return false;
        }

        // Read before the answer: an end heard meanwhile is in _ended, which is asked first.
        Remember(_live, sid, now);
        return true;
    }

    public void Dispose() => _subscription.Dispose();

    private void Ended(string? sid)
    {
        var now = _clock.GetUtcNow();
        if (sid is null)
        {
            // Ends may have been missed: every session is read from the database at its next request.
            ForgetAll(now);
            return;
        }

        Remember(_ended, sid, now);
        _live.TryRemove(sid, out _);
    }

    private void Remember(ConcurrentDictionary<string, DateTimeOffset> set, string sid, DateTimeOffset now)
    {
        if (set.Count >= MaxRemembered)
        {
            ForgetAll(now);
        }

        set[sid] = now;
    }

    private void ForgetAll(DateTimeOffset now)
    {
        Interlocked.Exchange(ref _forgetAllBeforeTicks, now.UtcTicks);
        _live.Clear();
        // Every remembered end is in the database too, and no session is taken as live before it is read again.
        _ended.Clear();
    }

    private void PruneIfDue(DateTimeOffset now)
    {
        var last = Interlocked.Read(ref _prunedAtTicks);
        if (now.UtcTicks - last < BrowserSessions.SeenInterval.Ticks || Interlocked.CompareExchange(ref _prunedAtTicks, now.UtcTicks, last) != last)
        {
            return;
        }

        foreach (var (sid, at) in _live)
        {
            if (now - at >= BrowserSessions.SeenInterval)
            {
                _live.TryRemove(new KeyValuePair<string, DateTimeOffset>(sid, at));
            }
        }

        foreach (var (sid, at) in _ended)
        {
            if (now - at >= EndedKept)
            {
                _ended.TryRemove(new KeyValuePair<string, DateTimeOffset>(sid, at));
            }
        }
    }
}
