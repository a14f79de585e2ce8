using IdentityHub.Data.Provisioning;

namespace IdentityHub.Provisioning.Connectors;

public sealed record PreviewHeader(string Name, string Value);

/// <summary>One request exactly as it would be sent: the kind's operation, method, URL, headers (a signature included; a static secret masked), body.</summary>
public sealed record PreviewRequest(string Operation, string Method, string Url, IReadOnlyList<PreviewHeader> Headers, string? Body);

/// <summary>
/// A dry run for one user: the version the next delivery would carry, what it asks of the target (<c>none</c> when there is
/// nothing to tell), and the requests in the order they would be sent.
/// </summary>
public sealed record ConnectorPreview(string UserId, long Version, string Action, IReadOnlyList<PreviewRequest> Requests)
{
    public const string NoAction = "none";
}

/// <summary>A kind's dry run: the requests a delivery of a user's state would send now, without sending anything or saving anything.</summary>
public interface IConnectorPreview
{
    ConnectorKind Kind { get; }

    /// <param name="secret">The unprotected secret, or null (a preview may sign with it; it never shows a static one).</param>
    /// <param name="state">The user's state with the version the next delivery would carry.</param>
    /// <param name="known">As <see cref="IConnectorClient.DeliverAsync"/> sees it: the last version, the downstream id, and this version's event.</param>
    Task<ConnectorPreview> PreviewAsync(Connector connector, string? secret, ProvisionedUser state, ConnectorUserState known, CancellationToken cancellationToken);
}
