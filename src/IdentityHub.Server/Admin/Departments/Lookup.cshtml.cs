using IdentityHub.Core.Queries;

namespace IdentityHub.Server.Admin.Departments;

/// <summary>The department picker's search: by name, code or path of names.</summary>
public sealed class LookupModel(DirectoryLookup lookup) : LookupPageModel
{
    protected override async Task<LookupResult> FindAsync(string? text, int limit, CancellationToken cancellationToken)
    {
        var (items, more) = await lookup.FindDepartmentsAsync(text, limit, cancellationToken);
        return new([.. items.Select(d => new LookupItem(d.Id.ToString(), d.Label, null))], more);
    }
}
