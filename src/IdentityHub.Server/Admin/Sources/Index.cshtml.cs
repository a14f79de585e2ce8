using IdentityHub.Provisioning.Queries;

namespace IdentityHub.Server.Admin.Sources;

/// <summary>The inbound sources with their health, their latest run's counts and what they own.</summary>
public sealed class IndexModel(InboundSourceQueries queries) : ConsolePageModel
{
    public IReadOnlyList<InboundSourceRow> Sources { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) => Sources = await queries.ListAsync(cancellationToken);
}
