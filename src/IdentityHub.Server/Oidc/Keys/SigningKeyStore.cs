using System.Security.Cryptography;
using IdentityHub.Core.Audit;
using IdentityHub.Data;
using IdentityHub.Data.Keys;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;

namespace IdentityHub.Server.Oidc.Keys;

/// <summary>
/// The server's token signing and encryption keys, kept in the database with their private halves
/// protected by Data Protection, so every node of a cluster signs with the same keys.
/// Every change is audited in its transaction: a key exists, signs or retires exactly when the trail says so.
/// Other nodes hear of every committed change through the cluster change interceptor, like any other saved key row.
/// </summary>
public sealed class SigningKeyStore(
    IdentityHubDbContext db, IDataProtectionProvider dataProtection, AuditTrail audit, TimeProvider clock, KeySettings settings,
    ILogger<SigningKeyStore> logger)
{
    private const int RsaKeySize = 2048;
    private readonly IDataProtector _protector = dataProtection.CreateProtector("IdentityHub.SigningKeys.v1");

    public static readonly IReadOnlyList<string> Uses = [KeyUses.Signing, KeyUses.Encryption];

    /// <summary>Creates a signing and an encryption key when none is in service (first start).</summary>
    public async Task EnsureKeysAsync(TimeSpan retainAfterRetirement, CancellationToken cancellationToken)
    {
        foreach (var use in Uses)
        {
            await ApplyScheduleAsync(use, retainAfterRetirement, cancellationToken);
        }
    }

    /// <summary>Every key of every use, removed ones included, oldest first.</summary>
    public async Task<IReadOnlyList<SigningKey>> ListAsync(CancellationToken cancellationToken) =>
        await db.SigningKeys.AsNoTracking().OrderBy(k => k.Use).ThenBy(k => k.Generation).ToListAsync(cancellationToken);

    /// <summary>
    /// Writes what the schedule says is due for one key use. Safe when several nodes run it at once:
    /// creations collide on the unique generation and the loser simply reloads; the other writes are idempotent.
    /// </summary>
    public async Task<KeyPlan> ApplyScheduleAsync(string use, TimeSpan retainAfterRetirement, CancellationToken cancellationToken)
    {
        var keys = await db.SigningKeys.Where(k => k.Use == use).ToListAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var plan = KeyLifecycle.Plan(keys, now, settings, retainAfterRetirement);
        if (plan.IsEmpty)
        {
            return plan;
        }

        foreach (var (id, at) in plan.Activate)
        {
            keys.Single(k => k.Id == id).ActivatesAt = at;
        }

        foreach (var (id, at) in plan.Retire)
        {
            keys.Single(k => k.Id == id).RetiredAt = at;
        }

        foreach (var id in plan.Remove)
        {
            keys.Single(k => k.Id == id).RemovedAt = now;
        }

        var generation = keys.Count == 0 ? 0 : keys.Max(k => k.Generation);
        var created = plan.Create.Select(activatesAt => CreateKey(use, ++generation, activatesAt)).ToList();
        db.SigningKeys.AddRange(created);

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await RecordScheduleAsync(use, plan, created, StatesAfter(keys.Concat(created), retainAfterRetirement), cancellationToken);
        if (await TrySaveAsync(cancellationToken))
        {
            await transaction.CommitAsync(cancellationToken);
            foreach (var activatesAt in plan.Create)
            {
                logger.LogInformation("Created a {Use} key to take over at {ActivatesAt:O}", use, activatesAt);
            }

            foreach (var id in plan.Remove)
            {
                logger.LogInformation("Removed {Use} key {KeyId} from service: the tokens it protected have expired", use, id);
            }
        }

        return plan;
    }

    /// <summary>
    /// The first step of a rotation by hand: the next key of <paramref name="use"/>, published but not signing. An existing
    /// next key is kept; otherwise one is created to activate at <paramref name="activatesAt"/> (a safe time at which every
    /// node's periodic pass has it, so a rotation cut short still ends well).
    /// </summary>
    public async Task<SigningKey> PrepareNextAsync(
        string use, DateTimeOffset activatesAt, TimeSpan retainAfterRetirement, CancellationToken cancellationToken)
    {
        // Two attempts: a node creating the next key at the same instant takes the generation we wanted.
        for (var attempt = 1; ; attempt++)
        {
            var keys = await db.SigningKeys.AsNoTracking().Where(k => k.Use == use).ToListAsync(cancellationToken);
            var states = KeyLifecycle.StatesAt(keys, clock.GetUtcNow(), retainAfterRetirement);
            if (keys.Where(k => states[k.Id] == KeyState.Next).MinBy(k => k.ActivatesAt) is { } existing)
            {
                return existing;
            }

            var next = CreateKey(use, keys.Count == 0 ? 1 : keys.Max(k => k.Generation) + 1, activatesAt);
            db.SigningKeys.Add(next);
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await audit.RecordAsync("key.created", "signing-key", next.Id, before: null, new { use, kid = next.Id, next.ActivatesAt }, cancellationToken);
            if (await TrySaveAsync(cancellationToken))
            {
                await transaction.CommitAsync(cancellationToken);
                logger.LogInformation("Created a {Use} key {KeyId} for a rotation by hand; it is published and signs once every node has it", use, next.Id);
                return next;
            }

            if (attempt == 2)
            {
                throw new InvalidOperationException("Another node kept changing the keys; try the rotation again.");
            }
        }
    }

    /// <summary>
    /// Makes the published key <paramref name="keyId"/> active now and retires the active one. Call it only once every live
    /// node publishes the key. Returns the activated and the retired key (none when the key already signed).
    /// </summary>
    public async Task<(SigningKey Activated, SigningKey? Retired)> ActivateNowAsync(
        string use, string keyId, TimeSpan retainAfterRetirement, CancellationToken cancellationToken)
    {
        var keys = await db.SigningKeys.Where(k => k.Use == use).ToListAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var states = KeyLifecycle.StatesAt(keys, now, retainAfterRetirement);
        var next = keys.SingleOrDefault(k => k.Id == keyId)
            ?? throw new InvalidOperationException($"The {use} key {keyId} is gone; try the rotation again.");
        if (states[next.Id] != KeyState.Next)
        {
            // Another rotation or the schedule made it sign in the meantime: nothing left to do.
            db.ChangeTracker.Clear();
            return (next, null);
        }

        var active = keys.FirstOrDefault(k => states[k.Id] == KeyState.Active);
        next.ActivatesAt = now;
        if (active is not null)
        {
            active.RetiredAt = now;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await audit.RecordAsync("key.rotated", "signing-key", next.Id, before: null,
            new { use, activated = next.Id, retired = active?.Id, scheduled = false }, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (next, active);
    }

    /// <summary>
    /// A rotation by hand that a live node did not confirm in time: the key stays published and signs at
    /// <paramref name="activatesAt"/> (or earlier, if the schedule had it so), when every node's periodic pass has it.
    /// </summary>
    public async Task<SigningKey> DeferActivationAsync(
        string use, string keyId, DateTimeOffset activatesAt, IReadOnlyList<string> laggingNodes, CancellationToken cancellationToken)
    {
        var key = await db.SigningKeys.SingleOrDefaultAsync(k => k.Use == use && k.Id == keyId, cancellationToken)
            ?? throw new InvalidOperationException($"The {use} key {keyId} is gone; try the rotation again.");
        if (key.ActivatesAt > activatesAt)
        {
            key.ActivatesAt = activatesAt;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await audit.RecordAsync("key.rotation-deferred", "signing-key", key.Id, before: null,
            new { use, kid = key.Id, key.ActivatesAt, lagging = laggingNodes }, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return key;
    }

    /// <summary>
    /// One audit event per change a schedule pass writes (IdentityHub itself is the actor): a key created to be
    /// published ahead, a key made active because nothing signed, a rotation (the successor took over and the
    /// old key is recorded as retired), a key removed once its tokens expired.
    /// </summary>
    private async Task RecordScheduleAsync(
        string use, KeyPlan plan, IReadOnlyList<SigningKey> created, IReadOnlyDictionary<string, KeyState> states, CancellationToken cancellationToken)
    {
        foreach (var key in created)
        {
            await audit.RecordAsync("key.created", "signing-key", key.Id, before: null, new { use, kid = key.Id, key.ActivatesAt }, cancellationToken);
        }

        foreach (var (id, at) in plan.Activate)
        {
            await audit.RecordAsync("key.activated", "signing-key", id, before: null, new { use, kid = id, activatesAt = at }, cancellationToken);
        }

        var active = states.FirstOrDefault(s => s.Value == KeyState.Active).Key;
        foreach (var (id, at) in plan.Retire)
        {
            await audit.RecordAsync("key.rotated", "signing-key", active ?? id, before: null,
                new { use, activated = active, retired = id, retiredAt = at, scheduled = true }, cancellationToken);
        }

        foreach (var id in plan.Remove)
        {
            await audit.RecordAsync("key.removed", "signing-key", id, before: null, new { use, kid = id }, cancellationToken);
        }
    }

    private IReadOnlyDictionary<string, KeyState> StatesAfter(IEnumerable<SigningKey> keys, TimeSpan retainAfterRetirement) =>
        KeyLifecycle.StatesAt(keys.ToList(), clock.GetUtcNow(), retainAfterRetirement);

    /// <summary>The usable key behind a stored row, its private half unprotected.</summary>
    public SecurityKey Unprotect(SigningKey row)
    {
        var pem = _protector.Unprotect(row.ProtectedKey);
        if (IsEcdsa(row.Algorithm))
        {
            var ecdsa = ECDsa.Create();
            ecdsa.ImportFromPem(pem);
            return new ECDsaSecurityKey(ecdsa) { KeyId = row.Id };
        }

        var rsa = RSA.Create();
        rsa.ImportFromPem(pem);
        return new RsaSecurityKey(rsa) { KeyId = row.Id };
    }

    private static bool IsEcdsa(string algorithm) => algorithm.StartsWith("ES", StringComparison.Ordinal);

    private SigningKey CreateKey(string use, int generation, DateTimeOffset activatesAt)
    {
        var algorithm = settings.AlgorithmFor(use);
        string pem;
        if (IsEcdsa(algorithm))
        {
            // RFC 7518 §3.4: ES256 is ECDSA on the P-256 curve with SHA-256.
            using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            pem = ecdsa.ExportPkcs8PrivateKeyPem();
        }
        else
        {
            using var rsa = RSA.Create(RsaKeySize);
            pem = rsa.ExportPkcs8PrivateKeyPem();
        }

        return new SigningKey
        {
            Id = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
            Use = use,
            Generation = generation,
            Algorithm = algorithm,
            ProtectedKey = _protector.Protect(pem),
            CreatedAt = clock.GetUtcNow(),
            ActivatesAt = activatesAt,
        };
    }

    private async Task<bool> TrySaveAsync(CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException ex)
        {
            // Another node created the same generation first: its key wins, ours is dropped.
            logger.LogInformation("Another node changed the keys at the same time ({Reason}); reloading", ex.InnerException?.Message ?? ex.Message);
            db.ChangeTracker.Clear();
            return false;
        }
    }
}
