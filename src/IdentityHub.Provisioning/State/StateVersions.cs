using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Connectors;

namespace IdentityHub.Provisioning.State;

/// <summary>
/// What a delivery says happened, for connectors that name events (webhooks), from the receiver's point of view:
/// the user entered the connector's scope (created), changed (updated, access changed), was suspended (disabled),
/// or left its scope: lost every right in the application, or left the company (deleted, as SCIM deletes them).
/// </summary>
public static class ProvisioningEvents
{
    public const string UserCreated = "user.created";
    public const string UserUpdated = "user.updated";
    public const string UserDisabled = "user.disabled";
    public const string UserDeleted = ConnectorUserState.DeletedEvent;
    public const string AccessChanged = "access.changed";

    /// <summary>Nothing to tell: the user is outside the connector's scope and the receiver does not know them (never did, or was told they left).</summary>
    public const string None = ConnectorUserState.NoneEvent;

    /// <summary>The event of the version in <paramref name="known"/> (set by <see cref="StateVersions.Assign"/>).</summary>
    public static string Of(ConnectorUserState known)
    {
        ArgumentNullException.ThrowIfNull(known);
        var sent = known.SentState;
        var colon = sent?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        return colon > 0 ? sent![..colon] : UserUpdated;
    }
}

/// <summary>
/// The per-(connector, user) version: the same state sent again (a retry, a duplicate after a crash) keeps its
/// version, any different state takes the next one, and the version is saved BEFORE sending, so one number never
/// names two states and a receiver that drops versions it has seen loses nothing.
/// </summary>
public static class StateVersions
{
    /// <summary>Sets <paramref name="known"/>'s Version and SentState for <paramref name="state"/>; returns the state with its version.</summary>
    public static ProvisionedUser Assign(ConnectorUserState known, ProvisionedUser state)
    {
        ArgumentNullException.ThrowIfNull(known);
        ArgumentNullException.ThrowIfNull(state);
        var access = Hash(new { state.Roles, state.Permissions });
        var profile = Hash(state with { Roles = [], Permissions = [], Version = 0 });
        var fingerprint = access + "." + profile;
        var previous = known.SentState;
        var previousFingerprint = previous?[(previous.IndexOf(':', StringComparison.Ordinal) + 1)..];
        if (previousFingerprint == fingerprint && known.Version > 0)
        {
            return state with { Version = known.Version };
        }

        var previousEvent = previous is null ? null : ProvisioningEvents.Of(known);
        var previousAccess = previousFingerprint?.Split('.')[0];
        // Does the receiver know the user now, and should it? A suspended user stays known (disabled) but is never introduced.
        var receiverKnows = previousEvent is not (null or ProvisioningEvents.UserDeleted or ProvisioningEvents.None);
        var gone = !state.Exists || state.Left || (state.Active ? !state.HoldsAccess() : !receiverKnows);
        var change = gone ? (receiverKnows ? ProvisioningEvents.UserDeleted : ProvisioningEvents.None)
            : !state.Active ? ProvisioningEvents.UserDisabled
            : !receiverKnows ? ProvisioningEvents.UserCreated
            : previousAccess != access ? ProvisioningEvents.AccessChanged
            : ProvisioningEvents.UserUpdated;
        known.Version++;
        known.SentState = change + ":" + fingerprint;
        return state with { Version = known.Version };
    }

    private static string Hash<T>(T value)
    {
        var bytes = SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(value));
        return Convert.ToBase64String(bytes, 0, 16).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
