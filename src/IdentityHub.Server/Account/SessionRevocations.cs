using System.Collections.Concurrent;
using System.Security.Claims;
using IdentityHub.Core.Cluster;
using IdentityHub.Data.Cluster;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace IdentityHub.Server.Account;

/// <summary>
/// Which users' sessions changed lately (security stamp, status, lockout; on any node), so a session cookie of such a user
/// issued or last checked before the change is checked against the database at once instead of at the next
/// <c>Account:RevalidationInterval</c>. Users with no recent change cost no database round trip. A change is forgotten once
/// the interval has passed, since every cookie older than that is checked anyway.
/// </summary>
public sealed class SessionRevocations : IHostedService, IDisposable
{
    // Beyond this many recent changes, one "everyone changed" moment replaces them: bounded memory, one check per session.
    private const int MaxRemembered = 100_000;

    private readonly ConcurrentDictionary<string, DateTimeOffset> _changed = new(StringComparer.Ordinal);
    private readonly TimeProvider _clock;
    private readonly TimeSpan _interval;
    private readonly IDisposable _subscription;
    private long _everyoneChangedAtTicks;

    public SessionRevocations(ClusterChanges changes, TimeProvider clock, IOptions<SecurityStampValidatorOptions> options)
    {
        ArgumentNullException.ThrowIfNull(changes);
        ArgumentNullException.ThrowIfNull(options);
        _clock = clock;
        _interval = options.Value.ValidationInterval;
        // Subscribed at construction, which the host does at start: a change heard before the first request still counts.
        _subscription = changes.Subscribe(ClusterTopic.UserSessions, Changed);
    }

    /// <summary>Whether a cookie of <paramref name="userId"/> issued or checked at <paramref name="checkedAt"/> predates a change.</summary>
    public bool ChangedSince(string userId, DateTimeOffset? checkedAt)
    {
        if (checkedAt is not { } at)
        {
            return true;
        }

        var everyone = Interlocked.Read(ref _everyoneChangedAtTicks);
        return (everyone != 0 && at.UtcTicks < everyone) || (_changed.TryGetValue(userId, out var changed) && at < changed);
    }

    /// <summary>
    /// Runs before the standard security stamp check: a cookie that predates a change of its user looks due, so the
    /// standard check reads the database now (stamp, status, lockout) and refuses and signs out, or renews the cookie.
    /// </summary>
    public static async Task ValidatePrincipalAsync(CookieValidatePrincipalContext context, Func<CookieValidatePrincipalContext, Task> standard)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(standard);
        if (context.Principal?.FindFirstValue(ClaimTypes.NameIdentifier) is { } userId
            && context.HttpContext.RequestServices.GetRequiredService<SessionRevocations>().ChangedSince(userId, context.Properties.IssuedUtc))
        {
            context.Properties.IssuedUtc = null;
        }

        await standard(context);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _subscription.Dispose();

    private void Changed(string? userId)
    {
        var now = _clock.GetUtcNow();
        if (userId is null || _changed.Count >= MaxRemembered)
        {
            // Changes may have been missed (or too many to remember): every older session is checked once.
            Interlocked.Exchange(ref _everyoneChangedAtTicks, now.UtcTicks);
            _changed.Clear();
            if (userId is null)
            {
                return;
            }
        }

        _changed[userId] = now;
        Forget(now - _interval);
    }

    private void Forget(DateTimeOffset before)
    {
        foreach (var (userId, at) in _changed)
        {
            if (at < before)
            {
                _changed.TryRemove(new KeyValuePair<string, DateTimeOffset>(userId, at));
            }
        }
    }
}
