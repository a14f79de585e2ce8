using IdentityHub.Core.Queries;

namespace IdentityHub.Server.Admin.Users;

/// <summary>The user picker's search: by user name, display name, employee number or email (left people are not offered).</summary>
public sealed class LookupModel(DirectoryLookup lookup) : LookupPageModel
{
    protected override async Task<LookupResult> FindAsync(string? text, int limit, CancellationToken cancellationToken)
    {
        var (items, more) = await lookup.FindUsersAsync(text, limit, cancellationToken);
        return new([.. items.Select(u => new LookupItem(u.Id, u.Label, string.Join(" · ", new[] { u.Email, u.DepartmentName }.Where(s => !string.IsNullOrEmpty(s)))))], more);
    }
}
