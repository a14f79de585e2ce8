using System.Globalization;
using System.Linq.Expressions;
using System.Text.Json;

namespace IdentityHub.Server.Scim;

/// <summary>A parsed SCIM filter (RFC 7644 §3.4.2.2): comparisons joined by <c>and</c>/<c>or</c>/<c>not</c>.</summary>
public abstract record FilterNode;

/// <summary><c>attrPath op value</c>; <see cref="Value"/> is null for <c>pr</c> and for the literal <c>null</c>.</summary>
public sealed record FilterComparison(string Path, string Operator, object? Value) : FilterNode;

public sealed record FilterAnd(FilterNode Left, FilterNode Right) : FilterNode;

public sealed record FilterOr(FilterNode Left, FilterNode Right) : FilterNode;

public sealed record FilterNot(FilterNode Inner) : FilterNode;

/// <summary>What a filterable attribute is: the attribute types of RFC 7643 §2.3 that IdentityHub filters on.</summary>
public enum ScimAttributeType
{
    Text,
    Flag,
    DateTime,
}

/// <summary>A filterable and sortable attribute: its expression on the entity, its type, and whether strings compare case-exactly (RFC 7643 §2.2).</summary>
public sealed record ScimField(LambdaExpression Selector, ScimAttributeType Type, bool CaseExact = false, bool Sortable = true);

/// <summary>
/// RFC 7644 §3.4.2.2 filters: parsed here, then translated into an expression on the entity, so filtering, counting
/// and paging happen in the database. Attribute names are case-insensitive (RFC 7643 §2.1); a name the resource does
/// not have, or bad syntax, is <c>invalidFilter</c>.
/// </summary>
public static class ScimFilter
{
    private const int MaxLength = 4096;
    private const int MaxDepth = 32;

    private static readonly string[] Comparisons = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"];

    public static FilterNode Parse(string filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (filter.Length > MaxLength)
        {
            throw ScimException.InvalidFilter($"A filter may have up to {MaxLength} characters.");
        }

        var parser = new Parser(Tokenize(filter));
        var node = parser.ParseFilter(prefix: null, depth: 0);
        if (!parser.AtEnd)
        {
            throw ScimException.InvalidFilter($"Unexpected '{parser.Peek}' in the filter.");
        }

        return node;
    }

