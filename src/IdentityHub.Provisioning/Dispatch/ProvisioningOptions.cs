namespace IdentityHub.Provisioning.Dispatch;

/// <summary>The dispatcher's settings (configuration section <c>Provisioning</c>, documented in appsettings.sample.json).</summary>
public sealed class ProvisioningOptions
{
    public const string Section = "Provisioning";

    /// <summary>Run the dispatcher on this node; every node may (rows are claimed), switch it off on nodes that only serve sign-ins.</summary>
    public bool DispatcherEnabled { get; set; } = true;

    /// <summary>How often to look for due rows when no commit in this process woke the dispatcher (other nodes, retries).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Deliveries in flight at once, across connectors and users; one user's deliveries are always one at a time.</summary>
    public int MaxParallelDeliveries { get; set; } = 8;

    /// <summary>Deliveries in flight at once for one connector, so a slow or hanging target cannot hold every slot.</summary>
    public int MaxParallelPerConnector { get; set; } = 4;

    /// <summary>(connector, user) pairs one connector may hold claimed on this node at most (in flight plus waiting for a slot).</summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>Failed attempts before a row goes to the dead letters; the defaults ride out hours of downstream outage.</summary>
    public int MaxAttempts { get; set; } = 30;

    /// <summary>Exponential backoff: attempt n waits a random time up to min(cap, base × 2^(n-1)) ("full jitter").</summary>
    public TimeSpan BackoffBase { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan BackoffCap { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>One HTTP attempt's limit; a slower answer counts as a failure and is retried later.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a claim holds rows; a crashed node's rows are free again after it. A delivery (all its HTTP calls)
    /// must end <see cref="AttemptTimeout"/> before its claim does, or it is cut short and retried.
    /// </summary>
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Names this node in ClaimedBy. Default: machine name and process id.</summary>
    public string? NodeName { get; set; }

    /// <summary>How long delivery attempts (the console's history and charts) and old reconciliation runs are kept.</summary>
    public TimeSpan HistoryRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Full sync of every SCIM connector this often; null or zero: only on demand.</summary>
    public TimeSpan? FullSyncInterval { get; set; }

    /// <summary>Drift check (read the SCIM target, compare, store the report) of every SCIM connector this often; null or zero: only on demand.</summary>
    public TimeSpan? DriftCheckInterval { get; set; }

    /// <summary>Resources asked for per page when a drift check lists a SCIM target (RFC 7644 §3.4.2.4 <c>count</c>).</summary>
    public int DriftCheckPageSize { get; set; } = 100;

    /// <summary>How often this node looks for due REST source increments and reconciliations; zero: this node runs none.</summary>
    public TimeSpan SourcePollInterval { get; set; } = TimeSpan.FromSeconds(30);

    internal string EffectiveNodeName => string.IsNullOrWhiteSpace(NodeName) ? $"{Environment.MachineName}:{Environment.ProcessId}" : NodeName;

    /// <summary>What is kept back from a claim to record a delivery's outcome: the delivery itself must end this long before the claim.</summary>
    internal TimeSpan ClaimMargin => AttemptTimeout;

    /// <summary>Problems with the settings, one sentence each (checked at start-up).</summary>
    public IEnumerable<string> Problems()
    {
        if (PollInterval <= TimeSpan.Zero)
        {
            yield return "Provisioning:PollInterval must be positive.";
        }

        if (MaxParallelDeliveries < 1 || MaxParallelPerConnector < 1 || BatchSize < 1 || MaxAttempts < 1)
        {
            yield return "Provisioning:MaxParallelDeliveries, MaxParallelPerConnector, BatchSize and MaxAttempts must be at least 1.";
        }

        if (BackoffBase <= TimeSpan.Zero || BackoffCap < BackoffBase)
        {
            yield return "Provisioning:BackoffBase must be positive and BackoffCap at least as long.";
        }

        if (AttemptTimeout <= TimeSpan.Zero || ClaimTimeout <= AttemptTimeout * 2)
        {
            yield return "Provisioning:AttemptTimeout must be positive and ClaimTimeout more than twice as long, so a claim outlives its delivery.";
        }

        if (HistoryRetention <= TimeSpan.Zero)
        {
            yield return "Provisioning:HistoryRetention must be positive.";
        }

        if (FullSyncInterval < TimeSpan.Zero || DriftCheckInterval < TimeSpan.Zero)
        {
            yield return "Provisioning:FullSyncInterval and DriftCheckInterval must be empty, zero (off) or positive.";
        }

        if (SourcePollInterval < TimeSpan.Zero)
        {
            yield return "Provisioning:SourcePollInterval must be zero (off) or positive.";
        }

        if (DriftCheckPageSize is < 1 or > 1000)
        {
            yield return "Provisioning:DriftCheckPageSize must be between 1 and 1000.";
        }
    }
}
