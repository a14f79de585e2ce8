using System.Text.Json;
using IdentityHub.Core;
using IdentityHub.Core.Inbound;
using IdentityHub.Provisioning.Inbound;
using IdentityHub.Provisioning.Queries;
using IdentityHub.Server.Admin.Provisioning;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace IdentityHub.Server.Admin.Sources;

/// <summary>
/// The console's source form: what the admin API's create and update take (kind, name, enabled, subtrees through department
/// pickers, owned attributes as checkboxes, conflict policy, REST settings as JSON text, the write-only secret) and the
/// revision the page was read at (If-Match). A blank secret means "keep the stored one".
/// </summary>
public sealed class SourceForm
{
    public const string Prefix = "Input";

    /// <summary>How many empty subtree pickers a form offers beyond the chosen ones (more are added after saving).</summary>
    public const int SpareSubtrees = 2;

    public string? Kind { get; set; } = "scim";

    public string? Name { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>The subtree pickers' ids and texts, by position.</summary>
    public List<Guid?> SubtreeIds { get; set; } = [];

    public List<string?> SubtreeTexts { get; set; } = [];

    public List<string>? OwnedAttributes { get; set; }

    /// <summary>Set by the form, so "no attribute checked" means "owns none" rather than "not sent" (the default set).</summary>
    public bool OwnedPosted { get; set; }

    public string? ConflictPolicy { get; set; } = "refuse";

    /// <summary>Whether the people the source creates (with an e-mail address) are mailed an invitation.</summary>
    public bool InviteNewUsers { get; set; }

    /// <summary>The REST settings object as JSON text.</summary>
    public string? Settings { get; set; }

    public string? Secret { get; set; }

    public long? Revision { get; set; }

    /// <summary>A new source's form: owns what an HR system usually owns.</summary>
    public static SourceForm New() => new() { OwnedAttributes = [.. SourceAttributes.DefaultOwned], Settings = "{}" };

    /// <summary>The edit form of a stored source, never its secret.</summary>
    public static SourceForm Of(InboundSourceDetail source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new SourceForm
        {
            Kind = source.Kind.ToString().ToLowerInvariant(),
            Name = source.Name,
            Enabled = source.Enabled,
            SubtreeIds = [.. source.Subtrees.Select(t => (Guid?)t.DepartmentId)],
            SubtreeTexts = [.. source.Subtrees.Select(t => (string?)t.Label)],
            OwnedAttributes = [.. source.OwnedAttributes],
            ConflictPolicy = source.ConflictPolicy.ToString().ToLowerInvariant(),
            InviteNewUsers = source.InviteNewUsers,
            Settings = ConnectorForm.Pretty(source.Settings),
            Revision = IdentityHub.Core.Revision.Of(source.UpdatedAt),
        };
    }

    /// <summary>The picker slots the form shows: every chosen subtree and <see cref="SpareSubtrees"/> empty ones.</summary>
    public int SubtreeSlots => Math.Max(SubtreeIds.Count, SubtreeTexts.Count) + SpareSubtrees;

    /// <summary>
    /// What the admin API would receive, with the subtrees the pickers resolved. Settings text that is no JSON at all is
    /// refused on its field here (the API's JSON body could not carry it); an empty text area sends no settings.
    /// </summary>
    public InboundSourceInput ToInput(IReadOnlyList<Guid> subtrees)
    {
        var settings = ConsoleForms.SettingsOf(Settings);

        return new InboundSourceInput(
            Name, string.IsNullOrWhiteSpace(Kind) ? null : Kind.Trim(), subtrees, OwnedAttributes ?? (OwnedPosted ? [] : null),
            string.IsNullOrWhiteSpace(ConflictPolicy) ? null : ConflictPolicy.Trim(), Enabled, settings, string.IsNullOrEmpty(Secret) ? null : Secret,
            InviteNewUsers);
    }

    /// <summary>The departments the subtree pickers name; false (with a field error on the picker) when one names none or several.</summary>
    public async Task<(bool Ok, List<Guid> Ids)> ResolveSubtreesAsync(Pickers pickers, ModelStateDictionary state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pickers);
        var ids = new List<Guid>();
        var ok = true;
        for (var i = 0; i < Math.Max(SubtreeIds.Count, SubtreeTexts.Count); i++)
        {
            var (found, id) = await pickers.DepartmentAsync(state, $"Input.SubtreeIds[{i}]", SubtreeIds.ElementAtOrDefault(i), SubtreeTexts.ElementAtOrDefault(i), cancellationToken);
            ok &= found;
            if (id is { } department && !ids.Contains(department))
            {
                ids.Add(department);
            }
        }

        return (ok, ids);
    }
}
