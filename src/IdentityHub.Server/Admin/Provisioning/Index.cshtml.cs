using IdentityHub.Data;
using IdentityHub.Provisioning.Monitoring;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Admin.Provisioning;

public sealed record ConnectorRow(Guid Id, string Name, string Kind, string ApplicationName, ConnectorStatus Status);

/// <summary>Every connector with its health, lag and queue counts.</summary>
public sealed class IndexModel(IdentityHubDbContext db, ConnectorOperations operations) : ConsolePageModel
{
    public IReadOnlyList<ConnectorRow> Connectors { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var connectors = await db.Connectors.AsNoTracking().Include(c => c.Application).OrderBy(c => c.Name).ToListAsync(cancellationToken);
        var rows = new List<ConnectorRow>();
        foreach (var connector in connectors.OrderBy(c => c.Application?.Name, StringComparer.CurrentCulture).ThenBy(c => c.Name, StringComparer.CurrentCulture))
        {
            rows.Add(new ConnectorRow(connector.Id, connector.Name, connector.Kind.ToString(), connector.Application?.Name ?? "", await operations.StatusAsync(connector, cancellationToken)));
        }

        Connectors = rows;
    }
}
