using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Dispatch;
using IdentityHub.Provisioning.Reconciliation;
using IdentityHub.Provisioning.State;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IdentityHub.Provisioning.Connectors.Scim;

/// <summary>
/// Reads every User (and in groups mode every Group) of a SCIM target, page by page, and compares it with the
/// state IdentityHub would send now for every user the connector hears of (its audience), and for any downstream user
/// that is IdentityHub's although outside it (to be removed). The expected state comes from the dispatcher's own builder.
/// </summary>
public sealed class ScimDriftCheck(IdentityHubDbContext db, UserStates states, ScimSessions sessions, ConnectorSecrets secrets, IOptions<ProvisioningOptions> options, TimeProvider clock)
    : IConnectorDrift
{
    public ConnectorKind Kind => ConnectorKind.Scim;

    public async Task<DriftReport> CheckAsync(Connector connector, IReadOnlyCollection<string> audience, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(audience);
        var settings = ScimSessions.SettingsOf(connector);
        var session = await sessions.OpenAsync(settings, secrets.Unprotect(connector.ProtectedSecret), cancellationToken);
        var theirs = new List<JsonElement>();
        await foreach (var resource in session.ListAsync(ScimConnectorClient.UsersEndpoint, options.Value.DriftCheckPageSize, cancellationToken))
        {
            theirs.Add(resource);
        }

        var groupsOf = settings.GroupsMode ? await GroupMembershipsAsync(session, options.Value.DriftCheckPageSize, cancellationToken) : null;
        var byExternalId = theirs.Where(r => Str(r, "externalId") is not null).GroupBy(r => Str(r, "externalId")!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var byUserName = theirs.Where(r => Str(r, "userName") is not null).GroupBy(r => Str(r, "userName")!, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.First(), StringComparer.OrdinalIgnoreCase);

        // Downstream users whose externalId is one of ours are ours to judge, inside the audience or not.
        var externalIds = byExternalId.Keys.ToList();
        var matchedOurs = await db.Users.AsNoTracking().Where(u => externalIds.Contains(u.Id)).Select(u => u.Id)
            .Union(db.ConnectorUserStates.AsNoTracking().Where(s => s.ConnectorId == connector.Id && externalIds.Contains(s.UserId)).Select(s => s.UserId))
            .ToListAsync(cancellationToken);
        var ours = audience.Concat(matchedOurs).ToHashSet(StringComparer.Ordinal);
        var candidates = ours.ToList();
        var missing = new List<DriftItem>();
        var extra = new List<DriftItem>();
        var different = new List<DriftItem>();
        var matched = new HashSet<string>(StringComparer.Ordinal);
        foreach (var userId in candidates.Order(StringComparer.Ordinal))
        {
            var state = await states.BuildAsync(connector.ApplicationId, userId, cancellationToken);
            var userName = state.Exists ? ScimUser.UserNameOf(state, settings) : "";
            var found = byExternalId.TryGetValue(userId, out var byId) ? byId
                : userName.Length > 0 && byUserName.TryGetValue(userName, out var byName) && !ours.Contains(Str(byName, "externalId") ?? "") ? byName
                : (JsonElement?)null;
            var scimId = found is { } f ? Str(f, "id") : null;
            if (scimId is not null)
            {
                matched.Add(scimId);
            }

            var action = ScimConnectorClient.Decide(state, settings);
            if (action == ScimAction.Delete)
            {
                if (found is { } present)
                {
                    extra.Add(new DriftItem(userId, Str(present, "userName") ?? userName, scimId, [],
                        state.Exists ? "holds no role in the application" : "deleted in IdentityHub"));
                }

                continue;
            }

            if (found is not { } downstream)
            {
                if (action == ScimAction.Upsert)
                {
                    missing.Add(new DriftItem(userId, userName, null, [], null));
                }

                continue;
            }

            var managerId = state.ManagerUserId is { } manager && byExternalId.TryGetValue(manager, out var m) ? Str(m, "id") : null;
            var desired = ScimUser.From(state, settings, managerId) with { Active = action == ScimAction.Upsert };
            var fields = desired.Differences(ScimUser.Parse(downstream)).ToList();
            if (groupsOf is not null && action == ScimAction.Upsert
                && !desired.Roles.SequenceEqual(groupsOf.GetValueOrDefault(scimId!) ?? [], StringComparer.Ordinal))
            {
                fields.Add("groups");
            }

            if (fields.Count > 0)
            {
                different.Add(new DriftItem(userId, userName, scimId, fields, null));
            }
        }

        foreach (var resource in theirs.Where(r => Str(r, "id") is { } id && !matched.Contains(id)))
        {
            extra.Add(new DriftItem(null, Str(resource, "userName") ?? "", Str(resource, "id"), [], "not known to IdentityHub"));
        }

        return new DriftReport(connector.Id, clock.GetUtcNow(), candidates.Count, theirs.Count, missing, extra, different);
    }

    /// <summary>Group display names per member SCIM id, from every Group of the target.</summary>
    private static async Task<Dictionary<string, List<string>>> GroupMembershipsAsync(ScimSession session, int pageSize, CancellationToken cancellationToken)
    {
        var memberships = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await foreach (var group in session.ListAsync(ScimGroups.GroupsEndpoint, pageSize, cancellationToken))
        {
            var name = Str(group, "displayName") ?? "";
            if (group.TryGetProperty("members", out var members) && members.ValueKind == JsonValueKind.Array)
            {
                foreach (var member in members.EnumerateArray().Select(m => Str(m, "value")).OfType<string>())
                {
                    if (!memberships.TryGetValue(member, out var names))
                    {
                        memberships[member] = names = [];
                    }

                    names.Add(name);
                }
            }
        }

        foreach (var names in memberships.Values)
        {
            names.Sort(StringComparer.Ordinal);
        }

        return memberships;
    }

    private static string? Str(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public bool RemovesExtras(Connector connector) => ScimSessions.SettingsOf(connector).RemoveExtras;

    public async Task<int> RemoveExtrasAsync(Connector connector, IReadOnlyList<DriftItem> extras, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(extras);
        var settings = ScimSessions.SettingsOf(connector);
        if (!settings.RemoveExtras || extras.Count == 0)
        {
            return 0;
        }

        var session = await sessions.OpenAsync(settings, secrets.Unprotect(connector.ProtectedSecret), cancellationToken);
        var removed = 0;
        foreach (var scimId in extras.Select(e => e.ScimId).OfType<string>())
        {
            await RemoveExtraAsync(session, scimId, cancellationToken);
            removed++;
        }

        return removed;
    }

    private static async Task RemoveExtraAsync(ScimSession session, string scimId, CancellationToken cancellationToken)
    {
        var path = $"{ScimConnectorClient.UsersEndpoint}/{Uri.EscapeDataString(scimId)}";
        if (session.Settings.Deprovisioning == ScimDeprovisioning.Delete)
        {
            // RFC 7644 §3.6: 404 means someone removed it already.
            await session.SendAsync(HttpMethod.Delete, path, null, cancellationToken, 404);
            return;
        }

        // RFC 7644 §3.5.2.3: replace one attribute, leaving the rest of a user IdentityHub does not own alone.
        var patch = new JsonObject
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:api:messages:2.0:PatchOp"),
            ["Operations"] = new JsonArray(new JsonObject { ["op"] = "replace", ["path"] = "active", ["value"] = false }),
        };
        await session.SendAsync(HttpMethod.Patch, path, patch, cancellationToken, 404);
    }
}
