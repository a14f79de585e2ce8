using IdentityHub.Core;
using IdentityHub.Data.Inbound;
using IdentityHub.Provisioning.Inbound;
using IdentityHub.Server.AdminApi;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Sources;

/// <summary>
/// "Run now" (an increment, a reconciliation or a dry run of a REST source) and "approve the first import" after a dry run,
/// through the same <see cref="SourceRunner"/> as the admin API; the approval comes after the confirmation step.
/// </summary>
public sealed partial class SourceModel
{
    public const string ConfirmApprove = "approve";

    public async Task<IActionResult> OnPostRunAsync(Guid id, string? kind, [FromServices] SourceRunner runner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runner);
        InboundRun run;
        try
        {
            var runKind = SourcesApi.RunKindOf(kind) ?? throw RuleViolation.Field("kind", "kind must be \"increment\", \"reconciliation\" or \"dry-run\".");
            run = await runner.RunAsync(id, runKind, SourcesApi.RequesterOf(HttpContext), cancellationToken);
        }
        catch (RuleViolation violation) when (violation.Kind != ViolationKind.NotFound)
        {
            Refused(violation, prefix: "");
            return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
        }
        catch (RuleViolation)
        {
            return NotFound();
        }

        var kindText = ThemeTexts[SourceTexts.KeyOf(run.Kind)].Value;
        return run.Failure is { } failure
            ? Did($"/admin/sources/{id}", "admin.sources.done.runFailed", kindText, failure)
            : Did($"/admin/sources/{id}", "admin.sources.done.ran", kindText, run.Created, run.Updated, run.Left, run.Skipped, run.Conflicts, run.Failed);
    }

    public async Task<IActionResult> OnPostApproveAsync(Guid id, [FromServices] SourceRunner runner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runner);
        try
        {
            await runner.ApproveFirstImportAsync(id, cancellationToken);
        }
        catch (RuleViolation violation) when (violation.Kind != ViolationKind.NotFound)
        {
            Refused(violation, prefix: "");
            return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
        }
        catch (RuleViolation)
        {
            return NotFound();
        }

        return Did($"/admin/sources/{id}", "admin.sources.done.approved");
    }

    private Confirmation? Approving()
    {
        if (!CanWrite || Source is not { AwaitsApproval: true } s)
        {
            return null;
        }

        var texts = ThemeTexts;
        return new Confirmation(
            "approve-import", texts["admin.sources.confirm.approve.title", s.Name],
            [texts["admin.sources.confirm.approve.report"], texts["admin.sources.confirm.approve.writes"]],
            $"/admin/sources/{s.Id}?handler=approve", new Dictionary<string, string?>(StringComparer.Ordinal), texts["admin.sources.confirm.approve.yes"],
            $"/admin/sources/{s.Id}");
    }
}
