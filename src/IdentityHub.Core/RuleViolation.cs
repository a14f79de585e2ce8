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
/// A refusal's stable code (<c>sod.conflict</c>) and the values its text names, so the console can say it in the
/// reader's language from the theme's messages; the API keeps the English text and sends the code alongside.
/// </summary>
public sealed record RuleMessage(string Code, IReadOnlyList<string> Arguments)
{
    private static readonly IReadOnlyDictionary<int, RuleMessage> NoPhrases = new Dictionary<int, RuleMessage>();

    /// <summary>
    /// Arguments that another language words differently (a scope such as "everywhere", a validity window), by their
    /// position in <see cref="Arguments"/>: the console says each in the reader's language by its own code before it
    /// fills the text in; the English argument stays for the API.
    /// </summary>
    public IReadOnlyDictionary<int, RuleMessage> Phrases { get; init; } = NoPhrases;
}

/// <summary>
/// A request the domain refuses. Thrown before anything is written, so a refused operation changes nothing.
/// <see cref="Errors"/> names the input fields (camelCase, as the API and the forms call them);
/// <see cref="Codes"/> gives the code of the title and of any field message that has one, keyed by the English text.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1710", Justification = "A domain outcome named by what it is; callers catch it by this name.")]
public sealed class RuleViolation : Exception
{
    public RuleViolation(
        ViolationKind kind, string title, IReadOnlyDictionary<string, string[]>? errors = null, IReadOnlyDictionary<string, RuleMessage>? codes = null)
        : base(title)
    {
        Kind = kind;
        Title = title;
        Errors = errors ?? new Dictionary<string, string[]>();
        Codes = codes ?? new Dictionary<string, RuleMessage>();
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
        Codes = new Dictionary<string, RuleMessage>();
    }

    public ViolationKind Kind { get; }

    public string Title { get; }

    public IReadOnlyDictionary<string, string[]> Errors { get; }

    /// <summary>English text (the title or a field message) → its code and arguments.</summary>
    public IReadOnlyDictionary<string, RuleMessage> Codes { get; }

    /// <summary>The title's code, when it has one.</summary>
    public RuleMessage? Code => Codes.GetValueOrDefault(Title);

    /// <summary>
    /// What a client needs to act on the refusal without parsing the title (the names of the roles still attached to
    /// an application); the API sends each entry as an extension member of the problem.
    /// </summary>
    public IReadOnlyDictionary<string, object?> Details { get; init; } = new Dictionary<string, object?>();

    public static RuleViolation Field(string field, string message, ViolationKind kind = ViolationKind.Invalid) =>
        new(kind, message, new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>A refusal naming one field, with a code for the console's translation.</summary>
    public static RuleViolation Field(string field, string message, ViolationKind kind, string code, params string[] arguments) =>
        Field(field, message, kind, new RuleMessage(code, arguments));

    /// <summary>A refusal naming one field, with its code and values for the console's translation.</summary>
    public static RuleViolation Field(string field, string message, ViolationKind kind, RuleMessage code) =>
        new(kind, message, new Dictionary<string, string[]> { [field] = [message] },
            new Dictionary<string, RuleMessage>(StringComparer.Ordinal) { [message] = code });

    /// <summary>A refusal of the whole request, with a code for the console's translation.</summary>
    public static RuleViolation Coded(ViolationKind kind, string message, string code, params string[] arguments) =>
        new(kind, message, errors: null, new Dictionary<string, RuleMessage>(StringComparer.Ordinal) { [message] = new(code, arguments) });

    public static RuleViolation NotFound(string what, object id) =>
        new(ViolationKind.NotFound, $"No {what} with id '{id}'.");

    public static RuleViolation Forbidden(string message) => new(ViolationKind.Forbidden, message);
}

/// <summary>Collects field errors, then throws them together so a form shows every problem at once.</summary>
public sealed class FieldErrors
{
    public const string InvalidFields = "The request has invalid fields.";

    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RuleMessage> _codes = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            _errors[field] = list = [];
        }

        list.Add(message);
    }

    /// <summary>A field error with a code for the console's translation.</summary>
    public void Add(string field, string message, string code, params string[] arguments)
    {
        Add(field, message);
        _codes[message] = new RuleMessage(code, arguments);
    }

    public void ThrowIfAny(string title = InvalidFields)
    {
        if (Any)
        {
            var codes = new Dictionary<string, RuleMessage>(_codes, StringComparer.Ordinal);
            if (title == InvalidFields)
            {
                codes[title] = new RuleMessage("invalid", []);
            }

            throw new RuleViolation(ViolationKind.Invalid, title, _errors.ToDictionary(e => e.Key, e => e.Value.ToArray()), codes);
        }
    }
}
