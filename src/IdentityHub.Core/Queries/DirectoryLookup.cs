using IdentityHub.Data;
using IdentityHub.Data.Directory;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Queries;

/// <summary>A person as a picker offers them: the label a form's input shows, and the id the form sends.</summary>
public sealed record UserChoice(string Id, string DisplayName, string? UserName, string? EmployeeNumber, string? Email, string? DepartmentName, UserStatus Status)
{
    /// <summary>"Li Lei · lilei · E1001": the display name, then what tells two people of one name apart.</summary>
    public string Label => string.Join(" · ", new[] { DisplayName, UserName, EmployeeNumber }.Where(s => !string.IsNullOrEmpty(s)));
}

/// <summary>A department as a picker offers it: its path of names ("Company / Finance") and its code.</summary>
public sealed record DepartmentChoice(Guid Id, string Code, string Name, string Path)
{
    /// <summary>"Company / Finance · FIN".</summary>
    public string Label => $"{Path} · {Code}";
}

/// <summary>What typed text names: exactly one (<see cref="Match"/>), or else the candidates it could mean (none, or several).</summary>
public sealed record Resolved<T>(T? Match, IReadOnlyList<T> Candidates, bool More)
    where T : class;

/// <summary>
/// The searches behind the console's user and department pickers: a page of matches for what was typed (by user name,
/// display name, employee number or email; by department name, code or path), and the one record typed text names when
/// a form comes back without JavaScript. Left people are never offered: nothing new is given to them.
/// </summary>
public sealed class DirectoryLookup(IdentityHubDbContext db)
{
    /// <summary>The most matches one search answers; enough to choose from, never the directory.</summary>
    public const int MaxResults = 20;

    public const int MaxTextLength = 200;

    public async Task<UserChoice?> UserAsync(string? id, CancellationToken cancellationToken) =>
        string.IsNullOrEmpty(id)
            ? null
            : await Choices(db.Users.AsNoTracking().Where(u => u.Id == id)).SingleOrDefaultAsync(cancellationToken);

    /// <summary>Up to <paramref name="limit"/> people whose user name, display name, employee number or email contains the text; exact matches first.</summary>
    public async Task<(IReadOnlyList<UserChoice> Items, bool More)> FindUsersAsync(string? text, int limit, CancellationToken cancellationToken)
    {
        var t = text?.Trim() ?? "";
        if (t.Length == 0)
        {
            return ([], false);
        }

        var upper = t.ToUpperInvariant();
        var size = Math.Clamp(limit, 1, MaxResults);
        var found = await Choices(Offered().WhereAnyContains(t, u => u.UserName, u => u.DisplayName, u => u.EmployeeNumber, u => u.Email)
                .OrderByDescending(u => u.EmployeeNumber == t || u.NormalizedUserName == upper || u.NormalizedEmail == upper)
                .ThenBy(u => u.DisplayName).ThenBy(u => u.UserName))
            .Take(size + 1).ToListAsync(cancellationToken);
        return (found.Take(size).ToList(), found.Count > size);
    }

    /// <summary>
    /// The person <paramref name="text"/> names exactly (user name, employee number or email, ignoring case; display name; or a
    /// picker label such as "Li Lei · lilei · E1001"), or else the candidates to choose from.
    /// </summary>
    public async Task<Resolved<UserChoice>> ResolveUserAsync(string text, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        var tokens = Tokens(t);
        var upper = tokens.Select(s => s.ToUpperInvariant()).ToList();
        var exact = await Choices(Offered().Where(u =>
                tokens.Contains(u.EmployeeNumber!) || upper.Contains(u.NormalizedUserName!) || upper.Contains(u.NormalizedEmail!) || u.DisplayName == t))
            .Take(MaxResults + 1).ToListAsync(cancellationToken);
        if (exact.Count > 1 && exact.Where(u => u.Label == t).ToList() is [var labelled])
        {
            return new(labelled, [], false);
        }

        if (exact.Count > 0)
        {
            return exact.Count == 1 ? new(exact[0], [], false) : new(null, exact.Take(MaxResults).ToList(), exact.Count > MaxResults);
        }

        var (candidates, more) = await FindUsersAsync(t, MaxResults, cancellationToken);
        return new(null, candidates, more);
    }

