using System.Threading.Channels;
using IdentityHub.Data.Cluster;
using StackExchange.Redis;

namespace IdentityHub.Server.Hosting.Cluster;

/// <summary>
/// Changes between nodes through Redis pub/sub (<c>Cluster:Redis</c>), for operators who already run Redis: the same
/// messages as PostgreSQL's NOTIFY on one channel. Pub/sub keeps nothing for a node that is away, so every (re)connection
/// counts as a gap.
/// </summary>
public sealed class RedisBackplane(string configuration, ILogger<RedisBackplane> logger) : IClusterBackplane, IAsyncDisposable
{
    public static readonly RedisChannel Channel = RedisChannel.Literal("identityhub:changes");

    private readonly SemaphoreSlim _connecting = new(1, 1);
    private ConnectionMultiplexer? _redis;

    public async Task SendAsync(ClusterNodeIdentity from, IReadOnlyCollection<ClusterChange> changes, CancellationToken cancellationToken)
    {
        var subscriber = (await ConnectAsync(cancellationToken)).GetSubscriber();
        foreach (var payload in ClusterMessage.Encode(from, changes))
        {
            await subscriber.PublishAsync(Channel, payload);
        }
    }

    public async Task ReceiveAsync(
        ClusterNodeIdentity self, Func<IReadOnlyCollection<ClusterChange>, Task> onChanges, Func<Task> onGap, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(self);
        ArgumentNullException.ThrowIfNull(onChanges);
        ArgumentNullException.ThrowIfNull(onGap);
        // Null stands for a gap; the handlers run on Redis's threads, the subscribers on this one.
        var received = System.Threading.Channels.Channel.CreateUnbounded<IReadOnlyCollection<ClusterChange>?>(new UnboundedChannelOptions { SingleReader = true });
        var redis = await ConnectAsync(cancellationToken);
        void Restored(object? sender, ConnectionFailedEventArgs e) => received.Writer.TryWrite(null);
        redis.ConnectionRestored += Restored;
        var subscriber = redis.GetSubscriber();
        await subscriber.SubscribeAsync(Channel, (_, value) =>
        {
            if (ClusterMessage.Decode(value.ToString()) is { } message && message.Node != self.Id)
            {
                received.Writer.TryWrite(message.ToChanges());
            }
        });
        try
        {
            await onGap();
            await foreach (var changes in received.Reader.ReadAllAsync(cancellationToken))
            {
                if (changes is null)
                {
                    logger.LogInformation("Connected to Redis again; changes sent meanwhile were missed, so caches are dropped");
                    await onGap();
                }
                else
                {
                    await onChanges(changes);
                }
            }
        }
        finally
        {
            redis.ConnectionRestored -= Restored;
            await subscriber.UnsubscribeAsync(Channel);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        _connecting.Dispose();
    }

    private async Task<ConnectionMultiplexer> ConnectAsync(CancellationToken cancellationToken)
    {
        if (_redis is { } connected)
        {
            return connected;
        }

        await _connecting.WaitAsync(cancellationToken);
        try
        {
            if (_redis is null)
            {
                var options = ConfigurationOptions.Parse(configuration);
                // Start even while Redis is down, and keep reconnecting in the background.
                options.AbortOnConnectFail = false;
                _redis = await ConnectionMultiplexer.ConnectAsync(options);
            }

            return _redis;
        }
        finally
        {
            _connecting.Release();
        }
    }
}
