namespace IdentityHub.Data.Inbound;

public enum InboundRunKind
{
    /// <summary>The SCIM requests of one source on one day (UTC), counted as they come.</summary>
    Push,

    /// <summary>A pull of what changed since the cursor.</summary>
    Increment,

    /// <summary>A full read of the source compared with IdentityHub: what the increments missed, reported, then applied.</summary>
    Reconciliation,

    /// <summary>A full read whose changes are reported and rolled back (the first import of a pull source).</summary>
    DryRun,
}

/// <summary>One run of a source (or one day of its pushes) with what it did, so the console shows health and counts.</summary>
public sealed class InboundRun
{
    public Guid Id { get; set; }

    public Guid SourceId { get; set; }

    public InboundRunKind Kind { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>Who asked: an administrator's name, "schedule" or the source itself for pushes.</summary>
    public required string RequestedBy { get; set; }

    public int Created { get; set; }

    public int Updated { get; set; }

    public int Left { get; set; }

    public int Skipped { get; set; }

    public int Conflicts { get; set; }

    public int Failed { get; set; }

    /// <summary>The last errors of the run as a JSON array of strings (at most a few dozen), or null.</summary>
    public string? Errors { get; set; }

    /// <summary>What the run found and would change (reconciliation and dry run) as JSON, or null.</summary>
    public string? Report { get; set; }

    /// <summary>Why the run stopped (the source could not be read), or null when it went through.</summary>
    public string? Failure { get; set; }
}

/// <summary>
/// A clash over an attribute a source owns: a local change the source will overwrite, a local change refused, or a
/// value the full reconciliation found different from the source. Listed in the source's conflict report.
/// </summary>
public sealed class InboundConflict
{
    public long Id { get; set; }

    public Guid SourceId { get; set; }

    public required string UserId { get; set; }

    public required string Attribute { get; set; }

    public string? LocalValue { get; set; }

    public string? SourceValue { get; set; }

    /// <summary>What happened: "overwritten", "refused", "drift".</summary>
    public required string Resolution { get; set; }

    /// <summary>Who made the local change (an administrator's display name), or null for drift.</summary>
    public string? ChangedBy { get; set; }

    public DateTimeOffset OccurredAt { get; set; }
}
