using IdentityHub.Data.Provisioning;

namespace IdentityHub.Provisioning.Reconciliation;

/// <summary>
/// A kind's own part of a full sync, run before the users are queued: what the per-user deliveries cannot do (a REST
/// vendor's departments deleted in IdentityHub, which no user's delivery names any more).
/// </summary>
public interface IFullSyncStep
{
    ConnectorKind Kind { get; }

    /// <summary>Does the step; a call that fails is reported in the result, not thrown, so the users are queued all the same.</summary>
    /// <returns>What it did, as fields (camelCase names) added to the full sync's audit record.</returns>
    Task<IReadOnlyDictionary<string, object?>> RunAsync(Connector connector, CancellationToken cancellationToken);
}
