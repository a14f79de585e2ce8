using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.State;

namespace IdentityHub.Provisioning.Connectors.Rest;

/// <summary>What a user's state asks of the vendor.</summary>
public enum RestAction
{
    Upsert,
    Disable,
    Delete,
}

/// <summary>
/// The configurable REST connector: renders the connector's templates over the user's state and sends them signed.
/// Departments go first: before a user is upserted, their department chain is upserted from the root down wherever it
/// changed since this connector last sent it (a per-(connector, department) fingerprint in ConnectorDepartmentStates),
/// so the vendor always knows a person's department, and its parent, before the person. A renamed or moved department
/// therefore reaches the vendor with its people's next delivery (department changes queue them); departments deleted in
/// IdentityHub are deleted at the vendor by the full sync (<see cref="RestDepartmentPruning"/>).
/// The vendor's id for the user is kept in ConnectorUserState.ExternalId; a vendor without ids (no <c>vendorIdPath</c>)
/// knows people by employee number, which is then kept instead, so a user deleted in IdentityHub can still be named.
/// </summary>
public sealed class RestConnectorClient(RestCompiler compiler, RestTransport transport, RestDirectory directory) : IConnectorClient
{
    public ConnectorKind Kind => ConnectorKind.Rest;

    /// <summary>
    /// Deleted users are deleted (disabled when there is no delete operation); someone who left, or who holds nothing in
    /// the application, is deprovisioned as the settings say; a suspended user is disabled; everyone else upserted.
    /// </summary>
    public static RestAction Decide(ProvisionedUser state, RestConnectorSettings settings)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(settings);
        var operations = settings.Operations;
        var delete = operations.DeleteUser is not null ? RestAction.Delete : RestAction.Disable;
        var disable = operations.DisableUser is not null ? RestAction.Disable : RestAction.Delete;
        var deprovision = settings.Deprovisioning == RestDeprovisioning.Delete ? delete : disable;
        if (!state.Exists)
        {
            return delete;
        }

        if (state.Left || (state.Active && !state.HoldsAccess()))
        {
            return deprovision;
        }