    /// <summary>The filter as a predicate on <typeparamref name="T"/>, resolving attribute names through <paramref name="attributes"/>.</summary>
    public static Expression<Func<T, bool>> ToExpression<T>(FilterNode filter, Func<string, ScimField?> attributes)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(attributes);
        var parameter = Expression.Parameter(typeof(T), "r");
        return Expression.Lambda<Func<T, bool>>(Translate(filter, parameter, attributes), parameter);
    }

    /// <summary>The attribute's selector with its parameter replaced by <paramref name="parameter"/>.</summary>
    public static Expression Bind(LambdaExpression selector, ParameterExpression parameter)
    {
        ArgumentNullException.ThrowIfNull(selector);
        return new Rebind(selector.Parameters[0], parameter).Visit(selector.Body);
    }

    private static Expression Translate(FilterNode node, ParameterExpression parameter, Func<string, ScimField?> attributes) => node switch
    {
        FilterAnd and => Expression.AndAlso(Translate(and.Left, parameter, attributes), Translate(and.Right, parameter, attributes)),
        FilterOr or => Expression.OrElse(Translate(or.Left, parameter, attributes), Translate(or.Right, parameter, attributes)),
        FilterNot not => Expression.Not(Translate(not.Inner, parameter, attributes)),
        FilterComparison comparison => Compare(comparison, parameter,
            attributes(comparison.Path) ?? throw ScimException.InvalidFilter($"The attribute '{comparison.Path}' cannot be filtered on.")),
        _ => throw new InvalidOperationException("Unknown filter node."),
    };

    private static Expression Compare(FilterComparison comparison, ParameterExpression parameter, ScimField attribute)
    {
        var selected = Bind(attribute.Selector, parameter);
        var op = comparison.Operator;
        if (op == "pr")
        {
            return selected.Type.IsValueType && Nullable.GetUnderlyingType(selected.Type) is null
                ? Expression.Constant(true)
                : selected.Type == typeof(string)
                    ? Expression.AndAlso(Expression.NotEqual(selected, Expression.Constant(null, typeof(string))),
                        Expression.NotEqual(selected, Expression.Constant("")))
                    : Expression.NotEqual(selected, Expression.Constant(null, selected.Type));
        }

        return attribute.Type switch
        {
            ScimAttributeType.Text => CompareString(comparison, selected, attribute.CaseExact),
            ScimAttributeType.Flag => CompareBoolean(comparison, selected),
            ScimAttributeType.DateTime => CompareDateTime(comparison, selected),
            _ => throw new InvalidOperationException("Unknown attribute type."),
        };
    }

    private static Expression CompareString(FilterComparison comparison, Expression selected, bool caseExact)
    {
        var op = comparison.Operator;
        if (comparison.Value is null)
        {
            return op switch
            {
                "eq" => Expression.Equal(selected, Expression.Constant(null, typeof(string))),
                "ne" => Expression.NotEqual(selected, Expression.Constant(null, typeof(string))),
                _ => throw ScimException.InvalidFilter($"'{op}' needs a value, not null."),
            };
        }

        if (comparison.Value is not string text)
        {
            throw ScimException.InvalidFilter($"'{comparison.Path}' is a string; compare it with a quoted string.");
        }

        // RFC 7643 §2.2: caseExact false compares without regard to case; both sides are lower-cased in the database's own way.
        var left = caseExact ? selected : Expression.Call(selected, typeof(string).GetMethod(nameof(string.ToLower), Type.EmptyTypes)!);
        var right = Expression.Constant(caseExact ? text : text.ToLowerInvariant());
        var notNull = Expression.NotEqual(selected, Expression.Constant(null, typeof(string)));
        Expression Call(string method) => Expression.AndAlso(notNull,
            Expression.Call(left, typeof(string).GetMethod(method, [typeof(string)])!, right));
        Expression Ordered(ExpressionType type) => Expression.AndAlso(notNull, Expression.MakeBinary(type,
            Expression.Call(typeof(string).GetMethod(nameof(string.Compare), [typeof(string), typeof(string)])!, left, right), Expression.Constant(0)));
        return op switch
        {
            "eq" => Expression.AndAlso(notNull, Expression.Equal(left, right)),
            "ne" => Expression.OrElse(Expression.Equal(selected, Expression.Constant(null, typeof(string))), Expression.NotEqual(left, right)),
            "co" => Call(nameof(string.Contains)),
            "sw" => Call(nameof(string.StartsWith)),
            "ew" => Call(nameof(string.EndsWith)),
            "gt" => Ordered(ExpressionType.GreaterThan),
            "ge" => Ordered(ExpressionType.GreaterThanOrEqual),
            "lt" => Ordered(ExpressionType.LessThan),
            "le" => Ordered(ExpressionType.LessThanOrEqual),
            _ => throw ScimException.InvalidFilter($"Unknown operator '{op}'."),
        };
    }

    private static BinaryExpression CompareBoolean(FilterComparison comparison, Expression selected)
    {
        if (comparison.Value is not bool value)
        {
            throw ScimException.InvalidFilter($"'{comparison.Path}' is a boolean; compare it with true or false.");
        }

        return comparison.Operator switch
        {
            "eq" => Expression.Equal(selected, Expression.Constant(value)),
            "ne" => Expression.NotEqual(selected, Expression.Constant(value)),
            _ => throw ScimException.InvalidFilter($"'{comparison.Operator}' does not apply to the boolean '{comparison.Path}'."),
        };
    }

    private static BinaryExpression CompareDateTime(FilterComparison comparison, Expression selected)
    {
        if (comparison.Value is not string text
            || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant))
        {
            throw ScimException.InvalidFilter($"'{comparison.Path}' is a dateTime; compare it with a quoted xsd:dateTime such as \"2026-01-01T00:00:00Z\".");
        }

        var right = Expression.Constant(instant.ToUniversalTime(), selected.Type);
        return comparison.Operator switch
        {
            "eq" => Expression.Equal(selected, right),
            "ne" => Expression.NotEqual(selected, right),
            "gt" => Expression.GreaterThan(selected, right),
            "ge" => Expression.GreaterThanOrEqual(selected, right),
            "lt" => Expression.LessThan(selected, right),
            "le" => Expression.LessThanOrEqual(selected, right),
            _ => throw ScimException.InvalidFilter($"'{comparison.Operator}' does not apply to the dateTime '{comparison.Path}'."),
        };
    }

    private static List<string> Tokenize(string filter)
    {
        var tokens = new List<string>();
        var i = 0;
        while (i < filter.Length)
        {
            var c = filter[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c is '(' or ')' or '[' or ']')
            {
                tokens.Add(c.ToString());
                i++;
            }
            else if (c == '"')
            {
                var start = i++;
                while (i < filter.Length && filter[i] != '"')
                {
                    i += filter[i] == '\\' ? 2 : 1;
                }

                if (i >= filter.Length)
                {
                    throw ScimException.InvalidFilter("A quoted string in the filter is not closed.");
                }

                tokens.Add(filter[start..++i]);
            }
            else
            {
                var start = i;
                while (i < filter.Length && !char.IsWhiteSpace(filter[i]) && filter[i] is not ('(' or ')' or '[' or ']' or '"'))
                {
                    i++;
                }

                tokens.Add(filter[start..i]);
            }
        }

        return tokens;
    }

    private sealed class Parser(List<string> tokens)
    {
        private int _position;

        public bool AtEnd => _position >= tokens.Count;

        public string Peek => AtEnd ? "end of filter" : tokens[_position];

        public FilterNode ParseFilter(string? prefix, int depth)
        {
            if (depth > MaxDepth)
            {
                throw ScimException.InvalidFilter("The filter is nested too deeply.");
            }

            var left = ParseAnd(prefix, depth);
            while (Is("or"))
            {
                _position++;
                left = new FilterOr(left, ParseAnd(prefix, depth));
            }

            return left;
        }

        private FilterNode ParseAnd(string? prefix, int depth)
        {
            var left = ParseUnary(prefix, depth);
            while (Is("and"))
            {
                _position++;
                left = new FilterAnd(left, ParseUnary(prefix, depth));
            }

            return left;
        }

        private FilterNode ParseUnary(string? prefix, int depth)
        {
            if (Is("not"))
            {
                _position++;
                Expect("(");
                var inner = ParseFilter(prefix, depth + 1);
                Expect(")");
                return new FilterNot(inner);
            }

            if (Is("("))
            {
                _position++;
                var inner = ParseFilter(prefix, depth + 1);
                Expect(")");
                return inner;
            }

            var path = Next("an attribute name");
            if (!IsAttributePath(path))
            {
                throw ScimException.InvalidFilter($"'{path}' is not an attribute name.");
            }

            var full = prefix is null ? path : prefix + "." + path;
            if (Is("["))
            {
                // RFC 7644 §3.4.2.2 valuePath: emails[type eq "work" and value co "@example.com"] filters the sub-attributes of emails.
                if (prefix is not null)
                {
                    throw ScimException.InvalidFilter("A value filter cannot be nested in another.");
                }

                _position++;
                var inner = ParseFilter(full, depth + 1);
                Expect("]");
                return inner;
            }

            var op = Next("an operator").ToLowerInvariant();
            if (op == "pr")
            {
                return new FilterComparison(full, op, null);
            }

            if (!Comparisons.Contains(op))
            {
                throw ScimException.InvalidFilter($"'{op}' is not a SCIM filter operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr).");
            }

            return new FilterComparison(full, op, ValueOf(Next("a value")));
        }

        private static object? ValueOf(string token)
        {
            if (token.StartsWith('"'))
            {
                try
                {
                    return JsonSerializer.Deserialize<string>(token);
                }
                catch (JsonException)
                {
                    throw ScimException.InvalidFilter($"{token} is not a valid JSON string.");
                }
            }

            return token.ToLowerInvariant() switch
            {
                "true" => true,
                "false" => false,
                "null" => null,
                _ when decimal.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) => number,
                _ => throw ScimException.InvalidFilter($"'{token}' is not a value: quote strings, or use true, false, null or a number."),
            };
        }

        private static bool IsAttributePath(string token) =>
            token.Length > 0 && (char.IsLetter(token[0]) || token[0] == '$')
            && token.All(c => char.IsLetterOrDigit(c) || c is '.' or ':' or '_' or '-' or '$');

        private bool Is(string token) => !AtEnd && string.Equals(tokens[_position], token, StringComparison.OrdinalIgnoreCase);

        private void Expect(string token)
        {
            if (!Is(token))
            {
                throw ScimException.InvalidFilter($"Expected '{token}' but found '{Peek}'.");
            }

            _position++;
        }

        private string Next(string what) => AtEnd ? throw ScimException.InvalidFilter($"The filter ends where {what} was expected.") : tokens[_position++];
    }

    private sealed class Rebind(ParameterExpression from, ParameterExpression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : base.VisitParameter(node);
    }
}

