namespace IdentityHub.Core.Changes;

/// <summary>One connector and one user it hears of.</summary>
public readonly record struct ConnectorUser(Guid ConnectorId, string UserId);

/// <summary>
/// Which users a connector hears of. The rule belongs to the connectors (it depends on a connector's own settings, which
/// Core does not read), so Provisioning implements it; Core asks it when a change must reach the connectors of users in scope.
/// </summary>
public interface IConnectorAudience
{
    /// <summary>
    /// The (connector, user) pairs among <paramref name="userIds"/> that each connector (of <paramref name="applicationIds"/>,
    /// or of every application when null) hears of.
    /// </summary>
    Task<IReadOnlyList<ConnectorUser>> InScopeAsync(IReadOnlyCollection<string> userIds, IReadOnlyCollection<Guid>? applicationIds, CancellationToken cancellationToken);
}
