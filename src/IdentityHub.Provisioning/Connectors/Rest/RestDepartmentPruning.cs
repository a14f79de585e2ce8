using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Reconciliation;

namespace IdentityHub.Provisioning.Connectors.Rest;

/// <summary>
/// The REST full sync's own step: deletes at the vendor the departments this connector sent that IdentityHub no longer
/// has, deepest first (a vendor never sees a parent removed before its children). No user's delivery names such a
/// department any more, so only the full sync can. One the vendor no longer has counts as deleted; a failed call leaves
/// it for the next full sync. Recorded in the full sync's audit as <c>departmentsDeleted</c> and <c>departmentsNotDeleted</c>.
/// </summary>
public sealed class RestDepartmentPruning(RestCompiler compiler, RestTransport transport, RestDirectory directory, ConnectorSecrets secrets) : IFullSyncStep
{
    public ConnectorKind Kind => ConnectorKind.Rest;

    public async Task<IReadOnlyDictionary<string, object?>> RunAsync(Connector connector, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connector);
        var compiled = compiler.Compile(connector.Settings);
        if (compiled.Operation(RestOperationNames.DeleteDepartment) is not { } operation)
        {
            return new Dictionary<string, object?>();
        }

        var secret = secrets.Unprotect(connector.ProtectedSecret);
        var deleted = 0;
        var failed = new List<string>();
        foreach (var gone in await directory.OrphansAsync(connector.Id, cancellationToken))
        {
            var department = new RestDepartment(gone.DepartmentId, gone.Code, gone.Name, gone.ParentCode, [gone.Name], [gone.Code]) { VendorId = gone.ExternalId };
            try
            {
                var key = RestTemplateModel.IdempotencyKey(connector.Id, "department-deleted:" + gone.DepartmentId.ToString("N"), gone.Fingerprint);
                var request = compiled.Render(operation, RestTemplateModel.ForDepartment(department, key));
                var verdict = await transport.SendAsync(compiled, connector.Id, request, secret, cancellationToken);
                if (verdict.Kind is RestVerdictKind.Success or RestVerdictKind.NotFound)
                {
                    await directory.ForgetDepartmentAsync(connector.Id, gone.DepartmentId, cancellationToken);
                    deleted++;
                }
                else
                {
                    failed.Add($"{gone.Code}: {verdict.Describe(request)}");
                }
            }
            catch (Exception ex) when (ex is ConnectorCallException or RestTemplateException)
            {
                failed.Add($"{gone.Code}: {ex.Message}");
            }
        }

        return new Dictionary<string, object?> { ["departmentsDeleted"] = deleted, ["departmentsNotDeleted"] = failed };
    }
}
