namespace IdentityHub.Provisioning.Dispatch;

/// <summary>The dispatcher's settings (configuration section <c>Provisioning</c>, documented in appsettings.sample.json).</summary>
public sealed class ProvisioningOptions
{
    public const string Section = "Provisioning";

    /// <summary>Run the dispatcher on this node; every node may (rows are claimed), switch it off on nodes that only serve sign-ins.</summary>
    public bool DispatcherEnabled { get; set; } = true;

    /// <summary>How often to look for due rows when no commit in this process woke the dispatcher (other nodes, retries).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Deliveries in flight at once, across users; one user's deliveries are always one at a time.</summary>
    public int MaxParallelDeliveries { get; set; } = 8;

    /// <summary>(connector, user) pairs claimed per round.</summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>Failed attempts before a row goes to the dead letters.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Exponential backoff: attempt n waits a random time up to min(cap, base × 2^(n-1)) ("full jitter").</summary>
    public TimeSpan BackoffBase { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan BackoffCap { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>One HTTP attempt's limit; a slower answer counts as a failure and is retried later.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a claim holds rows; a crashed node's rows are free again after it. Must exceed <see cref="AttemptTimeout"/>.</summary>
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Names this node in ClaimedBy. Default: machine name and process id.</summary>
    public string? NodeName { get; set; }

    internal string EffectiveNodeName => string.IsNullOrWhiteSpace(NodeName) ? $"{Environment.MachineName}:{Environment.ProcessId}" : NodeName;

    /// <summary>Problems with the settings, one sentence each (checked at start-up).</summary>
    public IEnumerable<string> Problems()
    {
        if (PollInterval <= TimeSpan.Zero)
        {
            yield return "Provisioning:PollInterval must be positive.";
        }

        if (MaxParallelDeliveries < 1 || BatchSize < 1 || MaxAttempts < 1)
        {
            yield return "Provisioning:MaxParallelDeliveries, BatchSize and MaxAttempts must be at least 1.";
        }

        if (BackoffBase <= TimeSpan.Zero || BackoffCap < BackoffBase)
        {
            yield return "Provisioning:BackoffBase must be positive and BackoffCap at least as long.";
        }

        if (AttemptTimeout <= TimeSpan.Zero || ClaimTimeout <= AttemptTimeout * 2)
        {
            yield return "Provisioning:AttemptTimeout must be positive and ClaimTimeout more than twice as long, so a claim outlives its delivery.";
        }
    }
}
