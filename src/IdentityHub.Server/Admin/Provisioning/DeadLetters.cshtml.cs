using IdentityHub.Provisioning.Monitoring;
using IdentityHub.Provisioning.Queries;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Provisioning;

/// <summary>A connector's dead letters (rows that ran out of retries), replayable one by one or all at once.</summary>
public sealed class DeadLettersModel(ConnectorQueries queries, ConnectorOperations operations) : ConsolePageModel
{
    public const int PageSize = 50;

    public ConnectorView? Connector { get; private set; }

    public IReadOnlyList<DeadLetter> Rows { get; private set; } = [];

    public int Total { get; private set; }

    public int PageNumber { get; private set; } = 1;

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken, int page = 1) =>
        await LoadAsync(id, Math.Max(1, page), cancellationToken) ? Page() : NotFound();

    public Task<IActionResult> OnPostReplayAsync(Guid id, long rowId, CancellationToken cancellationToken) => ReplayAsync(id, rowId, cancellationToken);

    public Task<IActionResult> OnPostReplayAllAsync(Guid id, CancellationToken cancellationToken) => ReplayAsync(id, null, cancellationToken);

    private async Task<IActionResult> ReplayAsync(Guid id, long? rowId, CancellationToken cancellationToken)
    {
        if (!await queries.ExistsAsync(id, cancellationToken))
        {
            return NotFound();
        }

        var replayed = await operations.ReplayAsync(id, rowId, cancellationToken);
        var text = HttpContext.RequestServices.GetRequiredService<Hosting.ThemeMessages>()["admin.provisioning.replayed", replayed].Value;
        return Done(text, $"/admin/provisioning/{id}/dead-letters");
    }

    private async Task<bool> LoadAsync(Guid id, int page, CancellationToken cancellationToken)
    {
        Connector = await queries.GetAsync(id, cancellationToken);
        if (Connector is null)
        {
            return false;
        }

        PageNumber = page;
        Total = await operations.CountDeadLettersAsync(id, cancellationToken);
        Rows = await operations.DeadLettersAsync(id, (page - 1) * PageSize, PageSize, cancellationToken);
        return true;
    }
}
