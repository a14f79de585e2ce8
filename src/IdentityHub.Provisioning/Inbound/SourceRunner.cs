using IdentityHub.Core;
using IdentityHub.Data.Inbound;

namespace IdentityHub.Provisioning.Inbound;

/// <summary>
/// Runs a pull source now: an increment (what changed since the cursor), a reconciliation (a full read compared with
/// IdentityHub, reported, then applied) or a dry run (the same report, rolled back). Scoped.
/// </summary>
public sealed class SourceRunner
{
    /// <summary>
    /// Runs one pull now (REST sources) and returns the finished run (counts, errors, report). A SCIM source refuses with
    /// <see cref="RuleViolation"/> (nothing to pull); a run of the same source already going is a <see cref="ViolationKind.Conflict"/>.
    /// </summary>
    public Task<InboundRun> RunAsync(Guid sourceId, InboundRunKind kind, string requestedBy, CancellationToken ct) =>
        throw new NotImplementedException("The REST source runner is being built (issue 14).");

    /// <summary>The administrator approves the first import after reading the dry-run report: FirstImportApproved = true, audited.</summary>
    public Task ApproveFirstImportAsync(Guid sourceId, CancellationToken ct) =>
        throw new NotImplementedException("The REST source runner is being built (issue 14).");
}