        return state.Active ? RestAction.Upsert : disable;
    }

    public async Task<DeliveryOutcome> DeliverAsync(Connector connector, string? secret, ProvisionedUser state, ConnectorUserState known, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(known);
        var compiled = compiler.Compile(connector.Settings);
        if (!compiled.IsValid)
        {
            return new DeliveryOutcome.Permanent(compiled.DescribeErrors());
        }

        // Out of scope and never known downstream: nothing to tell the vendor.
        if (ProvisioningEvents.Of(known) == ProvisioningEvents.None)
        {
            return new DeliveryOutcome.Delivered(null);
        }

        try
        {
            var action = Decide(state, compiled.Settings);
            return action == RestAction.Upsert
                ? await UpsertAsync(connector, compiled, secret, state, known, cancellationToken)
                : await RemoveAsync(connector, compiled, secret, state, known, action, cancellationToken);
        }
        catch (ConnectorCallException failure)
        {
            return failure.Outcome;
        }
        catch (RestTemplateException failure)
        {
            return new DeliveryOutcome.Permanent($"settings.{failure.Field}: {failure.Message}");
        }
    }

    /// <summary>
    /// The requests a delivery of <paramref name="state"/> would send now, in order, without sending anything: the
    /// departments that changed, then the user's own (the create when the vendor's id is unknown and there is one).
    /// </summary>
    public async Task<IReadOnlyList<RestRequest>> PlanAsync(Connector connector, RestCompiledSettings compiled, ProvisionedUser state, ConnectorUserState known, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(compiled);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(known);
        var requests = new List<RestRequest>();
        var action = Decide(state, compiled.Settings);
        var chain = action == RestAction.Upsert ? await directory.ChainAsync(connector.Id, state.DepartmentCode, cancellationToken) : [];
        if (compiled.Operation(RestOperationNames.UpsertDepartment) is { } departmentOperation && chain.Count > 0)
        {
            var sent = await directory.FingerprintsAsync(connector.Id, [.. chain.Select(d => d.Id)], cancellationToken);
            foreach (var department in Linked(chain))
            {
                if (sent.GetValueOrDefault(department.Id) != RestDirectory.Fingerprint(department))
                {
                    requests.Add(DepartmentRequest(connector, compiled, departmentOperation, department));
                }
            }
        }

        var context = await ContextAsync(connector, compiled, state, known, chain, cancellationToken);
        var operation = action switch
        {
            RestAction.Upsert => UpsertOperation(compiled, known),
            RestAction.Disable => compiled.Operation(RestOperationNames.DisableUser) ?? compiled.Operation(RestOperationNames.DeleteUser),
            _ => compiled.Operation(RestOperationNames.DeleteUser) ?? compiled.Operation(RestOperationNames.DisableUser),
        };
        requests.Add(UserRequest(compiled, operation!, state, context, action));
        return requests;
    }

    /// <summary>The template model of a user as a delivery would render it now (for the drift check's comparisons).</summary>
    public async Task<Dictionary<string, object?>> UserModelAsync(
        Connector connector, RestCompiledSettings compiled, ProvisionedUser state, ConnectorUserState known, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(compiled);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(known);
        var chain = await directory.ChainAsync(connector.Id, state.DepartmentCode, cancellationToken);
        var context = await ContextAsync(connector, compiled, state, known, chain, cancellationToken);
        return RestTemplateModel.ForUser(state, context, Decide(state, compiled.Settings).ToString().ToLowerInvariant());
    }

    private async Task<DeliveryOutcome> UpsertAsync(
        Connector connector, RestCompiledSettings compiled, string? secret, ProvisionedUser state, ConnectorUserState known, CancellationToken cancellationToken)
    {
        var chain = await directory.ChainAsync(connector.Id, state.DepartmentCode, cancellationToken);
        if (compiled.Operation(RestOperationNames.UpsertDepartment) is { } departmentOperation && chain.Count > 0)
        {
            chain = await SyncDepartmentsAsync(connector, compiled, departmentOperation, chain, secret, cancellationToken);
        }

        var context = await ContextAsync(connector, compiled, state, known, chain, cancellationToken);
        var operation = UpsertOperation(compiled, known);
        var request = UserRequest(compiled, operation, state, context, RestAction.Upsert);
        var verdict = await transport.SendAsync(compiled, connector.Id, request, secret, cancellationToken);
        if (verdict.Kind == RestVerdictKind.NotFound && operation.Name == RestOperationNames.UpsertUser && (context.VendorId is not null || compiled.Operation(RestOperationNames.CreateUser) is not null))
        {
            // The vendor no longer knows the id we hold (removed there): forget it and create the user afresh.
            context = context with { VendorId = null };
            request = UserRequest(compiled, compiled.Operation(RestOperationNames.CreateUser) ?? operation, state, context, RestAction.Upsert);
            verdict = await transport.SendAsync(compiled, connector.Id, request, secret, cancellationToken);
        }

        return verdict.Kind == RestVerdictKind.Success
            ? new DeliveryOutcome.Delivered(KeyOf(compiled, verdict, state) ?? context.VendorId)
            : verdict.Outcome(request);
    }

    private async Task<DeliveryOutcome> RemoveAsync(
        Connector connector, RestCompiledSettings compiled, string? secret, ProvisionedUser state, ConnectorUserState known, RestAction action, CancellationToken cancellationToken)
    {
        var context = await ContextAsync(connector, compiled, state, known, [], cancellationToken);
        var operation = action == RestAction.Disable
            ? compiled.Operation(RestOperationNames.DisableUser) ?? compiled.Operation(RestOperationNames.DeleteUser)
            : compiled.Operation(RestOperationNames.DeleteUser) ?? compiled.Operation(RestOperationNames.DisableUser);
        if (state.EmployeeNumber is null && context.VendorId is null)
        {
            // Nothing names the user at the vendor (deleted here before it ever learned an id): nothing to remove.
            return new DeliveryOutcome.Delivered(null);
        }

        var request = UserRequest(compiled, operation!, state, context, action);
        var verdict = await transport.SendAsync(compiled, connector.Id, request, secret, cancellationToken);
        return verdict.Kind switch
        {
            // Removing someone the vendor does not have: what we wanted.
            RestVerdictKind.NotFound or RestVerdictKind.Success => new DeliveryOutcome.Delivered(context.VendorId),
            _ => verdict.Outcome(request),
        };
    }

    /// <summary>Upserts the departments of the chain that changed since this connector sent them, root first; returns the chain with the vendor's ids.</summary>
    private async Task<IReadOnlyList<RestDepartment>> SyncDepartmentsAsync(
        Connector connector, RestCompiledSettings compiled, RestCompiledOperation operation, IReadOnlyList<RestDepartment> chain, string? secret, CancellationToken cancellationToken)
    {
        var sent = await directory.FingerprintsAsync(connector.Id, [.. chain.Select(d => d.Id)], cancellationToken);
        var result = new List<RestDepartment>();
        foreach (var original in chain)
        {
            var department = original with { ParentVendorId = result.Count > 0 ? result[^1].VendorId : null };
            if (sent.GetValueOrDefault(department.Id) != RestDirectory.Fingerprint(department))
            {
                var request = DepartmentRequest(connector, compiled, operation, department);
                var verdict = await transport.SendAsync(compiled, connector.Id, request, secret, cancellationToken);
                if (verdict.Kind is not (RestVerdictKind.Success or RestVerdictKind.Stale))
                {
                    throw new ConnectorCallException(verdict.Outcome(request));
                }

                department = department with { VendorId = verdict.VendorId ?? department.VendorId };
                await directory.SaveSentAsync(connector.Id, department, verdict.VendorId, cancellationToken);
            }

            result.Add(department);
        }

        return result;
    }

    /// <summary>The chain with each department's parent vendor id filled from the one above it.</summary>
    private static IEnumerable<RestDepartment> Linked(IReadOnlyList<RestDepartment> chain)
    {
        RestDepartment? parent = null;
        foreach (var department in chain)
        {
            parent = department with { ParentVendorId = parent?.VendorId };
            yield return parent;
        }
    }

    private static RestRequest DepartmentRequest(Connector connector, RestCompiledSettings compiled, RestCompiledOperation operation, RestDepartment department)
    {
        var key = RestTemplateModel.IdempotencyKey(connector.Id, "department:" + department.Id.ToString("N"), RestDirectory.Fingerprint(department));
        return WithIdempotencyKey(compiled, compiled.Render(operation, RestTemplateModel.ForDepartment(department, key)), key);
    }

    private static RestRequest UserRequest(RestCompiledSettings compiled, RestCompiledOperation operation, ProvisionedUser state, RestUserContext context, RestAction action)
    {
        var request = compiled.Render(operation, RestTemplateModel.ForUser(state, context, action.ToString().ToLowerInvariant()));
        return WithIdempotencyKey(compiled, request, context.IdempotencyKey);
    }

    private async Task<RestUserContext> ContextAsync(
        Connector connector, RestCompiledSettings compiled, ProvisionedUser state, ConnectorUserState known, IReadOnlyList<RestDepartment> chain, CancellationToken cancellationToken)
    {
        var managerVendorId = await directory.VendorIdOfAsync(connector.Id, state.ManagerUserId, cancellationToken);
        var key = RestTemplateModel.IdempotencyKey(connector.Id, state.UserId, state.Version);
        return new RestUserContext(chain, known.ExternalId, managerVendorId, key)
        {
            // A vendor without ids knows people by employee number, which the connector kept as the user's key.
            RememberedEmployeeNumber = compiled.Settings.Responses.VendorIdPath is null ? known.ExternalId : null,
        };
    }

    private static RestCompiledOperation UpsertOperation(RestCompiledSettings compiled, ConnectorUserState known) =>
        known.ExternalId is null && compiled.Operation(RestOperationNames.CreateUser) is { } create ? create : compiled.Operation(RestOperationNames.UpsertUser)!;

    /// <summary>The vendor's id from its answer; for a vendor without ids, the employee number it knows the user by.</summary>
    private static string? KeyOf(RestCompiledSettings compiled, RestVerdict verdict, ProvisionedUser state) =>
        compiled.Settings.Responses.VendorIdPath is null ? state.EmployeeNumber : verdict.VendorId;

    private static RestRequest WithIdempotencyKey(RestCompiledSettings compiled, RestRequest request, string key) =>
        string.IsNullOrEmpty(compiled.Settings.IdempotencyKeyHeader)
            ? request
            : request with { Headers = [.. request.Headers, new(compiled.Settings.IdempotencyKeyHeader, key)] };
}
