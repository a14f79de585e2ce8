namespace IdentityHub.Data.Provisioning;

public enum ReconciliationKind
{
    /// <summary>Downstream read and compared with IdentityHub; <see cref="ReconciliationRun.Report"/> holds the drift.</summary>
    Drift,

    /// <summary>Every user the application should know queued for delivery; progress counts their delivered rows.</summary>
    FullSync,
}

/// <summary>One drift check or full sync of a connector, kept so the console shows the latest report and a sync's progress.</summary>
public sealed class ReconciliationRun
{
    public Guid Id { get; set; }

    public Guid ConnectorId { get; set; }

    public ReconciliationKind Kind { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>Users compared (drift) or queued (full sync).</summary>
    public int Total { get; set; }

    /// <summary>Who asked: an administrator's name, or "schedule".</summary>
    public required string RequestedBy { get; set; }

    /// <summary>The drift report as JSON (drift runs only).</summary>
    public string? Report { get; set; }

    /// <summary>Why the run failed (the downstream system could not be read), or null.</summary>
    public string? Error { get; set; }
}
