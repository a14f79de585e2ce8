using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace IdentityHub.Core.Cluster;

/// <summary>How a node stops behind a load balancer (configuration section <c>Hosting</c>).</summary>
public sealed class ShutdownOptions
{
    public const string Section = "Hosting";

    /// <summary>Hosting:DrainDelay: after SIGTERM, how long readiness says 503 while the node still serves, before it stops accepting.</summary>
    public TimeSpan DrainDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Hosting:ShutdownTimeout: from SIGTERM, how long the drain, in-flight requests and deliveries may take in all.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>What is kept of the shutdown timeout, after work in flight is told to stop, to record its outcome: a quarter, at most 5 s.</summary>
    public TimeSpan RecordingMargin => ShutdownTimeout / 4 < TimeSpan.FromSeconds(5) ? ShutdownTimeout / 4 : TimeSpan.FromSeconds(5);
}

/// <summary>
/// This node's stop as the work on it sees it: first draining (readiness answers 503, the node still serves), then
/// background work claims nothing new while what is in flight finishes. <see cref="InFlightDeadline"/> cancels that work
/// only when the shutdown timeout is nearly spent, leaving <see cref="ShutdownOptions.RecordingMargin"/> to record outcomes
/// and give claims back, so a restart neither loses nor repeats a delivery that could finish.
/// </summary>
public sealed class NodeShutdown : IDisposable
{
    private readonly CancellationTokenSource _inFlight = new();
    private readonly CancellationTokenRegistration _onStopping;
    private volatile bool _draining;

    public NodeShutdown(IHostApplicationLifetime lifetime, IOptions<ShutdownOptions> options)
    {
        ArgumentNullException.ThrowIfNull(lifetime);
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Value;
        var allowed = settings.ShutdownTimeout - settings.RecordingMargin;
        // ApplicationStopping fires at SIGTERM, when the host's shutdown timeout starts counting.
        _onStopping = lifetime.ApplicationStopping.Register(() => _inFlight.CancelAfter(allowed > TimeSpan.Zero ? allowed : TimeSpan.Zero));
    }

    /// <summary>Readiness fails and responses close their connections: the balancer moves this node's traffic elsewhere.</summary>
    public bool IsDraining => _draining;

    /// <summary>Cancelled when work in flight at the stop must give up so that its outcome can still be recorded in time.</summary>
    public CancellationToken InFlightDeadline => _inFlight.Token;

    public void BeginDrain() => _draining = true;

    public void Dispose()
    {
        _onStopping.Dispose();
        _inFlight.Dispose();
    }
}
