using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Connectors.Scim;
using IdentityHub.Provisioning.Monitoring;
using IdentityHub.Provisioning.Reconciliation;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Admin.Provisioning;

/// <summary>One connector: health, lag, counts, last errors, deliveries over time; pause/resume, full sync with its progress, the latest drift report.</summary>
public sealed class ConnectorModel(IdentityHubDbContext db, ConnectorOperations operations, Reconciler reconciler) : ConsolePageModel
{
    /// <summary>The chart's bucket: one minute, the last two hours at most.</summary>
    public static readonly TimeSpan Bucket = TimeSpan.FromMinutes(1);

    public Connector? Connector { get; private set; }

    public string ApplicationName { get; private set; } = "";

    public ConnectorStatus? Status { get; private set; }

    public IReadOnlyList<DeliveryBucket> Chart { get; private set; } = [];

    public FullSyncProgress? FullSync { get; private set; }

    public DriftStatus? Drift { get; private set; }

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken) =>
        await LoadAsync(id, cancellationToken) ? Page() : NotFound();

    public Task<IActionResult> OnPostPauseAsync(Guid id, CancellationToken cancellationToken) => SetPausedAsync(id, true, cancellationToken);

    public Task<IActionResult> OnPostResumeAsync(Guid id, CancellationToken cancellationToken) => SetPausedAsync(id, false, cancellationToken);

    public async Task<IActionResult> OnPostFullSyncAsync(Guid id, CancellationToken cancellationToken)
    {
        try
        {
            await reconciler.StartFullSyncAsync(id, cancellationToken);
            return Done(T("admin.provisioning.fullSyncStarted"), $"/admin/provisioning/{id}");
        }
        catch (Exception ex) when (ex is ReconciliationException or ScimCallException)
        {
            Alert = new ConsoleAlert(ex.Message, [], IsError: true);
            return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
        }
    }

    private async Task<IActionResult> SetPausedAsync(Guid id, bool paused, CancellationToken cancellationToken)
    {
        var connector = await db.Connectors.SingleOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (connector is null)
        {
            return NotFound();
        }

        await operations.SetPausedAsync(connector, paused, cancellationToken);
        return Done(T(paused ? "admin.provisioning.paused" : "admin.provisioning.resumed"), $"/admin/provisioning/{id}");
    }

    private string T(string key) => HttpContext.RequestServices.GetRequiredService<Hosting.ThemeMessages>()[key].Value;

    private async Task<bool> LoadAsync(Guid id, CancellationToken cancellationToken)
    {
        Connector = await db.Connectors.AsNoTracking().Include(c => c.Application).SingleOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (Connector is null)
        {
            return false;
        }

        ApplicationName = Connector.Application?.Name ?? "";
        Status = await operations.StatusAsync(Connector, cancellationToken);
        Chart = await operations.StatsAsync(id, Bucket, cancellationToken);
        FullSync = Connector.Kind == ConnectorKind.Scim ? await reconciler.FullSyncProgressAsync(id, cancellationToken) : null;
        Drift = Connector.Kind == ConnectorKind.Scim ? await reconciler.DriftStatusAsync(id, cancellationToken) : null;
        return true;
    }
}
