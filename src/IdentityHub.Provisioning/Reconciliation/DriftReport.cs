namespace IdentityHub.Provisioning.Reconciliation;

/// <summary>
/// One user out of line: <see cref="UserId"/> is IdentityHub's (null for a downstream user IdentityHub does not
/// know), <see cref="ScimId"/> the downstream id (null when missing there), <see cref="Fields"/> the SCIM
/// attributes that differ.
/// </summary>
public sealed record DriftItem(string? UserId, string UserName, string? ScimId, IReadOnlyList<string> Fields, string? Note);

/// <summary>
/// What differs between IdentityHub and one SCIM target: <see cref="Missing"/> (ours, not there), <see cref="Extra"/>
/// (there, but not ours or not supposed to be), <see cref="Different"/> (both, attributes differ).
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
    public bool InSync => Missing.Count == 0 && Extra.Count == 0 && Different.Count == 0;
}

/// <summary>What a fix did: rows queued for IdentityHub's users, and extras removed downstream (when the connector allows it).</summary>
public sealed record DriftFix(int Queued, int ExtrasRemoved, int ExtrasKept);

/// <summary>A full sync's progress: rows queued, how many are done (delivered, or dead), how many of those failed.</summary>
public sealed record FullSyncProgress(Guid RunId, Guid ConnectorId, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, int Total, int Processed, int Failed, string RequestedBy)
{
    public bool Done => FinishedAt is not null;

    public int Percent => Total == 0 ? 100 : (int)(100L * Processed / Total);
}
