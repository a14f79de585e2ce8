using System.Linq.Expressions;

namespace IdentityHub.Core.Queries;

/// <summary>The <c>q</c> search: a row matches when any of the given text fields contains the text, ignoring case.</summary>
public static class Search
{
    private static readonly System.Reflection.MethodInfo ToUpper = typeof(string).GetMethod(nameof(string.ToUpper), Type.EmptyTypes)!;
    private static readonly System.Reflection.MethodInfo Contains = typeof(string).GetMethod(nameof(string.Contains), [typeof(string)])!;

    /// <summary>
    /// Filters by <paramref name="text"/> (no filter when null). Both sides are upper-cased in SQL (<c>upper()</c>), which
    /// every provider translates, so the search ignores case on SQLite and PostgreSQL alike.
    /// </summary>
    public static IQueryable<T> WhereAnyContains<T>(this IQueryable<T> query, string? text, params Expression<Func<T, string?>>[] fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (string.IsNullOrWhiteSpace(text) || fields.Length == 0)
        {
            return query;
        }

        return query.Where(AnyOf(fields.Select(field => ContainsText(field, text))));
    }

    /// <summary>A predicate: <paramref name="field"/> contains <paramref name="text"/> (trimmed), ignoring case as <see cref="WhereAnyContains"/> does.</summary>
    public static Expression<Func<T, bool>> ContainsText<T>(Expression<Func<T, string?>> field, string text) =>
        Compare(field, text, (value, needle) => Expression.Call(Expression.Call(value, ToUpper), Contains, needle));

    /// <summary>A predicate: <paramref name="field"/> is <paramref name="text"/> (trimmed), ignoring case.</summary>
    public static Expression<Func<T, bool>> EqualsText<T>(Expression<Func<T, string?>> field, string text) =>
        Compare(field, text, (value, needle) => Expression.Equal(Expression.Call(value, ToUpper), needle));

    /// <summary>One predicate that holds when any of <paramref name="parts"/> holds (false when there are none), for a single Where.</summary>
    public static Expression<Func<T, bool>> AnyOf<T>(IEnumerable<Expression<Func<T, bool>>> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var row = Expression.Parameter(typeof(T), "row");
        Expression? any = null;
        foreach (var part in parts)
        {
            var body = new ParameterReplacer(part.Parameters[0], row).Visit(part.Body);
            any = any is null ? body : Expression.OrElse(any, body);
        }

        return Expression.Lambda<Func<T, bool>>(any ?? Expression.Constant(false), row);
    }

    private static Expression<Func<T, bool>> Compare<T>(Expression<Func<T, string?>> field, string text, Func<Expression, Expression, Expression> test)
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentNullException.ThrowIfNull(text);
        var needle = Expression.Constant(text.Trim().ToUpperInvariant());
        var match = Expression.AndAlso(Expression.NotEqual(field.Body, Expression.Constant(null, typeof(string))), test(field.Body, needle));
        return Expression.Lambda<Func<T, bool>>(match, field.Parameters);
    }

    private sealed class ParameterReplacer(ParameterExpression from, ParameterExpression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : base.VisitParameter(node);
    }
}
