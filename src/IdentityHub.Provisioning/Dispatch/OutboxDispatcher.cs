using System.Threading.Channels;
using IdentityHub.Core.Changes;
using IdentityHub.Core.Cluster;
using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Monitoring;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace IdentityHub.Provisioning.Dispatch;

/// <summary>
/// The provisioning dispatcher: wakes when a transaction in this process commits, when a delivery ends, or every poll
/// interval (other nodes' changes, retries); claims due rows per (connector, user) and delivers them. Connectors are
/// independent: each has its own lane with at most <see cref="ProvisioningOptions.MaxParallelPerConnector"/> deliveries
/// in flight and its own share of every claim, slots are handed out round-robin, and there is no batch barrier, so a
/// hanging target delays only its own users. A slot delivers a few of its lane's users one after another (as many as its
/// pace lets it finish well within a claim), sharing their database work (<see cref="PairDelivery"/>). One user's
/// deliveries are one at a time; rows are deleted only after success, so a crash loses nothing. On stop it claims nothing new and lets deliveries in flight finish and record their
/// outcome until <see cref="NodeShutdown.InFlightDeadline"/>, so a restart neither loses nor repeats them.
/// </summary>
public sealed class OutboxDispatcher(
    IServiceScopeFactory scopes, OutboxSignal signal, IOptions<ProvisioningOptions> options, ProvisioningMetrics metrics, TimeProvider clock,
    NodeShutdown shutdown, ILogger<OutboxDispatcher> logger) : BackgroundService
{
    private static readonly TimeSpan QueueGaugeRefresh = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan PruneEvery = TimeSpan.FromHours(1);
    private static readonly TimeSpan MaxClaimSpacing = TimeSpan.FromMilliseconds(100);

    private readonly Dictionary<Guid, Lane> _lanes = [];
    private readonly Channel<Finished> _finished = Channel.CreateUnbounded<Finished>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<Task> _running = [];
    private int _inFlight;
    private int _rotation;
    private DateTimeOffset _queueGaugeAt = DateTimeOffset.MinValue;
    private DateTimeOffset _prunedAt = DateTimeOffset.MinValue;
    private DateTimeOffset _claimedAllAt = DateTimeOffset.MinValue;

    private enum Wake
    {
        Signal,
        Poll,
        Finished,
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.DispatcherEnabled)
        {
            logger.LogInformation("The provisioning dispatcher is switched off on this node (Provisioning:DispatcherEnabled).");
            return;
        }

        await Task.Yield();
        // Every delivery's own commit wakes the dispatcher too: claims of every connector are spaced, so a busy node does
        // not claim one pair per delivery; a commit still gets its claim within ClaimSpacing.
        var spacing = settings.PollInterval < MaxClaimSpacing ? settings.PollInterval : MaxClaimSpacing;
        var claimWanted = true;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var sinceClaimAll = clock.GetUtcNow() - _claimedAllAt;
                // Every poll interval at the latest all connectors are asked again, however busy the lanes keep the loop.
                var claimAll = (claimWanted && sinceClaimAll >= spacing) || sinceClaimAll >= settings.PollInterval;
                try
                {
                    await RoundAsync(settings, claimAll, stoppingToken);
                    claimWanted &= !claimAll;
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The database is unreachable or busy, or a bug: nothing was lost (rows stay), and a dispatcher that
                    // threw would stop the whole host (BackgroundServiceExceptionBehavior.StopHost). Try again at the next poll.
                    claimWanted = false;
                    logger.LogWarning(ex, "The provisioning dispatcher could not claim or record deliveries; retrying at the next poll.");
                }

                try
                {
                    var untilSpaced = _claimedAllAt + spacing - clock.GetUtcNow();
                    var wait = claimWanted ? (untilSpaced > TimeSpan.Zero ? untilSpaced : TimeSpan.Zero) : settings.PollInterval;
                    claimWanted |= await WaitAsync(wait, stoppingToken) != Wake.Finished;
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
            }
        }
        finally
        {
            await StopDeliveringAsync();
        }
    }

    /// <summary>Takes in ended deliveries, claims what the lanes have room for, starts deliveries, and does the periodic chores.</summary>
    private async Task RoundAsync(ProvisioningOptions settings, bool claimAll, CancellationToken stoppingToken)
    {
        TakeFinished();
        var active = Math.Max(1, _lanes.Values.Count(l => l.Claimed > 0));
        if (claimAll || _lanes.Values.Any(l => l.Hungry(settings, active, reset: false)))
        {
            await ClaimAsync(settings, claimAll, active, stoppingToken);
        }

        StartDeliveries(settings);
        if (claimAll)
        {
            await RefreshQueueGaugeAsync(stoppingToken);
            await PruneHistoryAsync(settings, stoppingToken);
        }
    }

    /// <summary>One claim for every connector: each gets the room its lane has (a fair share), none can crowd out another.</summary>
    private async Task ClaimAsync(ProvisioningOptions settings, bool reset, int active, CancellationToken stoppingToken)
    {
        if (reset)
        {
            _claimedAllAt = clock.GetUtcNow();
        }

        // A lane is topped up only once its waiting pairs run low, so claims come in batches, not one pair per delivery.
        var room = _lanes.ToDictionary(l => l.Key, l => l.Value.Hungry(settings, active, reset) ? l.Value.Room(settings, active) : 0);
        var newcomer = Lane.InitialClaim(settings);
        IReadOnlyList<ClaimedPair> pairs;
        await using (var scope = scopes.CreateAsyncScope())
        {
            pairs = await scope.ServiceProvider.GetRequiredService<OutboxClaims>()
                .ClaimAsync(settings.EffectiveNodeName, room, newcomer, settings.ClaimTimeout, stoppingToken);
        }

        foreach (var (connectorId, asked) in room.Where(r => r.Value > 0))
        {
            // A connector that gave fewer pairs than asked has nothing more due right now; a commit or the poll asks again.
            _lanes[connectorId].Exhausted = pairs.Count(p => p.ConnectorId == connectorId) < asked;
        }

        foreach (var pair in pairs)
        {
            if (!_lanes.TryGetValue(pair.ConnectorId, out var lane))
            {
                _lanes[pair.ConnectorId] = lane = new Lane();
            }

            lane.Waiting.Enqueue(pair);
        }
    }

    /// <summary>Hands free slots to the lanes in turn (round-robin, starting one further each time), within each lane's own limit.</summary>
    private void StartDeliveries(ProvisioningOptions settings)
    {
        var lanes = _lanes.Values.Where(l => l.Waiting.Count > 0).ToList();
        if (lanes.Count == 0)
        {
            return;
        }

        _rotation = (_rotation + 1) % lanes.Count;
        var started = true;
        while (started && _inFlight < settings.MaxParallelDeliveries)
        {
            started = false;
            for (var i = 0; i < lanes.Count && _inFlight < settings.MaxParallelDeliveries; i++)
            {
                var lane = lanes[(i + _rotation) % lanes.Count];
                if (lane.Waiting.Count > 0 && lane.InFlight < settings.MaxParallelPerConnector)
                {
                    Start(lane, lane.TakeBatch(settings));
                    started = true;
                }
            }
        }
    }

    /// <summary>
    /// A delivery is not cancelled by the stopping token: a call cut off after the target took it would be sent again with
    /// the same version on the next node. It gives up only when the shutdown timeout is nearly spent.
    /// </summary>
    private void Start(Lane lane, List<ClaimedPair> batch)
    {
        lane.InFlight++;
        lane.InFlightPairs += batch.Count;
        _inFlight++;
        var deadline = shutdown.InFlightDeadline;
        _running.Add(Task.Run(() => DeliverAsync(batch, deadline), CancellationToken.None));
    }

    private async Task DeliverAsync(List<ClaimedPair> batch, CancellationToken deadline)
    {
        var took = TimeSpan.Zero;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var attempted = (await scope.ServiceProvider.GetRequiredService<PairDelivery>().DeliverAsync(batch, deadline)).Where(r => r.Attempted).ToList();
            took = attempted.Count > 0 ? attempted.Aggregate(TimeSpan.Zero, (sum, r) => sum + r.Duration) / attempted.Count : TimeSpan.Zero;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            // The shutdown timeout is nearly spent: give the pairs back now rather than when the claims lapse, so a restart
            // resumes at once. A delivery cut off mid-flight is sent again with the same version: a harmless duplicate.
            foreach (var pair in batch)
            {
                await ReleaseAsync(pair);
            }
        }
        catch (Exception ex)
        {
            // One batch's failure must not stop the others; its rows come back when the claims lapse.
            logger.LogError(ex, "Delivering {Count} user(s) to connector {ConnectorId} failed unexpectedly (first user {UserId}).", batch.Count, batch[0].ConnectorId, batch[0].UserId);
        }
        finally
        {
            _finished.Writer.TryWrite(new Finished(batch[0].ConnectorId, batch.Count, took));
        }
    }

    private void TakeFinished()
    {
        while (_finished.Reader.TryRead(out var done))
        {
            _inFlight--;
            if (_lanes.TryGetValue(done.ConnectorId, out var lane))
            {
                lane.InFlight--;
                lane.InFlightPairs -= done.Pairs;
                lane.Observe(done.Took);
            }
        }

        _running.RemoveAll(t => t.IsCompleted);
        foreach (var idle in _lanes.Where(l => l.Value.Claimed == 0 && l.Value.Exhausted).Select(l => l.Key).ToList())
        {
            _lanes.Remove(idle);
        }
    }

    /// <summary>Waits for a commit in this process, a delivery's end, or the timeout, whichever comes first.</summary>
    private async Task<Wake> WaitAsync(TimeSpan timeout, CancellationToken stoppingToken)
    {
        if (_finished.Reader.TryPeek(out _))
        {
            return Wake.Finished;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var signalled = signal.WaitAsync(timeout, stop.Token);
        var finished = _finished.Reader.WaitToReadAsync(stop.Token).AsTask();
        await Task.WhenAny(signalled, finished);
        await stop.CancelAsync();
        try
        {
            // A commit's wake-up taken just as a delivery ended still counts: its rows must be claimed now, not at the next poll.
            if (await signalled)
            {
                return Wake.Signal;
            }
        }
        catch (OperationCanceledException)
        {
        }

        try
        {
            await finished;
        }
        catch (OperationCanceledException)
        {
        }

        stoppingToken.ThrowIfCancellationRequested();
        return _finished.Reader.TryPeek(out _) ? Wake.Finished : Wake.Poll;
    }

    /// <summary>On shutdown: lets deliveries in flight end and record their outcome, and gives back the pairs still waiting.</summary>
    private async Task StopDeliveringAsync()
    {
        if (_running.Count > 0)
        {
            logger.LogInformation("Stopping: waiting for {Count} delivery(ies) in flight to finish and record their outcome.", _running.Count(t => !t.IsCompleted));
        }

        await Task.WhenAll(_running);
        foreach (var pair in _lanes.Values.SelectMany(l => l.Waiting))
        {
            await ReleaseAsync(pair);
        }

        _lanes.Clear();
    }

    private async Task ReleaseAsync(ClaimedPair pair)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<OutboxClaims>().ReleaseAsync(pair, CancellationToken.None);
        }
        catch (Exception ex)
        {
            // The claim then lapses by itself; nothing is lost.
            logger.LogWarning(ex, "Could not give back the claim on user {UserId} at connector {ConnectorId}.", pair.UserId, pair.ConnectorId);
        }
    }

    private async Task RefreshQueueGaugeAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (now - _queueGaugeAt < QueueGaugeRefresh)
        {
            return;
        }

        _queueGaugeAt = now;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var counts = await db.Outbox.Where(o => o.Status == OutboxStatus.Pending || o.Status == OutboxStatus.Dead)
            .GroupBy(o => new { o.ConnectorId, o.Status })
            .Select(g => new { g.Key.ConnectorId, g.Key.Status, Rows = g.LongCount() })
            .ToListAsync(cancellationToken);
        var connectors = await db.Connectors.AsNoTracking().Select(c => new { c.Id, c.Name, c.Kind }).ToListAsync(cancellationToken);
        long Count(Guid connectorId, OutboxStatus status) => counts.Where(c => c.ConnectorId == connectorId && c.Status == status).Sum(c => c.Rows);
        metrics.SetQueue([.. connectors.Select(c => new ConnectorBacklog(c.Name, c.Kind.ToString(), Count(c.Id, OutboxStatus.Pending), Count(c.Id, OutboxStatus.Dead)))]);
    }

    /// <summary>Every hour (sooner for a short retention), removes history older than Provisioning:HistoryRetention.</summary>
    private async Task PruneHistoryAsync(ProvisioningOptions settings, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var every = settings.HistoryRetention / 10 < PruneEvery ? settings.HistoryRetention / 10 : PruneEvery;
        if (now - _prunedAt < every)
        {
            return;
        }

        _prunedAt = now;
        await using var scope = scopes.CreateAsyncScope();
        var pruned = await scope.ServiceProvider.GetRequiredService<DeliveryHistory>().PruneAsync(now - settings.HistoryRetention, cancellationToken);
        if (pruned.Attempts + pruned.Runs > 0)
        {
            logger.LogInformation("Pruned {Attempts} delivery attempt(s) and {Runs} reconciliation run(s) older than {Retention}.", pruned.Attempts, pruned.Runs, settings.HistoryRetention);
        }
    }

    /// <summary>A slot's deliveries ended: how many pairs it held, and how long one attempt took on average.</summary>
    private sealed record Finished(Guid ConnectorId, int Pairs, TimeSpan Took);

    /// <summary>One connector's share of this dispatcher: claimed pairs waiting for a slot, deliveries in flight, and its pace.</summary>
    private sealed class Lane
    {
        /// <summary>The most users one slot delivers in a row: enough to share the database work, few enough to keep slots busy.</summary>
        private const int MaxBatch = 16;

        private double _secondsPerDelivery = -1;

        public Queue<ClaimedPair> Waiting { get; } = new();

        /// <summary>Slots in use (deliveries in flight, each of one or more pairs).</summary>
        public int InFlight { get; set; }

        /// <summary>Pairs in flight across the slots.</summary>
        public int InFlightPairs { get; set; }

        /// <summary>The last claim gave fewer pairs than asked: nothing more is due until a commit or the poll says otherwise.</summary>
        public bool Exhausted { get; set; }

        public int Claimed => Waiting.Count + InFlightPairs;

        /// <summary>A first claim for a connector whose pace is not known yet: enough to fill its slots twice.</summary>
        public static int InitialClaim(ProvisioningOptions settings) => Math.Min(settings.BatchSize, 2 * settings.MaxParallelPerConnector);

        /// <summary>
        /// Fewer pairs waiting than it has slots, and perhaps more due (<paramref name="reset"/>: a commit or the poll may
        /// have made more due): claim again now instead of at the next poll.
        /// </summary>
        public bool Hungry(ProvisioningOptions settings, int activeLanes, bool reset) =>
            (reset || !Exhausted) && Waiting.Count < settings.MaxParallelPerConnector && Room(settings, activeLanes) > 0;

        /// <summary>
        /// How many more pairs to claim: what its deliveries can start well within a claim (half of ClaimTimeout) at the
        /// pace seen so far, at most BatchSize; a slow target gets few, so claims do not lapse while they wait for a slot.
        /// </summary>
        public int Room(ProvisioningOptions settings, int activeLanes)
        {
            var ahead = InitialClaim(settings);
            if (_secondsPerDelivery > 0)
            {
                var slots = Math.Max(1, Math.Min(settings.MaxParallelPerConnector, settings.MaxParallelDeliveries / activeLanes));
                var pace = slots * settings.ClaimTimeout.TotalSeconds / 2 / _secondsPerDelivery;
                ahead = (int)Math.Clamp(pace, settings.MaxParallelPerConnector, settings.BatchSize);
            }

            return Math.Max(0, ahead - Claimed);
        }

        /// <summary>
        /// The next pairs for one slot, oldest first: the waiting pairs shared among the free slots, at most what the pace
        /// seen so far delivers in a quarter of a claim (one while the pace is unknown), one pair per user.
        /// </summary>
        public List<ClaimedPair> TakeBatch(ProvisioningOptions settings)
        {
            var freeSlots = Math.Max(1, settings.MaxParallelPerConnector - InFlight);
            var withinClaim = _secondsPerDelivery > 0 ? (int)Math.Min(MaxBatch, settings.ClaimTimeout.TotalSeconds / 4 / _secondsPerDelivery) : 1;
            var size = Math.Clamp((Waiting.Count + freeSlots - 1) / freeSlots, 1, Math.Max(1, withinClaim));
            var batch = new List<ClaimedPair> { Waiting.Dequeue() };
            // Two claims of one user (the first lapsed while waiting) go in separate deliveries, in order.
            while (batch.Count < size && Waiting.TryPeek(out var next) && batch.TrueForAll(p => p.UserId != next.UserId))
            {
                batch.Add(Waiting.Dequeue());
            }

            return batch;
        }

        /// <summary>Moving average of how long this connector's deliveries take (attempts that reached the connector).</summary>
        public void Observe(TimeSpan took)
        {
            if (took <= TimeSpan.Zero)
            {
                return;
            }

            var seconds = took.TotalSeconds;
            _secondsPerDelivery = _secondsPerDelivery < 0 ? seconds : (0.8 * _secondsPerDelivery) + (0.2 * seconds);
        }
    }
}
