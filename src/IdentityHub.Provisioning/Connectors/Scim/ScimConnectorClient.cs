using System.Text.Json;
using IdentityHub.Data.Provisioning;

namespace IdentityHub.Provisioning.Connectors.Scim;

/// <summary>What a user's state asks of the SCIM target.</summary>
public enum ScimAction
{
    /// <summary>Create or replace the user with the current state.</summary>
    Upsert,

    /// <summary>Set <c>active</c> false if the user is there; never create them for that.</summary>
    Deactivate,

    /// <summary>Delete the user if they are there.</summary>
    Delete,
}

/// <summary>
/// The SCIM 2.0 client (RFC 7643/7644): pushes one user's current state for an application. Finds the
/// user by the known SCIM id, else by <c>userName</c>; replaces (PUT) or creates (POST); deletes users who
/// are gone; in groups mode keeps one Group per role with the user's membership patched. It removes or
/// deactivates only accounts IdentityHub provisioned (the known SCIM id, or our user id as <c>externalId</c>),
/// never a downstream account that merely shares the <c>userName</c>.
/// </summary>
public sealed class ScimConnectorClient(ScimSessions sessions) : IConnectorClient
{
    public const string UsersEndpoint = "/Users";

    public ConnectorKind Kind => ConnectorKind.Scim;

    /// <summary>
    /// Deleted users are deleted; suspended ones deactivated; someone who left the company, or a user without any
    /// role in the application (unless the connector provisions all users), is removed per <see cref="ScimSettings.Deprovisioning"/>.
    /// </summary>
    public static ScimAction Decide(ProvisionedUser state, ScimSettings settings)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(settings);
        var deprovision = settings.Deprovisioning == ScimDeprovisioning.Delete ? ScimAction.Delete : ScimAction.Deactivate;
        if (!state.Exists)
        {
            return ScimAction.Delete;
        }

        if (state.Left)
        {
            return deprovision;
        }

        if (!state.Active)
        {
            return ScimAction.Deactivate;
        }

