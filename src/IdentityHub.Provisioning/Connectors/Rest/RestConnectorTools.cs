using System.Diagnostics;
using IdentityHub.Core;
using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.State;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Provisioning.Connectors.Rest;

/// <summary>What a test connection found: whether the vendor answered as the mapping says it should, and what it said.</summary>
public sealed record RestTestResult(bool Succeeded, string Operation, int? Status, string? Code, string? Message, int DurationMilliseconds);

public sealed record RestPreviewHeader(string Name, string Value);

/// <summary>One request exactly as it would be sent: method, URL, headers (signature included; a static secret masked), body.</summary>
public sealed record RestPreviewRequest(string Operation, string Method, string Url, IReadOnlyList<RestPreviewHeader> Headers, string? Body);

/// <summary>A dry run for one user: the version the next delivery would carry, what it asks of the vendor, and the requests in order.</summary>
public sealed record RestPreview(string UserId, long Version, string Action, IReadOnlyList<RestPreviewRequest> Requests);

/// <summary>What a full sync did about departments deleted in IdentityHub: removed at the vendor, or still there after a failed call.</summary>
public sealed record RestDepartmentPrune(int Deleted, IReadOnlyList<string> Failed);

/// <summary>
/// The REST connector's tools for administrators: a test connection (authenticate and call the list operation for one
/// user, or getUser), a dry-run preview of the requests a user would produce now, and the removal of departments
/// deleted in IdentityHub (part of the full sync).
/// </summary>
public sealed class RestConnectorTools(
    IdentityHubDbContext db, RestCompiler compiler, RestTransport transport, RestConnectorClient client, RestDirectory directory, UserStates states, ConnectorSecrets secrets)
{
    private const string ProbeEmployeeNumber = "identityhub-connection-test";

    public async Task<RestTestResult> TestAsync(Guid connectorId, CancellationToken cancellationToken)
    {
        var (connector, compiled) = await ConnectorAsync(connectorId, cancellationToken);
        RestRequest request;
        if (compiled.Operation(RestOperationNames.ListUsers) is { } list)
        {
            request = compiled.Render(list, RestTemplateModel.ForPage(compiled.Settings.Operations.ListUsers!.FirstPage, 1, null));
        }
        else if (compiled.Operation(RestOperationNames.GetUser) is { } get)
        {
            request = compiled.Render(get, RestTemplateModel.ForProbe(ProbeEmployeeNumber));
        }
        else
        {
            throw RuleViolation.Field("settings.operations.listUsers", "A test connection calls listUsers (or getUser): configure one of them.");
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            var verdict = await transport.SendAsync(compiled, connector.Id, request, secrets.Unprotect(connector.ProtectedSecret), cancellationToken);
            // For getUser, "no such employee" proves the call was authenticated and understood.
            var succeeded = verdict.Kind == RestVerdictKind.Success || (verdict.Kind == RestVerdictKind.NotFound && request.Operation == RestOperationNames.GetUser);
            return new RestTestResult(succeeded, request.Operation, verdict.Status, verdict.Code, verdict.Message, Elapsed(started));
        }
        catch (RestCallException failure)
        {
            return new RestTestResult(false, request.Operation, null, null, failure.Message, Elapsed(started));
        }
    }

    /// <summary>The requests the next delivery of <paramref name="userId"/> would send now; nothing is sent, no token fetched, nothing saved.</summary>
    public async Task<RestPreview> PreviewAsync(Guid connectorId, string userId, CancellationToken cancellationToken)
    {
        var (connector, compiled) = await ConnectorAsync(connectorId, cancellationToken);
        if (string.IsNullOrWhiteSpace(userId) || !await db.Users.AnyAsync(u => u.Id == userId, cancellationToken))
        {
            throw RuleViolation.Field("userId", "No user with this id.", ViolationKind.NotFound);
        }

        var state = await states.BuildAsync(connector.ApplicationId, userId, cancellationToken);
        var stored = await db.ConnectorUserStates.AsNoTracking().SingleOrDefaultAsync(s => s.ConnectorId == connectorId && s.UserId == userId, cancellationToken);
        // A copy: the version is assigned as a delivery would, and never saved.
        var known = new ConnectorUserState
        {
            ConnectorId = connectorId, UserId = userId, Version = stored?.Version ?? 0, ExternalId = stored?.ExternalId, SentState = stored?.SentState,
        };
        state = StateVersions.Assign(known, state);
        if (ProvisioningEvents.Of(known) == ProvisioningEvents.None)
        {
            return new RestPreview(userId, state.Version, "none", []);
        }

        var secret = secrets.Unprotect(connector.ProtectedSecret);
        var requests = await client.PlanAsync(connector, compiled, state, known, cancellationToken);
        return new RestPreview(userId, state.Version, RestConnectorClient.Decide(state, compiled.Settings).ToString().ToLowerInvariant(),
            [.. requests.Select(r => new RestPreviewRequest(r.Operation, r.Method.Method, r.Url.AbsoluteUri,
                [
                    .. (r.Body is null ? [] : new[] { new RestPreviewHeader("Content-Type", "application/json; charset=utf-8") }),
                    .. r.Headers.Select(h => new RestPreviewHeader(h.Key, h.Value)),
                    .. transport.PreviewAuthentication(compiled.Settings, r, secret).Select(h => new RestPreviewHeader(h.Key, h.Value)),
                ],
                r.Body))]);
    }

    /// <summary>
    /// Deletes at the vendor the departments this connector sent that IdentityHub no longer has, deepest first; a
    /// department the vendor no longer has counts as deleted; a failure leaves it for the next full sync.
    /// </summary>
    public async Task<RestDepartmentPrune> DeleteVanishedDepartmentsAsync(Connector connector, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connector);
        var compiled = compiler.Compile(connector.Settings);
        if (compiled.Operation(RestOperationNames.DeleteDepartment) is not { } operation)
        {
            return new RestDepartmentPrune(0, []);
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
            catch (Exception ex) when (ex is RestCallException or RestTemplateException)
            {
                failed.Add($"{gone.Code}: {ex.Message}");
            }
        }

        return new RestDepartmentPrune(deleted, failed);
    }

    private async Task<(Connector Connector, RestCompiledSettings Compiled)> ConnectorAsync(Guid connectorId, CancellationToken cancellationToken)
    {
        var connector = await db.Connectors.AsNoTracking().SingleOrDefaultAsync(c => c.Id == connectorId, cancellationToken)
            ?? throw RuleViolation.NotFound("connector", connectorId.ToString());
        if (connector.Kind != ConnectorKind.Rest)
        {
            throw new RuleViolation(ViolationKind.Invalid, "Test connection and preview are for REST connectors.");
        }

        var compiled = compiler.Compile(connector.Settings);
        if (!compiled.IsValid)
        {
            throw new RuleViolation(ViolationKind.Invalid, "The connector's settings are invalid.", compiled.Errors.ToDictionary(e => "settings." + e.Key, e => e.Value, StringComparer.Ordinal));
        }

        return (connector, compiled);
    }

    private static int Elapsed(long started) => (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
}
