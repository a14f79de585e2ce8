using IdentityHub.Data.Provisioning;

namespace IdentityHub.Provisioning.Connectors;

/// <summary>A permission as a downstream system receives it: name, parameters, and the department subtree it applies to.</summary>
public sealed record ProvisionedPermission(string Name, IReadOnlyDictionary<string, string> Parameters, string? DepartmentCode, string? DepartmentName);

/// <summary>
/// A user's whole state for one application at send time (state-based delivery): repeated or coalesced
/// deliveries are harmless, and a receiver drops anything with a version lower than what it has.
/// <see cref="Exists"/> is false when the user is gone from IdentityHub (deleted) and must be removed downstream;
/// <see cref="Left"/> marks someone who left the company (kept in IdentityHub, removed downstream).
/// </summary>
public sealed record ProvisionedUser(
    string UserId,
    string UserName,
    string DisplayName,
    string? Email,
    string? PhoneNumber,
    string? EmployeeNumber,
    string? DepartmentCode,
    string? DepartmentName,
    string? ManagerUserId,
    string? ManagerEmployeeNumber,
    bool Active,
    bool Exists,
    IReadOnlyList<string> Roles,
    IReadOnlyList<ProvisionedPermission> Permissions,
    long Version)
{
    /// <summary>The user left the company: no longer active, and no connector should keep them.</summary>
    public bool Left { get; init; }

    /// <summary>Whether the user holds anything in the application (roles or permissions); suspended and departed users hold nothing.</summary>
    public bool HoldsAccess() => Roles.Count > 0 || Permissions.Count > 0;
}

/// <summary>What came of one delivery; the dispatcher turns it into done, retry later, or dead-letter.</summary>
public abstract record DeliveryOutcome
{
    private DeliveryOutcome()
    {
    }

    /// <summary>
    /// Accepted; <paramref name="ExternalId"/> is the user's id downstream when the connector learned it. <paramref name="Removed"/>:
    /// the user is no longer there (deleted, or found gone), so the id is forgotten and a later grant creates them afresh.
    /// </summary>
    public sealed record Delivered(string? ExternalId, bool Removed = false) : DeliveryOutcome;

    /// <summary>
    /// Nothing was sent, and nothing needed to be: the target does not know the user and should not (a webhook's
    /// <c>none</c> event), or has nothing of theirs to remove. Settles the rows like a delivery; recorded as such, never as one.
    /// </summary>
    public sealed record NothingToSend(string Reason) : DeliveryOutcome;

    /// <summary>A transient failure (5xx, 429, timeout, refused connection): retried with backoff, or after <paramref name="RetryAfter"/>.</summary>
    public sealed record Retry(string Error, int? StatusCode = null, TimeSpan? RetryAfter = null) : DeliveryOutcome;

    /// <summary>A failure retrying cannot fix (4xx other than 408/409/429): dead-lettered at once.</summary>
    public sealed record Permanent(string Error, int? StatusCode = null) : DeliveryOutcome;

    /// <summary>The target holds a newer version than this one: dropped, never retried, recorded in the history with <paramref name="Note"/>.</summary>
    public sealed record Stale(string Note, int? StatusCode = null) : DeliveryOutcome
    {
        /// <summary>How the history's error of a stale drop begins: such an attempt is recorded, but it is not a failure.</summary>
        public const string HistoryPrefix = "Stale version, dropped: ";
    }
}

/// <summary>A call to a target that did not succeed (drift checks, fixes), carried as the delivery outcome it maps to.</summary>
public class ConnectorCallException(DeliveryOutcome outcome) : Exception(outcome switch
{
    DeliveryOutcome.Retry retry => retry.Error,
    DeliveryOutcome.Permanent permanent => permanent.Error,
    DeliveryOutcome.Stale stale => stale.Note,
    _ => "The call to the connector's target failed.",
})
{
    public DeliveryOutcome Outcome { get; } = outcome;

    /// <summary>No answer at all (refused, timed out, DNS, an address the Outbound settings refuse): a connection test says only "could not be fetched".</summary>
    public bool Unreachable { get; init; }
}

/// <summary>Delivers a user's state to one kind of downstream system (SCIM, webhooks, vendor REST APIs).</summary>
public interface IConnectorClient
{
    ConnectorKind Kind { get; }

    /// <param name="connector">Its settings JSON is the connector kind's own.</param>
    /// <param name="secret">The unprotected secret (bearer token, client secret, signing secret), or null.</param>
    /// <param name="known">The last delivered version and the downstream id, as IdentityHub knows them.</param>
    Task<DeliveryOutcome> DeliverAsync(Connector connector, string? secret, ProvisionedUser state, ConnectorUserState known, CancellationToken cancellationToken);
}
