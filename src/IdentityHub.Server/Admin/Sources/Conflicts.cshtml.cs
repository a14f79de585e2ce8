using IdentityHub.Provisioning.Queries;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Sources;

/// <summary>A source's conflict report: every clash over an attribute it owns, newest first, a page at a time.</summary>
public sealed class ConflictsModel(InboundSourceQueries queries) : ConsolePageModel
{
    public const int PageSize = 50;

    public string SourceName { get; private set; } = "";

    public Guid SourceId { get; private set; }

    public IReadOnlyList<InboundConflictView> Conflicts { get; private set; } = [];

    public int PageNumber { get; private set; } = 1;

    public int Total { get; private set; }

    public bool HasNext => PageNumber * PageSize < Total;

    public async Task<IActionResult> OnGetAsync(Guid id, int? page, CancellationToken cancellationToken)
    {
        if (await queries.NameAsync(id, cancellationToken) is not { } name)
        {
            return NotFound();
        }

        SourceId = id;
        SourceName = name;
        PageNumber = Math.Max(1, page ?? 1);
        Total = await queries.CountConflictsAsync(id, cancellationToken);
        Conflicts = await queries.ConflictsAsync(id, (PageNumber - 1) * PageSize, PageSize, cancellationToken);
        return Page();
    }
}
