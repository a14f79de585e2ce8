using IdentityHub.Provisioning.Queries;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Sources;

/// <summary>A run's reconciliation or dry-run report (the latest one without <c>?run=</c>): its figures and its lists as tables.</summary>
public sealed class ReportModel(InboundSourceQueries queries) : ConsolePageModel
{
    public string SourceName { get; private set; } = "";

    public Guid SourceId { get; private set; }

    public SourceReport? Report { get; private set; }

    public async Task<IActionResult> OnGetAsync(Guid id, Guid? run, CancellationToken cancellationToken)
    {
        if (await queries.NameAsync(id, cancellationToken) is not { } name)
        {
            return NotFound();
        }

        SourceId = id;
        SourceName = name;
        Report = await queries.ReportAsync(id, run, cancellationToken);
        return run is not null && Report is null ? NotFound() : Page();
    }
}
