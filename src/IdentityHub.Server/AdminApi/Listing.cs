using System.Linq.Expressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.AdminApi;

/// <summary>A page of a list, with the total so a client can show "41–60 of 312".</summary>
public sealed record Paged<T>(IReadOnlyList<T> Items, int Page, int PageSize, int Total);

/// <summary>
/// The query parameters every list takes: <c>page</c> (from 1), <c>pageSize</c> (1–100), <c>sort</c>
/// (comma-separated fields, <c>-field</c> for descending) and <c>q</c> (free-text search).
/// </summary>
public sealed record ListQuery
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;

    public int? Page { get; init; }

    public int? PageSize { get; init; }

    public string? Sort { get; init; }

    public string? Q { get; init; }

    public int PageNumber => Page ?? 1;

    public int Size => PageSize ?? DefaultPageSize;

    /// <summary>The search text trimmed, or null when there is none.</summary>
    public string? Search => string.IsNullOrWhiteSpace(Q) ? null : Q.Trim();
}

/// <summary>The fields a list can be sorted by, each with its key, and the order used when the caller gives none.</summary>
public sealed class SortFields<T>
{
    private readonly Dictionary<string, Func<IQueryable<T>, bool, bool, IOrderedQueryable<T>>> _fields = new(StringComparer.OrdinalIgnoreCase);
    private readonly string _default;

    public SortFields(string defaultSort) => _default = defaultSort;

    public IReadOnlyCollection<string> Names => _fields.Keys;

    public SortFields<T> Add<TKey>(string name, Expression<Func<T, TKey>> key)
    {
        _fields[name] = (query, first, descending) => (first, descending) switch
        {
            (true, false) => query.OrderBy(key),
            (true, true) => query.OrderByDescending(key),
            (false, false) => ((IOrderedQueryable<T>)query).ThenBy(key),
            (false, true) => ((IOrderedQueryable<T>)query).ThenByDescending(key),
        };
        return this;
    }

    /// <summary>Orders the query by <paramref name="sort"/>; an unknown field is an error naming it.</summary>
    public IQueryable<T> Apply(IQueryable<T> query, string? sort, IDictionary<string, string[]> errors)
    {
        var first = true;
        foreach (var part in (string.IsNullOrWhiteSpace(sort) ? _default : sort).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var descending = part.StartsWith('-');
            var name = descending ? part[1..] : part;
            if (!_fields.TryGetValue(name, out var order))
            {
                errors["sort"] = [$"Cannot sort by \"{name}\"; sort by {string.Join(", ", _fields.Keys)} (prefix - for descending)."];
                return query;
            }

            query = order(query, first, descending);
            first = false;
        }

        return query;
    }
}

/// <summary>Paging, sorting and their validation, shared by every list of the admin API.</summary>
public static class Listing
{
    /// <summary>Problems with the paging parameters, by parameter name (empty when they are fine).</summary>
    public static Dictionary<string, string[]> Validate(ListQuery list)
    {
        ArgumentNullException.ThrowIfNull(list);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (list.PageNumber < 1)
        {
            errors["page"] = ["page starts at 1."];
        }

        if (list.Size is < 1 or > ListQuery.MaxPageSize)
        {
            errors["pageSize"] = [$"pageSize must be between 1 and {ListQuery.MaxPageSize}."];
        }

        return errors;
    }

    /// <summary>
    /// Sorts, counts and cuts one page out of <paramref name="query"/>, or answers 400 naming each bad
    /// parameter (and anything already in <paramref name="errors"/>, such as a bad filter).
    /// </summary>
    public static Task<Results<Ok<Paged<TDto>>, ValidationProblem>> PageAsync<T, TDto>(
        IQueryable<T> query, ListQuery list, SortFields<T> sort, Func<T, TDto> map,
        CancellationToken cancellationToken, IDictionary<string, string[]>? errors = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        return PageAsync(query, list, sort, (items, _) => Task.FromResult<IReadOnlyList<TDto>>([.. items.Select(map)]), cancellationToken, errors);
    }

    /// <summary>
    /// As above, with the page mapped at once: <paramref name="mapPage"/> looks up what the page's rows name (people,
    /// roles...) in one query instead of one per row.
    /// </summary>
    public static async Task<Results<Ok<Paged<TDto>>, ValidationProblem>> PageAsync<T, TDto>(
        IQueryable<T> query, ListQuery list, SortFields<T> sort, Func<IReadOnlyList<T>, CancellationToken, Task<IReadOnlyList<TDto>>> mapPage,
        CancellationToken cancellationToken, IDictionary<string, string[]>? errors = null)
    {
        ArgumentNullException.ThrowIfNull(sort);
        ArgumentNullException.ThrowIfNull(mapPage);
        var problems = Validate(list);
        foreach (var (field, messages) in errors ?? new Dictionary<string, string[]>())
        {
            problems[field] = messages;
        }

        var sorted = sort.Apply(query, list.Sort, problems);
        if (problems.Count > 0)
        {
            return TypedResults.ValidationProblem(problems);
        }

        var total = await query.CountAsync(cancellationToken);
        var items = await sorted.Skip((list.PageNumber - 1) * list.Size).Take(list.Size).ToListAsync(cancellationToken);
        return TypedResults.Ok(new Paged<TDto>(await mapPage(items, cancellationToken), list.PageNumber, list.Size, total));
    }
}
