using System.Text.Json;
using IdentityHub.Core.Access;
using IdentityHub.Core.Cluster;
using IdentityHub.Data.Cluster;
using IdentityHub.Data;
using IdentityHub.Data.Sessions;
using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityHub.Core.Sessions;

/// <summary>
/// OpenID Connect Back-Channel Logout 1.0 §2.7: when a session ends, every OIDC client that took part in it
/// and registered a backchannel_logout_uri is owed a logout token. The debt is written to the database
/// first; <see cref="BackchannelLogoutSender"/> pays it, retrying.
/// </summary>
public sealed class BackchannelLogoutNotices(
    IdentityHubDbContext db, BackchannelLogoutSignal signal, TimeProvider clock)
{
    public async Task<int> EnqueueAsync(string sid, string userId, string issuer, CancellationToken cancellationToken)
    {
        var participants = await db.SessionParticipants
            .Where(p => p.Sid == sid && p.Protocol == SessionParticipants.OidcProtocol)
            .ToListAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var queued = 0;
        foreach (var participant in participants)
        {
            if (await LogoutUriOfAsync(participant.ClientId, cancellationToken) is { } uri)
            {
                db.BackchannelLogoutDeliveries.Add(new BackchannelLogoutDelivery
                {
                    ClientId = participant.ClientId,
                    LogoutUri = uri,
                    Issuer = issuer,
                    Sid = sid,
                    UserId = userId,
                    CreatedAt = now,
                    NextAttemptAt = now,
                });
                queued++;
            }
        }

        // The session is over: its participants are now only the deliveries above.
        db.SessionParticipants.RemoveRange(participants);
        await db.SaveChangesAsync(cancellationToken);
        if (queued > 0)
        {
            signal.Notify();
        }

        return queued;
    }

    private async Task<string?> LogoutUriOfAsync(string clientId, CancellationToken cancellationToken)
    {
        // Read from the table, not through OpenIddict's manager: the Core ends sessions where no OpenIddict services run.
        var properties = await db.Set<OpenIddictEntityFrameworkCoreApplication>().AsNoTracking()
            .Where(a => a.ClientId == clientId).Select(a => a.Properties).SingleOrDefaultAsync(cancellationToken);
        if (string.IsNullOrEmpty(properties))
        {
            return null;
        }

        using var json = JsonDocument.Parse(properties);
        return json.RootElement.ValueKind == JsonValueKind.Object
            && json.RootElement.TryGetProperty(ClientProperties.BackchannelLogoutUri, out var uri) && uri.ValueKind == JsonValueKind.String
            && Uri.TryCreate(uri.GetString(), UriKind.Absolute, out var parsed)
            ? parsed.AbsoluteUri
            : null;
    }
}

/// <summary>
/// Wakes the sender as soon as a delivery is queued, and on every node when a session ends anywhere (the deliveries are
/// committed by then, also those queued inside a longer transaction); polling is the fallback.
/// </summary>
public sealed class BackchannelLogoutSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0);
    private readonly IDisposable _subscription;

    public BackchannelLogoutSignal(ClusterChanges changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        _subscription = changes.Subscribe(ClusterTopic.SessionEnded, _ => Notify());
    }

    public void Notify()
    {
        if (_signal.CurrentCount == 0)
        {
            _signal.Release();
        }
    }

    public void Dispose()
    {
        _subscription.Dispose();
        _signal.Dispose();
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}
