using IdentityHub.Provisioning.Monitoring;
using IdentityHub.Provisioning.Queries;

namespace IdentityHub.Server.Admin.Provisioning;

public sealed record ConnectorRow(Guid Id, string Name, string Kind, string ApplicationName, ConnectorStatus Status, Guid ApplicationId);

/// <summary>Every connector with its health, lag and queue counts.</summary>
public sealed class IndexModel(ConnectorQueries queries, ConnectorOperations operations) : ConsolePageModel
{
    public IReadOnlyList<ConnectorRow> Connectors { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var rows = new List<ConnectorRow>();
        foreach (var connector in await queries.AllAsync(cancellationToken))
        {
            rows.Add(new ConnectorRow(connector.Id, connector.Name, connector.KindName, connector.ApplicationName,
                await operations.StatusAsync(connector.Id, connector.Paused, cancellationToken), connector.ApplicationId));
        }

        Connectors = rows;
    }
}
