using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IdentityHub.Core;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Inbound;
using IdentityHub.Data;
using IdentityHub.Data.Inbound;
using IdentityHub.Provisioning.Connectors;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Provisioning.Inbound;

/// <summary>
/// A source as an administrator sends it. <see cref="Subtrees"/> are the departments (with everything below) it may
/// write; <see cref="OwnedAttributes"/> null means <see cref="SourceAttributes.DefaultOwned"/>; <see cref="Settings"/>
/// and the write-only <see cref="Secret"/> are for pull (REST) sources; <see cref="InviteNewUsers"/> mails an invitation to each
/// person the source creates with an e-mail address.
/// </summary>
public sealed record InboundSourceInput(
    string? Name, string? Kind, IReadOnlyList<Guid>? Subtrees, IReadOnlyList<string>? OwnedAttributes, string? ConflictPolicy,
    bool Enabled = true, JsonElement Settings = default, string? Secret = null, bool InviteNewUsers = false);

/// <summary>A push source's bearer token, shown once; <see cref="Hint"/> is what the console shows afterwards.</summary>
public sealed record IssuedToken(string Token, string Hint);

public sealed record InboundSourceCreated(InboundSource Source, IssuedToken? Token);

/// <summary>
/// The OA and HR systems the organisation comes in from: create, change, delete, and the push sources' bearer tokens
/// (issued, rotated, revoked; kept as a SHA-256 digest, shown once). Only super administrators manage sources: a
/// source writes the directory. Every change is audited; a refusal is a <see cref="RuleViolation"/> before any write.
/// </summary>
public sealed class InboundSources(
    IdentityHubDbContext db, ConnectorSecrets secrets, IEnumerable<IInboundSettingsCheck> settingsChecks, AuditTrail audit, CurrentActor actor,
    TimeProvider clock)
{
    public const int NameMaxLength = 200;
    public const int SettingsMaxLength = 16000;
    public const string TokenPrefix = "ihsrc_";

    public async Task<InboundSourceCreated> CreateAsync(InboundSourceInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        EnsureSuperAdministrator();
        var (kind, owned, policy, settings) = await CheckAsync(input, existingId: null, hasStoredSecret: false, cancellationToken);
        var now = Revision.Now(clock);
        var source = new InboundSource
        {
            Id = Guid.CreateVersion7(),
            Name = input.Name!.Trim(),
            Kind = kind,
            Enabled = input.Enabled,
            OwnedAttributes = owned,
            ConflictPolicy = policy,
            InviteNewUsers = input.InviteNewUsers,
            Settings = settings,
            ProtectedSecret = string.IsNullOrEmpty(input.Secret) ? null : secrets.Protect(input.Secret),
            NextIncrementAt = kind == InboundSourceKind.Rest ? now : null,
            CreatedAt = now,
            UpdatedAt = now,
        };
        source.Subtrees = [.. input.Subtrees!.Distinct().Select(d => new InboundSourceSubtree { SourceId = source.Id, DepartmentId = d })];
        var token = kind == InboundSourceKind.Scim ? NewToken(source, now) : null;
        await db.InTransactionAsync(async () =>
        {
            db.InboundSources.Add(source);
            await audit.RecordAsync("source.created", "source", source.Id.ToString(), null, SnapshotOf(source), cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return new InboundSourceCreated(source, token);
    }

    public async Task<InboundSource> UpdateAsync(Guid id, InboundSourceInput input, long? expectedRevision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        EnsureSuperAdministrator();
        var source = await FindAsync(id, cancellationToken);
        Revision.Check("source", source.UpdatedAt, expectedRevision);
        var (kind, owned, policy, settings) = await CheckAsync(input, id, source.ProtectedSecret is not null, cancellationToken);
        if (kind != source.Kind)
        {
            throw RuleViolation.Field("kind", "A source's kind cannot change; create a new source instead.");
        }

        var before = SnapshotOf(source);
        source.Name = input.Name!.Trim();
        source.Enabled = input.Enabled;
        source.OwnedAttributes = owned;
        source.ConflictPolicy = policy;
        source.InviteNewUsers = input.InviteNewUsers;
        source.Settings = settings;
        if (!string.IsNullOrEmpty(input.Secret))
        {
            source.ProtectedSecret = secrets.Protect(input.Secret);
        }

        var subtrees = input.Subtrees!.Distinct().ToList();
        source.Subtrees.RemoveAll(t => !subtrees.Contains(t.DepartmentId));
        source.Subtrees.AddRange(subtrees.Where(d => source.Subtrees.TrueForAll(t => t.DepartmentId != d))
            .Select(d => new InboundSourceSubtree { SourceId = id, DepartmentId = d }));
        var after = SnapshotOf(source);
        if (before == after && string.IsNullOrEmpty(input.Secret))
        {
            return source;
        }

        source.UpdatedAt = Revision.After(source.UpdatedAt, clock);
        await db.InTransactionAsync(async () =>
        {
            await audit.RecordAsync("source.updated", "source", id.ToString(), before, after with { SecretChanged = !string.IsNullOrEmpty(input.Secret) },
                cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return source;
    }

    /// <summary>Deletes the source; its people and departments stay, no longer owned by any source.</summary>
    public async Task DeleteAsync(Guid id, long? expectedRevision, CancellationToken cancellationToken)
    {
        EnsureSuperAdministrator();
        var source = await FindAsync(id, cancellationToken);
        Revision.Check("source", source.UpdatedAt, expectedRevision);
        await db.InTransactionAsync(async () =>
        {
            // SQLite does not apply ON DELETE SET NULL to rows EF does not track: release them explicitly.
            await db.Users.Where(u => u.SourceId == id).ExecuteUpdateAsync(s => s.SetProperty(u => u.SourceId, (Guid?)null), cancellationToken);
            await db.Departments.Where(d => d.SourceId == id).ExecuteUpdateAsync(s => s.SetProperty(d => d.SourceId, (Guid?)null), cancellationToken);
            db.InboundSources.Remove(source);
            await audit.RecordAsync("source.deleted", "source", id.ToString(), SnapshotOf(source), null, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
    }

    /// <summary>Issues a new bearer token for a push source; the previous one stops working at once.</summary>
    public async Task<IssuedToken> IssueTokenAsync(Guid id, CancellationToken cancellationToken)
    {
        EnsureSuperAdministrator();
        var source = await FindAsync(id, cancellationToken);
        if (source.Kind != InboundSourceKind.Scim)
        {
            throw RuleViolation.Field("kind", "Only a SCIM (push) source has a bearer token; a REST source is read by IdentityHub.");
        }

        var token = NewToken(source, Revision.Now(clock));
        await db.InTransactionAsync(async () =>
        {
            await audit.RecordAsync("source.token-issued", "source", id.ToString(), null, new { hint = token.Hint }, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return token;
    }

    /// <summary>Revokes the push source's token: its next request is refused.</summary>
    public async Task RevokeTokenAsync(Guid id, CancellationToken cancellationToken)
    {
        EnsureSuperAdministrator();
        var source = await FindAsync(id, cancellationToken);
        if (source.TokenHash is null)
        {
            return;
        }

        var hint = source.TokenHint;
        source.TokenHash = null;
        source.TokenHint = null;
        source.TokenIssuedAt = null;
        await db.InTransactionAsync(async () =>
        {
            await audit.RecordAsync("source.token-revoked", "source", id.ToString(), new { hint }, null, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
    }

    /// <summary>The enabled push source a bearer token belongs to, or null (unknown, revoked, disabled).</summary>
    public async Task<InboundSource?> AuthenticateAsync(string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token) || !token.StartsWith(TokenPrefix, StringComparison.Ordinal) || token.Length > 200)
        {
            return null;
        }

        // The token is 256 random bits: its SHA-256 finds the row, and an equal digest is the proof (a lookup by digest leaks nothing usable).
        var hash = HashOf(token);
        return await db.InboundSources.AsNoTracking()
            .SingleOrDefaultAsync(s => s.TokenHash == hash && s.Enabled && s.Kind == InboundSourceKind.Scim, cancellationToken);
    }

    public static string HashOf(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static IssuedToken NewToken(InboundSource source, DateTimeOffset now)
    {
        var token = TokenPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        source.TokenHash = HashOf(token);
        source.TokenHint = token[..(TokenPrefix.Length + 4)];
        source.TokenIssuedAt = now;
        return new IssuedToken(token, source.TokenHint);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private async Task<(InboundSourceKind Kind, string Owned, OwnershipConflictPolicy Policy, string Settings)> CheckAsync(
        InboundSourceInput input, Guid? existingId, bool hasStoredSecret, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var name = input.Name?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            errors.Add("name", "A name is required.");
        }
        else if (name.Length > NameMaxLength)
        {
            errors.Add("name", $"The name may have up to {NameMaxLength} characters.");
        }
        else if (await db.InboundSources.AnyAsync(s => s.Name == name && s.Id != existingId, cancellationToken))
        {
            errors.Add("name", $"A source named '{name}' exists already.");
        }

        InboundSourceKind kind = default;
        if (!Enum.TryParse(input.Kind, ignoreCase: true, out kind) || !Enum.IsDefined(kind) || int.TryParse(input.Kind, out _))
        {
            errors.Add("kind", "kind must be \"scim\" (the source pushes) or \"rest\" (IdentityHub pulls).");
        }

        OwnershipConflictPolicy policy = default;
        if (input.ConflictPolicy is not null
            && (!Enum.TryParse(input.ConflictPolicy, ignoreCase: true, out policy) || !Enum.IsDefined(policy) || int.TryParse(input.ConflictPolicy, out _)))
        {
            errors.Add("conflictPolicy", "conflictPolicy must be \"refuse\" (others may not change what the source owns) or \"overwrite\" (they may; the source's next value wins).");
        }

        var owned = input.OwnedAttributes ?? SourceAttributes.DefaultOwned;
        foreach (var unknown in owned.Where(a => !SourceAttributes.All.Contains(a)))
        {
            errors.Add("ownedAttributes", $"'{unknown}' is not an attribute a source can own; use {string.Join(", ", SourceAttributes.All)}.");
        }

        var subtrees = input.Subtrees ?? [];
        if (subtrees.Count == 0)
        {
            errors.Add("subtrees", "Name at least one department: the source writes into it and everything below it.");
        }

        var distinct = subtrees.Distinct().ToList();
        var known = await db.Departments.Where(d => distinct.Contains(d.Id)).Select(d => d.Id).ToListAsync(cancellationToken);
        foreach (var missing in distinct.Except(known))
        {
            errors.Add("subtrees", $"No department with id '{missing}'.");
        }

        if (input.Secret is { Length: > Connectors.Connectors.SecretMaxLength })
        {
            errors.Add("secret", $"The secret may have up to {Connectors.Connectors.SecretMaxLength} characters.");
        }

        var settings = input.Settings.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? "{}" : input.Settings.GetRawText();
        if (input.Settings.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.Object))
        {
            errors.Add("settings", "settings must be a JSON object.");
        }
        else if (settings.Length > SettingsMaxLength)
        {
            errors.Add("settings", $"The settings may have up to {SettingsMaxLength} characters.");
        }
        else
        {
            foreach (var check in settingsChecks.Where(c => c.Kind == kind))
            {
                check.Check(input.Settings, hasStoredSecret || !string.IsNullOrEmpty(input.Secret), errors);
            }
        }

        errors.ThrowIfAny();
        return (kind, SourceAttributes.Format(owned), policy, settings);
    }

    private void EnsureSuperAdministrator()
    {
        if (!actor.Value.IsSuperAdmin)
        {
            throw RuleViolation.Coded(ViolationKind.Forbidden, "Only super administrators manage sources: a source writes the directory.", "inbound.superAdminOnly");
        }
    }

    private async Task<InboundSource> FindAsync(Guid id, CancellationToken cancellationToken) =>
        await db.InboundSources.Include(s => s.Subtrees).SingleOrDefaultAsync(s => s.Id == id, cancellationToken)
        ?? throw RuleViolation.NotFound("source", id);

    private static SourceSnapshot SnapshotOf(InboundSource s) =>
        new(s.Name, s.Kind.ToString(), s.Enabled, s.OwnedAttributes, s.ConflictPolicy.ToString(), [.. s.Subtrees.Select(t => t.DepartmentId).Order()], s.Settings,
            s.InviteNewUsers);

    private sealed record SourceSnapshot(
        string Name, string Kind, bool Enabled, string OwnedAttributes, string ConflictPolicy, IReadOnlyList<Guid> Subtrees, string Settings, bool InviteNewUsers)
    {
        public bool SecretChanged { get; init; }

        public bool Equals(SourceSnapshot? other) =>
            other is not null && Name == other.Name && Kind == other.Kind && Enabled == other.Enabled && OwnedAttributes == other.OwnedAttributes
            && ConflictPolicy == other.ConflictPolicy && Subtrees.SequenceEqual(other.Subtrees) && Settings == other.Settings
            && InviteNewUsers == other.InviteNewUsers;

        public override int GetHashCode() => HashCode.Combine(Name, Kind, OwnedAttributes);
    }
}

/// <summary>A source kind's check of its settings (the REST source's URL templates, paging and mapping), adding to <paramref name="errors"/>.</summary>
public interface IInboundSettingsCheck
{
    InboundSourceKind Kind { get; }

    void Check(JsonElement settings, bool hasSecret, FieldErrors errors);
}
