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
/// names two states and a receiver that drops versions it has seen loses nothing. The event of a new version is
/// reckoned from what the target last accepted (<see cref="Delivered"/>) and what it was sent since, which may or may
/// not have arrived: a first delivery that failed is still followed by <c>user.created</c>, a deletion that failed by
/// another <c>user.deleted</c>.
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
        if (FingerprintOf(known.SentState) == fingerprint && known.Version > 0)
        {
            return state with { Version = known.Version };
        }

        // From the receiver's point of view. What it accepted last it surely has; a version sent since that failed may or may
        // not have arrived (a timeout after the receiver acted), so both count: it is introduced (created) unless both say it
        // knows the user, and told of a departure (deleted) if either does. When every version arrived, the two are one.
        var attempted = known.SentState;
        var accepted = known.DeliveredState;
        var knowsForSure = Knows(accepted) && Knows(attempted);
        var mayKnow = Knows(accepted) || Knows(attempted);
        var accessChanged = AccessOf(accepted) != access || AccessOf(attempted) != access;
        // A suspended user stays known (disabled) but is never introduced.
        var gone = !state.Exists || state.Left || (state.Active ? !state.HoldsAccess() : !mayKnow);
        var change = gone ? (mayKnow ? ProvisioningEvents.UserDeleted : ProvisioningEvents.None)
            : !state.Active ? ProvisioningEvents.UserDisabled
            : !knowsForSure ? ProvisioningEvents.UserCreated
            : accessChanged ? ProvisioningEvents.AccessChanged
            : ProvisioningEvents.UserUpdated;
        known.Version++;
        known.SentState = change + ":" + fingerprint;
        return state with { Version = known.Version };
    }

    /// <summary>The target accepted the version <see cref="Assign"/> last set (or it needed nothing sent): the receiver now knows that state.</summary>
    public static void Delivered(ConnectorUserState known)
    {
        ArgumentNullException.ThrowIfNull(known);
        known.DeliveredState = known.SentState;
    }

    private static string? FingerprintOf(string? sentState) => sentState?[(sentState.IndexOf(':', StringComparison.Ordinal) + 1)..];

    private static string? AccessOf(string? sentState) => FingerprintOf(sentState)?.Split('.')[0];

    /// <summary>Whether a receiver told <paramref name="sentState"/> knows the user: told of them, and not told they left.</summary>
    private static bool Knows(string? sentState)
    {
        if (sentState is null)
        {
            return false;
        }

        var colon = sentState.IndexOf(':', StringComparison.Ordinal);
        var told = colon > 0 ? sentState[..colon] : ProvisioningEvents.UserUpdated;
        return told is not (ProvisioningEvents.UserDeleted or ProvisioningEvents.None);
    }

    private static string Hash<T>(T value)
    {
        var bytes = SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(value));
        return Convert.ToBase64String(bytes, 0, 16).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
