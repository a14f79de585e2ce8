using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using IdentityHub.Core;
using IdentityHub.Provisioning.Reconciliation;
using IdentityHub.Provisioning.State;
using Microsoft.EntityFrameworkCore;
using Newtonsoft.Json.Linq;

namespace IdentityHub.Provisioning.Connectors.Rest;

/// <summary>
/// The drift check of a REST connector: reads the vendor's people through its list operation, page by page, and compares
/// them by employee number with the state IdentityHub would send now for every user the connector hears of (its
/// audience), and for any listed person who is IdentityHub's although outside it: missing (should be there, is not),
/// extra (there, but unknown to IdentityHub or supposed to be gone), different (a compared field — roles, an approver
/// level — differs). The report has the SCIM drift check's shape, so storing, showing and fixing it are the same; a
/// vendor's people IdentityHub does not know are left alone (removing them is the vendor administrator's call).
/// </summary>
public sealed class RestDriftCheck(
    IdentityHubDbContext db, UserStates states, RestCompiler compiler, RestTransport transport, RestConnectorClient client, ConnectorSecrets secrets, TimeProvider clock)
    : IConnectorDrift
{
    /// <summary>A bound on pages, so a vendor whose cursor never ends cannot keep a check running forever.</summary>
    private const int MaxPages = 10_000;

    public ConnectorKind Kind => ConnectorKind.Rest;

    public async Task<DriftReport> CheckAsync(Connector connector, IReadOnlyCollection<string> audience, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(audience);
        var compiled = compiler.Compile(connector.Settings);
        if (!compiled.IsValid)
        {
            throw new RuleViolation(ViolationKind.Conflict, compiled.DescribeErrors(), compiled.Errors.ToDictionary(e => "settings." + e.Key, e => e.Value, StringComparer.Ordinal));
        }

        var list = compiled.Operation(RestOperationNames.ListUsers)
            ?? throw RuleViolation.Field("settings.operations.listUsers", "A drift check of a REST connector reads its listUsers operation: configure it first.", ViolationKind.Conflict);
        var theirs = await ListAsync(connector, compiled, list, cancellationToken);
        var listing = compiled.Settings.Operations.ListUsers!;
        var byNumber = theirs.Where(i => Text(i, listing.EmployeeNumber) is not null)
            .GroupBy(i => Text(i, listing.EmployeeNumber)!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);

        // Listed people who are IdentityHub's are ours to judge, inside the audience or not: by employee number, or for a
        // vendor without ids by the employee number the connector kept (a user deleted here since).
        var numbers = byNumber.Keys.ToList();
        var matchedOurs = await db.Users.AsNoTracking().Where(u => u.EmployeeNumber != null && numbers.Contains(u.EmployeeNumber)).Select(u => u.Id).ToListAsync(cancellationToken);
        var known = await db.ConnectorUserStates.AsNoTracking().Where(s => s.ConnectorId == connector.Id).ToDictionaryAsync(s => s.UserId, cancellationToken);
        if (compiled.Settings.Responses.VendorIdPath is null)
        {
            matchedOurs.AddRange(known.Values.Where(s => s.ExternalId is not null && byNumber.ContainsKey(s.ExternalId)).Select(s => s.UserId));
        }

        var candidates = audience.Concat(matchedOurs).Distinct(StringComparer.Ordinal).ToList();
        var missing = new List<DriftItem>();
        var extra = new List<DriftItem>();
        var different = new List<DriftItem>();
        var matched = new HashSet<string>(StringComparer.Ordinal);
        foreach (var userId in candidates.Order(StringComparer.Ordinal))
        {
            var state = await states.BuildAsync(connector.ApplicationId, userId, cancellationToken);
            var ours = known.GetValueOrDefault(userId) ?? new ConnectorUserState { ConnectorId = connector.Id, UserId = userId };
            var number = state.EmployeeNumber ?? (compiled.Settings.Responses.VendorIdPath is null ? ours.ExternalId : null);
            var found = number is not null && byNumber.TryGetValue(number, out var item) ? item : null;
            if (number is not null && found is not null)
            {
                matched.Add(number);
            }

            var vendorId = found is null ? null : Text(found, listing.Id);
            var action = RestConnectorClient.Decide(state, compiled.Settings);
            if (action == RestAction.Delete)
            {
                if (found is not null)
                {
                    extra.Add(new DriftItem(userId, number!, vendorId, [], state.Exists ? "holds no role in the application" : "deleted in IdentityHub"));
                }

                continue;
            }

            // A disabled user may be listed (disabled) or not: either is in line, and the vendor keeps what they last had.
            if (action == RestAction.Disable)
            {
                continue;
            }

            if (found is null)
            {
                if (state.EmployeeNumber is not null)
                {
                    missing.Add(new DriftItem(userId, state.EmployeeNumber, null, [], null));
                }

                continue;
            }

            var fields = await DifferencesAsync(connector, compiled, state, ours, found, cancellationToken);
            if (fields.Count > 0)
            {
                different.Add(new DriftItem(userId, number!, vendorId, fields, null));
            }
        }

        foreach (var (number, item) in byNumber.Where(p => !matched.Contains(p.Key)))
        {
            extra.Add(new DriftItem(null, number, Text(item, listing.Id), [], "not known to IdentityHub"));
        }

        return new DriftReport(connector.Id, clock.GetUtcNow(), candidates.Count, theirs.Count, missing, extra, different);
    }

    /// <summary>A vendor's people IdentityHub never sent are left alone: removing them is the vendor administrator's call.</summary>
    public bool RemovesExtras(Connector connector) => false;

    /// <summary>A vendor's people IdentityHub never sent are left alone: removing them is the vendor administrator's call.</summary>
    public Task<int> RemoveExtrasAsync(Connector connector, IReadOnlyList<DriftItem> extras, CancellationToken cancellationToken) => Task.FromResult(0);

    /// <summary>Every item of every page: page numbers until a short page, or cursors until none.</summary>
    private async Task<List<JToken>> ListAsync(Connector connector, RestCompiledSettings compiled, RestCompiledOperation list, CancellationToken cancellationToken)
    {
        var listing = compiled.Settings.Operations.ListUsers!;
        var secret = secrets.Unprotect(connector.ProtectedSecret);
        var items = new List<JToken>();
        string? cursor = null;
        for (var page = 0; page < MaxPages; page++)
        {
            RestRequest request;
            try
            {
                request = compiled.Render(list, RestTemplateModel.ForPage(listing.FirstPage + page, listing.PageSize, cursor));
            }
            catch (RestTemplateException ex)
            {
                throw RuleViolation.Field("settings." + ex.Field, ex.Message, ViolationKind.Conflict);
            }

            var verdict = await transport.SendAsync(compiled, connector.Id, request, secret, cancellationToken);
            if (verdict.Kind != RestVerdictKind.Success)
            {
                throw new ConnectorCallException(verdict.Outcome(request));
            }

            var answer = RestJsonPath.Parse(verdict.Body);
            var pageItems = RestJsonPath.Select(answer, listing.Items) as JArray;
            items.AddRange(pageItems ?? []);
            if (listing.Paging == RestPaging.None || pageItems is null || pageItems.Count == 0)
            {
                break;
            }

            if (listing.Paging == RestPaging.Cursor)
            {
                cursor = RestJsonPath.Text(RestJsonPath.Select(answer, listing.NextCursor));
                if (string.IsNullOrEmpty(cursor))
                {
                    break;
                }
            }
            else if (pageItems.Count < listing.PageSize)
            {
                break;
            }
        }

        return items;
    }

    /// <summary>The compared fields whose value at the vendor differs from what the template says IdentityHub expects.</summary>
    private async Task<List<string>> DifferencesAsync(
        Connector connector, RestCompiledSettings compiled, ProvisionedUser state, ConnectorUserState known, JToken item, CancellationToken cancellationToken)
    {
        var fields = new List<string>();
        if (compiled.Compare.Count == 0)
        {
            return fields;
        }

        var versioned = state with { Version = known.Version };
        var model = await client.UserModelAsync(connector, compiled, versioned, known, cancellationToken);
        foreach (var (name, template) in compiled.Compare)
        {
            var expected = JsonNode.Parse(RestTemplates.RenderBody(template, model, compiled.Options));
            var actual = RestJsonPath.Select(item, compiled.Settings.Operations.ListUsers!.Compare[name].Path);
            var theirs = actual is null ? null : JsonNode.Parse(actual.ToString(Newtonsoft.Json.Formatting.None));
            if (Canonical(expected) != Canonical(theirs))
            {
                fields.Add(name);
            }
        }

        return fields;
    }

    /// <summary>Values compared as text, arrays as sorted sets: "5000" equals 5000, and role order does not matter.</summary>
    private static string Canonical(JsonNode? node) => node switch
    {
        null => "null",
        JsonArray array => "[" + string.Join(",", array.Select(Canonical).Order(StringComparer.Ordinal)) + "]",
        JsonObject obj => "{" + string.Join(",", obj.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + ":" + Canonical(p.Value))) + "}",
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        _ => node.ToJsonString(),
    };

    private static string? Text(JToken item, string? path) => RestJsonPath.Text(RestJsonPath.Select(item, path));
}
