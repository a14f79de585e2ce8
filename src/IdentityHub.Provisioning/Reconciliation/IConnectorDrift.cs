using IdentityHub.Data.Provisioning;

namespace IdentityHub.Provisioning.Reconciliation;

/// <summary>
/// A kind whose target can be listed (SCIM's <c>/Users</c>, a REST list operation): a drift check reads it and compares
/// it with the state IdentityHub would send now. Kinds without one (webhooks: a receiver cannot be read back) get none.
/// </summary>
public interface IConnectorDrift
{
    ConnectorKind Kind { get; }

    /// <summary>
    /// Reads the target and compares. <paramref name="audience"/> are the users the connector hears of (its expected
    /// content); downstream users that are IdentityHub's but outside it are reported as extras of ours.
    /// A target that cannot be read throws <see cref="Connectors.ConnectorCallException"/>.
    /// </summary>
    Task<DriftReport> CheckAsync(Connector connector, IReadOnlyCollection<string> audience, CancellationToken cancellationToken);

    /// <summary>Whether <see cref="RemoveExtrasAsync"/> removes anything for this connector (what a "fix" confirmation says it will do).</summary>
    bool RemovesExtras(Connector connector);

    /// <summary>Removes (or deactivates) downstream users IdentityHub does not know, when the connector's settings allow it; returns how many.</summary>
    Task<int> RemoveExtrasAsync(Connector connector, IReadOnlyList<DriftItem> extras, CancellationToken cancellationToken);
}
