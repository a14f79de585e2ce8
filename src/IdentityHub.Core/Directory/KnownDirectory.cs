using IdentityHub.Data.Directory;

namespace IdentityHub.Core.Directory;

/// <summary>
/// What a batch of user creations (a CSV import) checks its rows against, loaded once in the batch's transaction by
/// <see cref="UserDirectory.LoadKnownAsync"/> instead of one query per row and rule: every department, and for the user
/// names and employee numbers the batch names, who holds them. Each user the batch creates or renames is added. A key
/// that was not loaded answers <c>null</c> (unknown): the caller asks the database, as it would without a batch.
/// </summary>
public sealed class KnownDirectory
{
    private readonly Dictionary<Guid, Department> _departments;
    private readonly HashSet<string> _loadedNames;
    private readonly HashSet<string> _loadedNumbers;
    private readonly Dictionary<string, string> _nameHolders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _numberHolders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?> _namesOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _numbersOf = new(StringComparer.Ordinal);

    internal KnownDirectory(
        Dictionary<Guid, Department> departments, IEnumerable<string> normalizedNames, IEnumerable<(string Id, string NormalizedName)> nameHolders,
        IEnumerable<string> employeeNumbers, IEnumerable<(string Id, string EmployeeNumber)> numberHolders)
    {
        _departments = departments;
        _loadedNames = normalizedNames.ToHashSet(StringComparer.Ordinal);
        _loadedNumbers = employeeNumbers.ToHashSet(StringComparer.Ordinal);
        foreach (var (id, name) in nameHolders)
        {
            _nameHolders[name] = id;
            _namesOf[id] = name;
        }

        foreach (var (id, number) in numberHolders)
        {
            _numberHolders[number] = id;
            _numbersOf[id] = number;
            _namesOf.TryAdd(id, null);
        }
    }

    /// <summary>The department with this id, or null when there is none (every department was loaded).</summary>
    internal Department? Department(Guid id) => _departments.GetValueOrDefault(id);

    /// <summary>Whether a user other than <paramref name="exceptId"/> holds the normalized user name; null when not loaded.</summary>
    internal bool? NameTaken(string normalizedName, string? exceptId) =>
        _nameHolders.TryGetValue(normalizedName, out var holder) ? holder != exceptId
        : _loadedNames.Contains(normalizedName) ? false : null;

    /// <summary>Whether a user other than <paramref name="exceptId"/> holds the employee number; null when not loaded.</summary>
    internal bool? EmployeeNumberTaken(string employeeNumber, string? exceptId) =>
        _numberHolders.TryGetValue(employeeNumber, out var holder) ? holder != exceptId
        : _loadedNumbers.Contains(employeeNumber) ? false : null;

    /// <summary>True for a user loaded or added here; null otherwise (they may still exist).</summary>
    internal bool? UserExists(string id) => _namesOf.ContainsKey(id) ? true : null;

    /// <summary>Keeps up with a user created or edited in the batch: their user name and employee number are theirs now.</summary>
    public void Saw(UserAccount user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (_namesOf.TryGetValue(user.Id, out var previous) && previous is not null && _nameHolders.GetValueOrDefault(previous) == user.Id)
        {
            _nameHolders.Remove(previous);
        }

        var name = user.NormalizedUserName;
        _namesOf[user.Id] = name;
        if (name is not null)
        {
            _nameHolders[name] = user.Id;
            _loadedNames.Add(name);
        }

        // A changed employee number frees the old one, as a renamed user frees their old name.
        if (_numbersOf.TryGetValue(user.Id, out var previousNumber) && _numberHolders.GetValueOrDefault(previousNumber) == user.Id)
        {
            _numberHolders.Remove(previousNumber);
            _numbersOf.Remove(user.Id);
        }

        if (user.EmployeeNumber is { } number)
        {
            _numberHolders[number] = user.Id;
            _numbersOf[user.Id] = number;
            _loadedNumbers.Add(number);
        }
    }
}
