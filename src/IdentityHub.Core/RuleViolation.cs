namespace IdentityHub.Core;

/// <summary>Why an admin operation was refused; the API maps it to a status code, the console shows it by the field.</summary>
public enum ViolationKind
{
    Invalid,
    NotFound,
    Conflict,
    Forbidden,
    Stale,
}

/// <summary>
/// A request the domain refuses. Thrown before anything is written, so a refused operation changes nothing.
/// <see cref="Errors"/> names the input fields (camelCase, as the API and the forms call them).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1710", Justification = "A domain outcome named by what it is; callers catch it by this name.")]
public sealed class RuleViolation : Exception
{
    public RuleViolation(ViolationKind kind, string title, IReadOnlyDictionary<string, string[]>? errors = null)
        : base(title)
    {
        Kind = kind;
        Title = title;
        Errors = errors ?? new Dictionary<string, string[]>();
    }

    public RuleViolation()
        : this(ViolationKind.Invalid, "The request is not valid.")
    {
    }

    public RuleViolation(string message)
        : this(ViolationKind.Invalid, message)
    {
    }

    public RuleViolation(string message, Exception innerException)
        : this(ViolationKind.Invalid, message, innerException)
    {
    }

    public RuleViolation(ViolationKind kind, string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = kind;
        Title = message;
        Errors = new Dictionary<string, string[]>();
    }

    public ViolationKind Kind { get; }

    public string Title { get; }

    public IReadOnlyDictionary<string, string[]> Errors { get; }

    public static RuleViolation Field(string field, string message, ViolationKind kind = ViolationKind.Invalid) =>
        new(kind, message, new Dictionary<string, string[]> { [field] = [message] });

    public static RuleViolation NotFound(string what, object id) =>
        new(ViolationKind.NotFound, $"No {what} with id '{id}'.");

    public static RuleViolation Forbidden(string message) => new(ViolationKind.Forbidden, message);
}

/// <summary>Collects field errors, then throws them together so a form shows every problem at once.</summary>
public sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            _errors[field] = list = [];
        }

        list.Add(message);
    }

    public void ThrowIfAny(string title = "The request has invalid fields.")
    {
        if (Any)
        {
            throw new RuleViolation(ViolationKind.Invalid, title, _errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));
        }
    }
}