/// <summary>The attributes a resource type can be filtered and sorted on, by lower-case name with and without the schema URN.</summary>
public sealed class ScimAttributeMap<T>
{
    private readonly Dictionary<string, ScimField> _attributes = new(StringComparer.OrdinalIgnoreCase);

    public ScimAttributeMap<T> Add<TValue>(Expression<Func<T, TValue>> selector, ScimAttributeType type, bool caseExact, params string[] names)
    {
        foreach (var name in names)
        {
            _attributes[name] = new ScimField(selector, type, caseExact);
        }

        return this;
    }

    /// <summary>The attribute a filter or sortBy names; a schema URN prefix (<c>urn:...:User:employeeNumber</c>) is accepted.</summary>
    public ScimField? Find(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (_attributes.TryGetValue(path, out var found))
        {
            return found;
        }

        foreach (var schema in ScimSchemas.Resource)
        {
            if (path.StartsWith(schema + ":", StringComparison.OrdinalIgnoreCase) && _attributes.TryGetValue(path[(schema.Length + 1)..], out found))
            {
                return found;
            }
        }

        return null;
    }
}

/// <summary>RFC 7644 §3.4.2.3 sortBy/sortOrder, in the database, then by id so pages never overlap.</summary>
public static class ScimSorting
{
    public static IQueryable<T> OrderBy<T>(IQueryable<T> query, ScimField? attribute, bool descending, System.Linq.Expressions.Expression<Func<T, string>> id)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(id);
        if (attribute is null)
        {
            return query.OrderBy(id);
        }

        var parameter = System.Linq.Expressions.Expression.Parameter(typeof(T), "r");
        var body = ScimFilter.Bind(attribute.Selector, parameter);
        var call = System.Linq.Expressions.Expression.Call(typeof(Queryable), descending ? nameof(Queryable.OrderByDescending) : nameof(Queryable.OrderBy),
            [typeof(T), body.Type], query.Expression, System.Linq.Expressions.Expression.Quote(System.Linq.Expressions.Expression.Lambda(body, parameter)));
        return ((IOrderedQueryable<T>)query.Provider.CreateQuery<T>(call)).ThenBy(id);
    }
}
