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

        var row = Expression.Parameter(typeof(T), "row");
        var needle = Expression.Constant(text.Trim().ToUpperInvariant());
        Expression? any = null;
        foreach (var field in fields)
        {
            var value = new ParameterReplacer(field.Parameters[0], row).Visit(field.Body);
            var match = Expression.AndAlso(
                Expression.NotEqual(value, Expression.Constant(null, typeof(string))),
                Expression.Call(Expression.Call(value, ToUpper), Contains, needle));
            any = any is null ? match : Expression.OrElse(any, match);
        }

        return query.Where(Expression.Lambda<Func<T, bool>>(any!, row));
    }

    private sealed class ParameterReplacer(ParameterExpression from, ParameterExpression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : base.VisitParameter(node);
    }
}
