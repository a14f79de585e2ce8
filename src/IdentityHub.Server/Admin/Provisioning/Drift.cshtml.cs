using IdentityHub.Core;
using IdentityHub.Core.Queries;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Queries;
using IdentityHub.Provisioning.Reconciliation;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Provisioning;

/// <summary>The latest drift report of a connector whose target can be listed; checking reads the target now, fixing queues what differs.</summary>
public sealed class DriftModel(UserQueries users, ConnectorQueries queries, Reconciler reconciler) : ConsolePageModel
{
    public ConnectorView? Connector { get; private set; }

    public DriftReport? Report { get; private set; }

    public DriftStatus? Status { get; private set; }

    public IReadOnlyDictionary<string, PersonName> UserNames { get; private set; } = new Dictionary<string, PersonName>();

    /// <summary>The query value that asks to confirm a fix.</summary>
    public const string ConfirmFix = "fix";

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }

        if (CanWrite && Confirming == ConfirmFix && Report is { InSync: false } report)
        {
            Confirm = await FixConfirmationAsync(Connector!, report, cancellationToken);
        }

        return Page();
    }

    public Task<IActionResult> OnPostCheckAsync(Guid id, CancellationToken cancellationToken) =>
        RunAsync(id, async () => { await reconciler.CheckAsync(id, cancellationToken); return Message("admin.provisioning.checked"); }, cancellationToken);

    public Task<IActionResult> OnPostFixAsync(Guid id, CancellationToken cancellationToken) =>
        RunAsync(id, async () =>
        {
            var fix = await reconciler.FixAsync(id, cancellationToken);
            return Message("admin.provisioning.fixed", fix.Queued, fix.ExtrasRemoved, fix.ExtrasKept);
        }, cancellationToken);

    private async Task<IActionResult> RunAsync(Guid id, Func<Task<string>> work, CancellationToken cancellationToken)
    {
        try
        {
            return Done(await work(), $"/admin/provisioning/{id}/drift");
        }
        catch (ConnectorCallException ex)
        {
            Alert = new ConsoleAlert(ex.Message, [], IsError: true);
            return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
        }
        catch (RuleViolation violation) when (violation.Kind == ViolationKind.NotFound)
        {
            return NotFound();
        }
        catch (RuleViolation violation)
        {
            // The connector cannot be compared as it is configured (a REST connector without a list operation).
            Refused(violation, prefix: "");
            return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
        }
    }

    /// <summary>
    /// What a fix will do, from the latest report (it checks the target again first): resend the state of the people missing
    /// or different there, remove those who should no longer be there, and remove or keep the accounts IdentityHub never
    /// provisioned, as the connector's settings say.
    /// </summary>
    private async Task<Confirmation> FixConfirmationAsync(ConnectorView connector, DriftReport report, CancellationToken cancellationToken)
    {
        var texts = ThemeTexts;
        var ours = report.Extra.Count(i => i.UserId is not null);
        var foreign = report.Extra.Count(i => i.UserId is null);
        var consequences = new List<string> { texts["admin.confirm.drift.resend", report.MissingCount + report.DifferentCount].Value };
        if (ours > 0)
        {
            consequences.Add(texts["admin.confirm.drift.ours", ours].Value);
        }

        if (foreign > 0)
        {
            var removes = await reconciler.RemovesExtrasAsync(connector.Id, cancellationToken);
            consequences.Add(texts[removes ? "admin.confirm.drift.foreignRemoved" : "admin.confirm.drift.foreignKept", foreign].Value);
        }

        if (report.Truncated)
        {
            consequences.Add(texts["admin.confirm.drift.truncated"].Value);
        }

        return new Confirmation(
            "fix-drift", texts["admin.confirm.drift.title", connector.Name], consequences,
            $"/admin/provisioning/{connector.Id}/drift?handler=fix", new Dictionary<string, string?>(StringComparer.Ordinal),
            texts["admin.provisioning.fix"], $"/admin/provisioning/{connector.Id}/drift");
    }

    private string Message(string key, params object[] arguments) =>
        HttpContext.RequestServices.GetRequiredService<Hosting.ThemeMessages>()[key, arguments].Value;

    private async Task<bool> LoadAsync(Guid id, CancellationToken cancellationToken)
    {
        Connector = await queries.GetAsync(id, cancellationToken);
        if (Connector is null || !reconciler.CanCheck(Connector.Kind))
        {
            return false;
        }

        Status = await reconciler.DriftStatusAsync(id, cancellationToken);
        Report = Status.Report;
        var ids = Report is null ? [] : Report.Missing.Concat(Report.Extra).Concat(Report.Different).Select(i => i.UserId).OfType<string>();
        UserNames = await users.NamesAsync(ids, cancellationToken);
        return true;
    }
}