    public async Task<DepartmentChoice?> DepartmentAsync(Guid? id, CancellationToken cancellationToken) =>
        id is { } wanted ? (await AllDepartmentsAsync(cancellationToken)).FirstOrDefault(d => d.Id == wanted) : null;

    /// <summary>Up to <paramref name="limit"/> departments whose name, code or path of names contains the text; exact matches first.</summary>
    public async Task<(IReadOnlyList<DepartmentChoice> Items, bool More)> FindDepartmentsAsync(string? text, int limit, CancellationToken cancellationToken)
    {
        var t = text?.Trim() ?? "";
        if (t.Length == 0)
        {
            return ([], false);
        }

        var size = Math.Clamp(limit, 1, MaxResults);
        var found = (await AllDepartmentsAsync(cancellationToken))
            .Where(d => Contains(d.Name, t) || Contains(d.Code, t) || Contains(d.Path, t))
            .OrderByDescending(d => Same(d.Code, t) || Same(d.Name, t) || Same(d.Path, t))
            .ThenBy(d => d.Path, StringComparer.CurrentCulture)
            .Take(size + 1).ToList();
        return (found.Take(size).ToList(), found.Count > size);
    }

    /// <summary>The department <paramref name="text"/> names exactly (code, name, path of names or picker label, ignoring case), or else the candidates.</summary>
    public async Task<Resolved<DepartmentChoice>> ResolveDepartmentAsync(string text, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        var all = await AllDepartmentsAsync(cancellationToken);
        var exact = all.Where(d => Same(d.Label, t) || Same(d.Code, t)).ToList() is { Count: > 0 } precise
            ? precise
            : all.Where(d => Same(d.Path, t) || Same(d.Name, t)).ToList();
        if (exact.Count == 1)
        {
            return new(exact[0], [], false);
        }

        if (exact.Count > 1)
        {
            return new(null, exact.Take(MaxResults).ToList(), exact.Count > MaxResults);
        }

        var (candidates, more) = await FindDepartmentsAsync(t, MaxResults, cancellationToken);
        return new(null, candidates, more);
    }

    private IQueryable<UserAccount> Offered() => db.Users.AsNoTracking().Where(u => u.Status != UserStatus.Left);

    private static IQueryable<UserChoice> Choices(IQueryable<UserAccount> users) =>
        users.Select(u => new UserChoice(u.Id, u.DisplayName, u.UserName, u.EmployeeNumber, u.Email, u.Department == null ? null : u.Department.Name, u.Status));

    /// <summary>The text itself and, for a picker label, each of its parts.</summary>
    private static List<string> Tokens(string text) =>
        [.. new[] { text }.Concat(text.Split('·', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal)];

    /// <summary>
    /// Every department with its path of names. A tree is small next to the directory (hundreds, not tens of thousands), and
    /// a path of names is not a column, so the search over it runs here.
    /// </summary>
    private async Task<IReadOnlyList<DepartmentChoice>> AllDepartmentsAsync(CancellationToken cancellationToken)
    {
        var all = await db.Departments.AsNoTracking().Select(d => new { d.Id, d.Code, d.Name, d.ParentId }).ToListAsync(cancellationToken);
        var byId = all.ToDictionary(d => d.Id);
        return [.. all.Select(d =>
        {
            var names = new List<string>();
            // Walks up the parents (bounded by the tree's size, so a damaged tree cannot loop).
            for (var current = d; current is not null && names.Count <= all.Count; current = current.ParentId is { } p ? byId.GetValueOrDefault(p) : null)
            {
                names.Insert(0, current.Name);
            }

            return new DepartmentChoice(d.Id, d.Code, d.Name, string.Join(" / ", names));
        })];
    }

    private static bool Contains(string value, string text) => value.Contains(text, StringComparison.OrdinalIgnoreCase);

    private static bool Same(string value, string text) => string.Equals(value, text, StringComparison.OrdinalIgnoreCase);
}
