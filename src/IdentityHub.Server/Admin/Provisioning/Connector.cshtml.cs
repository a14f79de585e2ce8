using IdentityHub.Core;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Monitoring;
using IdentityHub.Provisioning.Queries;
using IdentityHub.Provisioning.Reconciliation;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Provisioning;

/// <summary>
/// One connector: its settings (never the secret), health, lag, counts, last errors, deliveries over time; pause/resume,
/// test connection, full sync with its progress (the initial sync of a new connector too), the latest drift report.
/// </summary>
public sealed partial class ConnectorModel(
    ConnectorQueries queries, Connectors connectors, ConnectorOperations operations, FullSyncs fullSyncs, Reconciler reconciler, Pickers pickers)
    : ConsolePageModel
{
    /// <summary>The chart's bucket: one minute, the last two hours at most.</summary>
    public static readonly TimeSpan Bucket = TimeSpan.FromMinutes(1);

    public ConnectorView? Connector { get; private set; }

    public IReadOnlyList<ConnectorSetting> Settings { get; private set; } = [];

    public ConnectorStatus? Status { get; private set; }

    public IReadOnlyList<DeliveryBucket> Chart { get; private set; } = [];

    public FullSyncProgress? FullSync { get; private set; }

    /// <summary>Whether the connector's target can be listed, so drift can be checked.</summary>
    public bool DriftCheckable { get; private set; }

    public DriftStatus? Drift { get; private set; }

    /// <summary>The result of "test connection", shown once on the page that ran it.</summary>
    public ConnectionTestResult? Test { get; private set; }

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }

        ConfirmDeletion();
        return Page();
    }

    public Task<IActionResult> OnPostPauseAsync(Guid id, CancellationToken cancellationToken) => SetPausedAsync(id, true, cancellationToken);

    public Task<IActionResult> OnPostResumeAsync(Guid id, CancellationToken cancellationToken) => SetPausedAsync(id, false, cancellationToken);

    public async Task<IActionResult> OnPostFullSyncAsync(Guid id, CancellationToken cancellationToken)
    {
        try
        {
            await fullSyncs.StartAsync(id, cancellationToken);
            return Done(T("admin.provisioning.fullSyncStarted"), $"/admin/provisioning/{id}");
        }
        catch (RuleViolation violation) when (violation.Kind == ViolationKind.NotFound)
        {
            return NotFound();
        }
    }

    /// <summary>Runs the test and shows its outcome on this page (nothing changed, so no redirect).</summary>
    public async Task<IActionResult> OnPostTestAsync(Guid id, CancellationToken cancellationToken)
    {
        try
        {
            Test = await connectors.TestAsync(id, cancellationToken);
        }
        catch (RuleViolation violation) when (violation.Kind == ViolationKind.NotFound)
        {
            return NotFound();
        }

        return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
    }

    private async Task<IActionResult> SetPausedAsync(Guid id, bool paused, CancellationToken cancellationToken)
    {
        try
        {
            await connectors.SetPausedAsync(id, paused, cancellationToken);
        }
        catch (RuleViolation violation) when (violation.Kind == ViolationKind.NotFound)
        {
            return NotFound();
        }

        return Done(T(paused ? "admin.provisioning.paused" : "admin.provisioning.resumed"), $"/admin/provisioning/{id}");
    }

    private string T(string key) => HttpContext.RequestServices.GetRequiredService<Hosting.ThemeMessages>()[key].Value;

    private async Task<bool> LoadAsync(Guid id, CancellationToken cancellationToken)
    {
        Connector = await queries.GetAsync(id, cancellationToken);
        if (Connector is null)
        {
            return false;
        }

        Settings = queries.Describe(Connector);
        SecretGenerated = queries.GeneratesSecret(Connector.Kind);
        Previewable = connectors.CanPreview(Connector.Kind);
        if (_postedEdit is null)
        {
            Edit = ConnectorForm.Of(Connector);
        }

        Status = await operations.StatusAsync(id, Connector.Paused, cancellationToken);
        Chart = await operations.StatsAsync(id, Bucket, cancellationToken);
        FullSync = await fullSyncs.ProgressAsync(id, cancellationToken);
        DriftCheckable = reconciler.CanCheck(Connector.Kind);
        Drift = DriftCheckable ? await reconciler.DriftStatusAsync(id, cancellationToken) : null;
        return true;
    }
}
