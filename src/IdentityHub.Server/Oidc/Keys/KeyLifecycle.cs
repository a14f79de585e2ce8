using IdentityHub.Data.Keys;

namespace IdentityHub.Server.Oidc.Keys;

/// <summary>Where a key is in its life: published ahead, signing, published after, gone.</summary>
public enum KeyState
{
    /// <summary>Published in JWKS so relying parties cache it; does not sign yet.</summary>
    Next,

    /// <summary>Signs (or encrypts) every new token; published.</summary>
    Active,

    /// <summary>No longer signs; published until the tokens it signed have expired.</summary>
    Retired,

    /// <summary>Its tokens have expired: neither published nor used.</summary>
    Expired,
}

/// <summary>What a schedule pass must write: keys to create, retirements and removals to record.</summary>
public sealed record KeyPlan(
    IReadOnlyList<DateTimeOffset> Create,
    IReadOnlyList<(string Id, DateTimeOffset At)> Activate,
    IReadOnlyList<(string Id, DateTimeOffset At)> Retire,
    IReadOnlyList<string> Remove)
{
    public bool IsEmpty => Create.Count == 0 && Activate.Count == 0 && Retire.Count == 0 && Remove.Count == 0;
}

/// <summary>
/// The key schedule as pure functions of the stored keys of one use and the time, so every node
/// computes the same answer and the rules can be tested without a database.
/// </summary>
public static class KeyLifecycle
{
    /// <summary>The state of each key at <paramref name="now"/>; the newest key whose time has come is the active one.</summary>
    public static IReadOnlyDictionary<string, KeyState> StatesAt(
        IReadOnlyCollection<SigningKey> keys, DateTimeOffset now, TimeSpan retainAfterRetirement)
    {
        var states = new Dictionary<string, KeyState>(StringComparer.Ordinal);
        var activeFound = false;
        DateTimeOffset? successorActivatesAt = null;
        foreach (var key in keys.OrderByDescending(k => k.ActivatesAt).ThenByDescending(k => k.Generation))
        {
            if (key.RemovedAt is not null)
            {
                states[key.Id] = KeyState.Expired;
                continue;
            }

            if (key.ActivatesAt > now)
            {
                states[key.Id] = KeyState.Next;
                continue;
            }

            if (!activeFound && key.RetiredAt is null)
            {
                states[key.Id] = KeyState.Active;
                activeFound = true;
            }
            else
            {
                var retiredAt = RetiredAt(key, successorActivatesAt, now);
                states[key.Id] = retiredAt + retainAfterRetirement <= now ? KeyState.Expired : KeyState.Retired;
            }

            successorActivatesAt = key.ActivatesAt;
        }

        return states;
    }

    /// <summary>
    /// What is due at <paramref name="now"/>: record the retirement of keys a newer key replaced, remove
    /// keys whose tokens have expired, make sure a key signs, and create the next key
    /// <see cref="KeySettings.SafePublication"/> before the active one has served <see cref="KeySettings.RotationInterval"/>.
    /// </summary>
    public static KeyPlan Plan(
        IReadOnlyCollection<SigningKey> keys, DateTimeOffset now, KeySettings settings, TimeSpan retainAfterRetirement)
    {
        var states = StatesAt(keys, now, retainAfterRetirement);
        var live = keys.Where(k => k.RemovedAt is null).OrderByDescending(k => k.ActivatesAt).ThenByDescending(k => k.Generation).ToList();

        var retire = new List<(string, DateTimeOffset)>();
        DateTimeOffset? successorActivatesAt = null;
        foreach (var key in live)
        {
            if (key.ActivatesAt <= now && states[key.Id] != KeyState.Active && key.RetiredAt is null)
            {
                retire.Add((key.Id, RetiredAt(key, successorActivatesAt, now)));
            }

            if (key.ActivatesAt <= now)
            {
                successorActivatesAt = key.ActivatesAt;
            }
        }

        var remove = live.Where(k => states[k.Id] == KeyState.Expired).Select(k => k.Id).ToList();

        var create = new List<DateTimeOffset>();
        var activate = new List<(string, DateTimeOffset)>();
        var active = live.FirstOrDefault(k => states[k.Id] == KeyState.Active);
        var next = live.Where(k => states[k.Id] == KeyState.Next).MinBy(k => k.ActivatesAt);
        if (active is null)
        {
            // Nothing may sign: the next key (if any) starts now rather than leaving the server without a key.
            if (next is not null)
            {
                activate.Add((next.Id, now));
                next = null;
            }
            else
            {
                create.Add(now);
            }
        }

        var activeSince = active?.ActivatesAt ?? now;
        var rotationDue = activeSince + settings.RotationInterval;
        if (next is null && now >= rotationDue - settings.SafePublication)
        {
            // A key always gets its full publication time, even when the schedule was missed (the server was down), and
            // never less than two check intervals: no node may sign with a key another node's periodic pass has not loaded.
            create.Add(Max(rotationDue, now + settings.SafePublication));
        }

        return new KeyPlan(create, activate, retire, remove);
    }

    private static DateTimeOffset RetiredAt(SigningKey key, DateTimeOffset? successorActivatesAt, DateTimeOffset now) =>
        key.RetiredAt ?? successorActivatesAt ?? now;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