        return !settings.AllUsers && !state.HoldsAccess() ? deprovision : ScimAction.Upsert;
    }

    public async Task<DeliveryOutcome> DeliverAsync(Connector connector, string? secret, ProvisionedUser state, ConnectorUserState known, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(known);
        try
        {
            var settings = ScimSessions.SettingsOf(connector);
            var session = await sessions.OpenAsync(settings, secret, cancellationToken);
            return Decide(state, settings) switch
            {
                ScimAction.Delete => await DeleteAsync(session, state, known.ExternalId, cancellationToken),
                ScimAction.Deactivate => await DeactivateAsync(session, state, known.ExternalId, cancellationToken),
                _ => await UpsertAsync(session, state, known.ExternalId, cancellationToken),
            };
        }
        catch (ScimCallException failure)
        {
            return failure.Outcome;
        }
    }

    /// <summary>The body to PUT or POST, with the manager's SCIM id looked up by their externalId.</summary>
    public static async Task<ScimUser> DesiredAsync(ScimSession session, ProvisionedUser state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(state);
        var managerId = state.ManagerUserId is { } manager ? await FindIdAsync(session, ScimFilter.Equal("externalId", manager), cancellationToken) : null;
        return ScimUser.From(state, session.Settings, managerId);
    }

    private static async Task<DeliveryOutcome> UpsertAsync(ScimSession session, ProvisionedUser state, string? knownId, CancellationToken cancellationToken)
    {
        var desired = await DesiredAsync(session, state, cancellationToken);
        var id = await ReplaceOrCreateAsync(session, desired, knownId, cancellationToken);
        if (session.Settings.GroupsMode)
        {
            await ScimGroups.SyncMembershipAsync(session, id, desired.Roles, cancellationToken);
        }

        return new DeliveryOutcome.Delivered(id);
    }

    private static async Task<DeliveryOutcome> DeactivateAsync(ScimSession session, ProvisionedUser state, string? knownId, CancellationToken cancellationToken)
    {
        var id = knownId ?? await FindProvisionedIdAsync(session, state, cancellationToken);
        if (id is null)
        {
            return new DeliveryOutcome.NothingToSend("Not provisioned at the target: nothing to deactivate.");
        }

        var desired = (await DesiredAsync(session, state, cancellationToken)) with { Active = false };
        var answer = await session.SendAsync(HttpMethod.Put, $"{UsersEndpoint}/{Uri.EscapeDataString(id)}", desired.ToResource(), cancellationToken, 404);
        if (answer.Status == 404)
        {
            // RFC 7644 §3.5.1: gone downstream; a deactivated user need not be recreated, and the id names nobody now.
            return new DeliveryOutcome.Delivered(null, Removed: true);
        }

        if (session.Settings.GroupsMode)
        {
            await ScimGroups.SyncMembershipAsync(session, id, [], cancellationToken);
        }

        return new DeliveryOutcome.Delivered(id);
    }

    private static async Task<DeliveryOutcome> DeleteAsync(ScimSession session, ProvisionedUser state, string? knownId, CancellationToken cancellationToken)
    {
        var id = knownId ?? await FindProvisionedIdAsync(session, state, cancellationToken);
        if (id is null)
        {
            return new DeliveryOutcome.NothingToSend("Not provisioned at the target: nothing to delete.");
        }

        // RFC 7644 §3.6: 404 means it is already gone, which is what we wanted.
        await session.SendAsync(HttpMethod.Delete, $"{UsersEndpoint}/{Uri.EscapeDataString(id)}", null, cancellationToken, 404);
        // The SCIM id is forgotten: a later grant creates the user (POST) instead of first PUTting to an id that is gone.
        return new DeliveryOutcome.Delivered(null, Removed: true);
    }

    /// <summary>PUT to the known id; on 404 forget it; find by userName; POST; on 409 find again and PUT. Returns the SCIM id.</summary>
    public static async Task<string> ReplaceOrCreateAsync(ScimSession session, ScimUser desired, string? knownId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(desired);
        if (knownId is not null && await TryReplaceAsync(session, knownId, desired, cancellationToken))
        {
            return knownId;
        }

        var found = await FindIdAsync(session, ScimFilter.Equal("userName", desired.UserName), cancellationToken);
        if (found is not null && await TryReplaceAsync(session, found, desired, cancellationToken))
        {
            return found;
        }

        // RFC 7644 §3.3: 201 with the new resource; 409 (uniqueness) when someone created it meanwhile.
        var created = await session.SendAsync(HttpMethod.Post, UsersEndpoint, desired.ToResource(), cancellationToken, 409);
        if (created.Status != 409)
        {
            return IdOf(created.Body) ?? throw new ScimCallException(new DeliveryOutcome.Permanent($"POST {UsersEndpoint}: {created.Status} without an id in the answer."));
        }

        var existing = await FindIdAsync(session, ScimFilter.Equal("userName", desired.UserName), cancellationToken)
            ?? throw new ScimCallException(new DeliveryOutcome.Retry($"POST {UsersEndpoint}: 409 uniqueness, but no user with that userName is visible yet.", 409));
        if (!await TryReplaceAsync(session, existing, desired, cancellationToken))
        {
            throw new ScimCallException(new DeliveryOutcome.Retry($"PUT {UsersEndpoint}: the user vanished while being created elsewhere.", 404));
        }

        return existing;
    }

    private static async Task<bool> TryReplaceAsync(ScimSession session, string id, ScimUser desired, CancellationToken cancellationToken)
    {
        // RFC 7644 §3.5.1: PUT replaces; 404 when the id no longer exists there.
        var answer = await session.SendAsync(HttpMethod.Put, $"{UsersEndpoint}/{Uri.EscapeDataString(id)}", desired.ToResource(), cancellationToken, 404);
        return answer.Status != 404;
    }

    /// <summary>
    /// A user we provisioned whose SCIM id we lost (a crash between the target's answer and our record): found by the
    /// externalId we set, our user id. A namesake by userName (a local <c>admin</c>) is not ours to remove.
    /// </summary>
    private static Task<string?> FindProvisionedIdAsync(ScimSession session, ProvisionedUser state, CancellationToken cancellationToken) =>
        FindIdAsync(session, ScimFilter.Equal("externalId", state.UserId), cancellationToken);

    private static async Task<string?> FindIdAsync(ScimSession session, string filter, CancellationToken cancellationToken) =>
        (await session.FindAsync(UsersEndpoint, filter, cancellationToken)).Select(r => IdOf(r)).FirstOrDefault(id => id is not null);

    public static string? IdOf(JsonElement? resource) =>
        resource is { ValueKind: JsonValueKind.Object } r && r.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
}
