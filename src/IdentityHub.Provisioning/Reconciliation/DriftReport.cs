namespace IdentityHub.Provisioning.Reconciliation;

/// <summary>
/// One user out of line: <see cref="UserId"/> is IdentityHub's (null for a downstream user IdentityHub does not
/// know), <see cref="ScimId"/> the downstream id (null when missing there), <see cref="Fields"/> the SCIM
/// attributes that differ.
/// </summary>
public sealed record DriftItem(string? UserId, string UserName, string? ScimId, IReadOnlyList<string> Fields, string? Note);

/// <summary>
/// What differs between IdentityHub and one connector's target: <see cref="Missing"/> (ours, not there), <see cref="Extra"/>
/// (there, but not ours or not supposed to be), <see cref="Different"/> (both, attributes differ). The counts are the
/// whole drift; a stored report keeps only the first items of each list (<see cref="Bounded"/>).
/// </summary>
public sealed record DriftReport(
    Guid ConnectorId,
    DateTimeOffset CheckedAt,
    int Compared,
    int Downstream,
    IReadOnlyList<DriftItem> Missing,
    IReadOnlyList<DriftItem> Extra,
    IReadOnlyList<DriftItem> Different)
{
    public int MissingCount { get; init; } = Missing.Count;

    public int ExtraCount { get; init; } = Extra.Count;

    public int DifferentCount { get; init; } = Different.Count;

    /// <summary>Why the target could not be compared at all (its kind has nothing to list), or null for a real report.</summary>
    public string? Unavailable { get; init; }

    public bool InSync => Unavailable is null && MissingCount == 0 && ExtraCount == 0 && DifferentCount == 0;

    /// <summary>The report of a connector whose target cannot be listed: empty, not in sync, and saying why.</summary>
    public static DriftReport NotAvailable(Guid connectorId, DateTimeOffset checkedAt, string reason) =>
        new(connectorId, checkedAt, 0, 0, [], [], []) { Unavailable = reason };

    /// <summary>Some items were left out of the lists (the counts still tell the whole drift).</summary>
    public bool Truncated => Missing.Count < MissingCount || Extra.Count < ExtraCount || Different.Count < DifferentCount;

    /// <summary>The same report with at most <paramref name="items"/> items per list, the counts kept: what is stored.</summary>
    public DriftReport Bounded(int items) => this with { Missing = [.. Missing.Take(items)], Extra = [.. Extra.Take(items)], Different = [.. Different.Take(items)] };
}

/// <summary>
/// The latest drift check of a connector for the console: the last stored report (null before the first), the last
/// failed check when it is newer than that report, and when the schedule runs next (null: no schedule).
/// </summary>
public sealed record DriftStatus(DriftReport? Report, string? RequestedBy, DateTimeOffset? FailedAt, string? Error, DateTimeOffset? NextCheckAt);

/// <summary>What a fix did: rows queued for IdentityHub's users, and extras removed downstream (when the connector allows it).</summary>
public sealed record DriftFix(int Queued, int ExtrasRemoved, int ExtrasKept);

/// <summary>A full sync's progress: rows queued, how many are done (delivered, or dead), how many of those failed.</summary>
public sealed record FullSyncProgress(Guid RunId, Guid ConnectorId, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, int Total, int Processed, int Failed, string RequestedBy)
{
    public bool Done => FinishedAt is not null;

    public int Percent => Total == 0 ? 100 : (int)(100L * Processed / Total);
}
