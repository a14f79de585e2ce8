using IdentityHub.Core.Audit;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Inbound;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Inbound;

/// <summary>
/// Who may change what of a person who came from a source: the source owns some attributes (HR: name, department,
/// manager, status); anyone else changing one of those is refused, or allowed and recorded as a conflict that the
/// source's next value overwrites, as the source is configured. The source itself writes only what it owns.
/// </summary>
public sealed class AttributeOwnership(IdentityHubDbContext db, CurrentActor actor, TimeProvider clock)
{
    /// <summary>The attributes that differ between two snapshots, by <see cref="SourceAttributes"/> name, with their values before and after.</summary>
    public static IEnumerable<(string Attribute, string? Before, string? After)> Differences(UserSnapshot before, UserSnapshot after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        (string, string?, string?)[] all =
        [
            (SourceAttributes.UserName, before.UserName, after.UserName),
            (SourceAttributes.DisplayName, before.DisplayName, after.DisplayName),
            (SourceAttributes.Email, before.Email, after.Email),
            (SourceAttributes.PhoneNumber, before.PhoneNumber, after.PhoneNumber),
            (SourceAttributes.EmployeeNumber, before.EmployeeNumber, after.EmployeeNumber),
            (SourceAttributes.Department, before.DepartmentId?.ToString(), after.DepartmentId?.ToString()),
            (SourceAttributes.Manager, before.ManagerId, after.ManagerId),
            (SourceAttributes.Status, before.Status, after.Status),
        ];
        return all.Where(a => !string.Equals(a.Item2, a.Item3, StringComparison.Ordinal));
    }

    /// <summary>
    /// Checks a change to a person made by someone other than their source; refuses it (nothing written) or records the
    /// conflicts in the caller's transaction, as the source says. Changes by the source itself, or to people no
    /// source owns, pass untouched.
    /// </summary>
    public async Task CheckAsync(Guid? sourceId, string userId, UserSnapshot before, UserSnapshot after, CancellationToken cancellationToken)
    {
        if (sourceId is not { } id || actor.Value.SourceId == id)
        {
            return;
        }

        var source = await db.InboundSources.AsNoTracking().SingleOrDefaultAsync(s => s.Id == id, cancellationToken);
        if (source is null)
        {
            return;
        }

        var owned = SourceAttributes.Parse(source.OwnedAttributes);
        var clashes = Differences(before, after).Where(d => owned.Contains(d.Attribute)).ToList();
        if (clashes.Count == 0)
        {
            return;
        }

        if (source.ConflictPolicy == OwnershipConflictPolicy.Refuse)
        {
            var (attribute, _, _) = clashes[0];
            throw RuleViolation.Field(FieldOf(attribute),
                $"'{attribute}' of this person is kept by the source '{source.Name}'; change it there.",
                ViolationKind.Conflict, "inbound.owned", attribute, source.Name);
        }

        var now = Revision.Now(clock);
        db.InboundConflicts.AddRange(clashes.Select(c => new InboundConflict
        {
            SourceId = id,
            UserId = userId,
            Attribute = c.Attribute,
            LocalValue = Truncate(c.After),
            SourceValue = Truncate(c.Before),
            Resolution = "overwritten",
            ChangedBy = Truncate(actor.Value.Display),
            OccurredAt = now,
        }));
    }

    /// <summary>The input field of an attribute (the forms and the API call the department and manager by their ids).</summary>
    public static string FieldOf(string attribute) => attribute switch
    {
        SourceAttributes.Department => "departmentId",
        SourceAttributes.Manager => "managerId",
        _ => attribute,
    };

    private static string? Truncate(string? value) => value is { Length: > 1000 } ? value[..1000] : value;
}
