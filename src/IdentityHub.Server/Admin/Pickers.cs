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
        var (ok, chosen) = await ResolveAsync(state, field, text, "admin.picker.noUser", "admin.picker.severalUsers", u => u.Label,
            () => lookup.UserAsync(id, cancellationToken), typed => lookup.ResolveUserAsync(typed, cancellationToken));
        return (ok, text is null ? id : chosen?.Id);
    }

    /// <summary>The department the field names; false (with a field error on <paramref name="field"/>) when the text names none or several.</summary>
    public async Task<(bool Ok, Guid? Id)> DepartmentAsync(ModelStateDictionary state, string field, Guid? id, string? text, CancellationToken cancellationToken)
    {
        var (ok, chosen) = await ResolveAsync(state, field, text, "admin.picker.noDepartment", "admin.picker.severalDepartments", d => d.Label,
            () => lookup.DepartmentAsync(id, cancellationToken), typed => lookup.ResolveDepartmentAsync(typed, cancellationToken));
        return (ok, text is null ? id : chosen?.Id);
    }

    /// <summary>
    /// What a picker's typed text names: the chosen record when the text is still its label, else the one record the text
    /// names. Posted without the picker's text (a script or an older form), the posted id is the choice (the callers keep it).
    /// </summary>
    private async Task<(bool Ok, T? Chosen)> ResolveAsync<T>(
        ModelStateDictionary state, string field, string? text, string noneKey, string severalKey, Func<T, string> label,
        Func<Task<T?>> chosen, Func<string, Task<Resolved<T>>> resolve)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(state);
        var typed = text?.Trim();
        if (string.IsNullOrEmpty(typed))
        {
            return (true, null);
        }

        if (await chosen() is { } current && label(current) == typed)
        {
            return (true, current);
        }

        var resolved = await resolve(typed);
        if (resolved.Match is { } match)
        {
            return (true, match);
        }

        state.AddModelError(field, resolved.Candidates.Count == 0
            ? texts[noneKey, typed].Value
            : texts[severalKey, typed, Candidates(resolved.Candidates.Select(label), resolved.More)].Value);
        return (false, null);
    }

    private static string Candidates(IEnumerable<string> labels, bool more)
    {
        var list = labels.ToList();
        return string.Join("; ", list.Take(CandidatesShown)) + (more || list.Count > CandidatesShown ? "; …" : "");
    }
}
