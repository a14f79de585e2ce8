using IdentityHub.Core.Queries;
using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace IdentityHub.Server.Admin;

public enum PickerKind
{
    User,
    Department,
}

/// <summary>
/// A user or department field of a console form: a text input (what the person typed, or the chosen one's label) and a
/// hidden id. Without JavaScript the server resolves the text (<see cref="Pickers"/>); with it, picker.js makes the input a
/// combobox over the lookup endpoint that fills the id.
/// </summary>
/// <param name="InputId">The text input's HTML id (its label's <c>for</c>).</param>
/// <param name="IdName">The form field that carries the id (<c>Input.UserId</c>), where field errors are shown.</param>
/// <param name="TextName">The form field that carries the text (<c>Input.UserText</c>).</param>
public sealed record PickerField(PickerKind Kind, string InputId, string IdName, string TextName, string? Value, string? Text, string Label)
{
    public bool Required { get; init; }

    /// <summary>What an empty field means ("Everywhere", "(no department)").</summary>
    public string? Placeholder { get; init; }

    /// <summary>The lookup endpoint the combobox searches (behind the section's own read rules).</summary>
    public string LookupUrl => Kind == PickerKind.User ? "/admin/users/lookup" : "/admin/departments/lookup";
}

/// <summary>
/// Turns what a picker posted into an id: the chosen id when the text still shows its label, else the one person or
/// department the text names exactly; when it names no one or several, a field error lists the candidates to type instead.
/// </summary>
public sealed class Pickers(DirectoryLookup lookup, ThemeMessages texts)
{
    /// <summary>How many candidates a field error names.</summary>
    public const int CandidatesShown = 5;

    public async Task<string?> UserLabelAsync(string? id, CancellationToken cancellationToken) => (await lookup.UserAsync(id, cancellationToken))?.Label;

    public async Task<string?> DepartmentLabelAsync(Guid? id, CancellationToken cancellationToken) => (await lookup.DepartmentAsync(id, cancellationToken))?.Label;

    /// <summary>The person the field names; false (with a field error on <paramref name="field"/>) when the text names no one or several.</summary>
    public async Task<(bool Ok, string? Id)> UserAsync(ModelStateDictionary state, string field, string? id, string? text, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (text is null)
        {
            // Posted without the picker's text (a script or an older form): the id is the choice.
            return (true, id);
        }

        var typed = text.Trim();
        if (typed.Length == 0)
        {
            return (true, null);
        }

        if (await lookup.UserAsync(id, cancellationToken) is { } chosen && chosen.Label == typed)
        {
            return (true, chosen.Id);
        }

        var resolved = await lookup.ResolveUserAsync(typed, cancellationToken);
        if (resolved.Match is { } match)
        {
            return (true, match.Id);
        }

        state.AddModelError(field, resolved.Candidates.Count == 0
            ? texts["admin.picker.noUser", typed].Value
            : texts["admin.picker.severalUsers", typed, Candidates(resolved.Candidates.Select(u => u.Label), resolved.More)].Value);
        return (false, null);
    }

    /// <summary>The department the field names; false (with a field error on <paramref name="field"/>) when the text names none or several.</summary>
    public async Task<(bool Ok, Guid? Id)> DepartmentAsync(ModelStateDictionary state, string field, Guid? id, string? text, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (text is null)
        {
            return (true, id);
        }

        var typed = text.Trim();
        if (typed.Length == 0)
        {
            return (true, null);
        }

        if (await lookup.DepartmentAsync(id, cancellationToken) is { } chosen && chosen.Label == typed)
        {
            return (true, chosen.Id);
        }

        var resolved = await lookup.ResolveDepartmentAsync(typed, cancellationToken);
        if (resolved.Match is { } match)
        {
            return (true, match.Id);
        }

        state.AddModelError(field, resolved.Candidates.Count == 0
            ? texts["admin.picker.noDepartment", typed].Value
            : texts["admin.picker.severalDepartments", typed, Candidates(resolved.Candidates.Select(d => d.Label), resolved.More)].Value);
        return (false, null);
    }

    private static string Candidates(IEnumerable<string> labels, bool more)
    {
        var list = labels.ToList();
        return string.Join("; ", list.Take(CandidatesShown)) + (more || list.Count > CandidatesShown ? "; …" : "");
    }
}
