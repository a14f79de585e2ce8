namespace IdentityHub.Data.Audit;

/// <summary>
/// One admin change or security event. Each row carries the hash of the previous one, so a row changed
/// or removed afterwards breaks the chain at that point.
/// </summary>
public sealed class AuditEvent
{
    public long Sequence { get; set; }

    public DateTimeOffset OccurredAt { get; set; }

    /// <summary><c>user.created</c>, <c>assignment.expired</c>, <c>signin.failed</c>...</summary>
    public required string Type { get; set; }

    public required string ActorId { get; set; }

    public required string ActorName { get; set; }

    public string? TargetType { get; set; }

    public string? TargetId { get; set; }

    /// <summary>JSON of the target before the change (null for creations and events).</summary>
    public string? Before { get; set; }

    public string? After { get; set; }

    public string? IpAddress { get; set; }

    public string? UserAgent { get; set; }

    public string? CorrelationId { get; set; }

    public required string PreviousHash { get; set; }

    public required string Hash { get; set; }
}

/// <summary>The single row that holds the end of the audit chain; updating it first serializes writers on every provider.</summary>
public sealed class AuditChainHead
{
    public const int SingletonId = 1;

    /// <summary>The hash the first event chains to.</summary>
    public const string GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

    public int Id { get; set; }

    public long Sequence { get; set; }

    public required string Hash { get; set; }
}
