namespace IdentityHub.Data.Provisioning;

public enum OutboxStatus
{
    /// <summary>Waiting for its due time or being delivered.</summary>
    Pending,

    /// <summary>Gave up after the retry limit; shown in the console, replayable.</summary>
    Dead,
}

/// <summary>
/// "This user's state changed for this connector": written in the transaction of the change itself, so
/// nothing is lost; delivered later by the dispatcher, which sends the user's state as it is at send time.
/// Delivered rows are removed (their history is in <see cref="DeliveryAttempt"/>).
/// </summary>
public sealed class OutboxEntry
{
    public long Id { get; set; }

    public Guid ConnectorId { get; set; }

    public required string UserId { get; set; }

    /// <summary>The change that queued it (<c>assignment.granted</c>, <c>department.moved</c>...), for the console.</summary>
    public required string Change { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Not before this instant (retry backoff, Retry-After, or an assignment that starts later).</summary>
    public DateTimeOffset DueAt { get; set; }

    public int Attempts { get; set; }

    public OutboxStatus Status { get; set; }

    /// <summary>The dispatcher that claimed the row and until when; an expired claim is free again (a crashed node).</summary>
    public string? ClaimedBy { get; set; }

    public DateTimeOffset? ClaimedUntil { get; set; }

    public string? LastError { get; set; }
}

/// <summary>What IdentityHub knows of one user at one connector: the version only grows, the downstream id once found.</summary>
public sealed class ConnectorUserState
{
    public Guid ConnectorId { get; set; }

    public required string UserId { get; set; }

    /// <summary>
    /// The version of the last delivered state; each delivery sends a larger one. A concurrency token: two senders
    /// that read the same version can never both save the next one for different states.
    /// </summary>
    public long Version { get; set; }

    /// <summary>The user's id in the downstream system (SCIM <c>id</c>).</summary>
    public string? ExternalId { get; set; }

    public DateTimeOffset? LastDeliveredAt { get; set; }

    /// <summary>
    /// What was sent as <see cref="Version"/>: "{event}:{access hash}.{profile hash}". The same state again (a retry,
    /// a duplicate) keeps the version, a different one takes the next, so one version never names two states.
    /// </summary>
    public string? SentState { get; set; }

    /// <summary>
    /// The <see cref="SentState"/> of the last version the target accepted (or that needed nothing sent): what the receiver
    /// knows. The next version's event is reckoned from it, so a version that never arrived does not shape the next event
    /// (a first delivery that failed is still followed by <c>user.created</c>). Null: the target never accepted anything.
    /// </summary>
    public string? DeliveredState { get; set; }

    /// <summary>The event after which the receiver no longer knows the user: told they left (ProvisioningEvents.UserDeleted).</summary>
    public const string DeletedEvent = "user.deleted";

    /// <summary>The event of a state the receiver was never told of: outside its scope (ProvisioningEvents.None).</summary>
    public const string NoneEvent = "none";
}

/// <summary>One delivery attempt, kept for the console's history, charts and error list.</summary>
public sealed class DeliveryAttempt
{
    public long Id { get; set; }

    public Guid ConnectorId { get; set; }

    public required string UserId { get; set; }

    public long Version { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary>The target accepted what this delivery sent; false for a failure, and for a delivery that had nothing to send.</summary>
    public bool Succeeded { get; set; }

    /// <summary>The delivery settled its rows without sending anything (the target does not know the user and should not); <see cref="Error"/> says why.</summary>
    public bool NothingSent { get; set; }

    public int? StatusCode { get; set; }

    public string? Error { get; set; }

    public int DurationMilliseconds { get; set; }
}
