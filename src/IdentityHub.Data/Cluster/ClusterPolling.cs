namespace IdentityHub.Data.Cluster;

/// <summary>How often a node polls the <see cref="ClusterSignal"/> table for other nodes' changes (<c>Cluster:PollInterval</c>).</summary>
public sealed class ClusterPolling
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(1);

    public TimeSpan Interval { get; set; } = DefaultInterval;
}
