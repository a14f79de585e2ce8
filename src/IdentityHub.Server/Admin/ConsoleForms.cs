using System.Globalization;
using System.Text.Json;
using IdentityHub.Core;
using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace IdentityHub.Server.Admin;

/// <summary>What a console page tells the person after a write: the Core's refusal, or that it worked.</summary>
public sealed record ConsoleAlert(string Title, IReadOnlyList<string> Messages, bool IsError = true);

public static class ConsoleForms
{
    /// <summary>
    /// The settings JSON a form's text area holds, as the admin API would receive it: an empty text sends no settings;
    /// text that is no JSON at all is refused on its field here (the API's JSON body could not even carry it).
    /// </summary>
    public static JsonElement SettingsOf(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return default;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            var errors = new FieldErrors();
            errors.Add("settings", $"settings is not valid JSON: {ex.Message}", "connector.settingsNotJson", ex.Message);
            errors.ThrowIfAny();
            throw;
        }
    }

    /// <summary>
    /// Puts a <see cref="RuleViolation"/> on the form: each field error next to its input (the Core names fields
    /// in camelCase, the form binds <c>Input.PascalCase</c>), and every message in the alert, in the reader's
    /// language where the theme has a text for the message's code (<c>admin.error.&lt;code&gt;</c>).
    /// </summary>
    public static ConsoleAlert Show(this ModelStateDictionary modelState, RuleViolation violation, HttpResponse response, ThemeMessages texts, string prefix = "Input")
    {
        ArgumentNullException.ThrowIfNull(modelState);
        ArgumentNullException.ThrowIfNull(violation);
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(texts);
        foreach (var (field, messages) in violation.Errors)
        {
            var name = field.Length == 0 ? field : char.ToUpperInvariant(field[0]) + field[1..];
            foreach (var message in messages)
            {
                modelState.AddModelError(prefix.Length == 0 ? name : $"{prefix}.{name}", Localize(violation, message, texts));
            }
        }

        response.StatusCode = StatusOf(violation.Kind);
        var details = violation.Errors.SelectMany(e => e.Value).Where(m => m != violation.Title).Distinct().Select(m => Localize(violation, m, texts)).ToList();
        return new ConsoleAlert(Localize(violation, violation.Title, texts), details);
    }

    /// <summary>The theme's text for the message's code with its values filled in; the Core's English text when there is none.</summary>
    public static string Localize(RuleViolation violation, string message, ThemeMessages texts)
    {
        ArgumentNullException.ThrowIfNull(violation);
        ArgumentNullException.ThrowIfNull(texts);
        return violation.Codes.TryGetValue(message, out var code) ? Localize(code, message, texts) : message;
    }

    /// <summary>
    /// The theme's text for <paramref name="code"/> with its values filled in, each phrase among them (a scope, a validity
    /// window) said in the reader's language too; <paramref name="english"/> when the theme has no text for the code.
    /// </summary>
    public static string Localize(RuleMessage code, string english, ThemeMessages texts)
    {
        ArgumentNullException.ThrowIfNull(code);
        ArgumentNullException.ThrowIfNull(texts);
        if (texts["admin.error." + code.Code] is not { ResourceNotFound: false } text)
        {
            return english;
        }

        var arguments = code.Arguments.Select((argument, i) => code.Phrases.TryGetValue(i, out var phrase) ? Localize(phrase, argument, texts) : argument);
        return string.Format(CultureInfo.CurrentCulture, text.Value, [.. arguments]);
    }

    public static int StatusOf(ViolationKind kind) => kind switch
    {
        ViolationKind.NotFound => StatusCodes.Status404NotFound,
        ViolationKind.Conflict => StatusCodes.Status409Conflict,
        ViolationKind.Forbidden => StatusCodes.Status403Forbidden,
        ViolationKind.Stale => StatusCodes.Status412PreconditionFailed,
        _ => StatusCodes.Status400BadRequest,
    };

    /// <summary>Reads "key=value" lines (permission parameters such as <c>amountLimit=5000</c>).</summary>
    public static Dictionary<string, string> ParseParameters(string? text) =>
        (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('=', 2, StringSplitOptions.TrimEntries))
            .Where(parts => parts[0].Length > 0)
            .GroupBy(parts => parts[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last().ElementAtOrDefault(1) ?? "", StringComparer.Ordinal);

    public static string FormatParameters(IReadOnlyDictionary<string, string> parameters) =>
        string.Join(", ", parameters.Select(p => $"{p.Key}={p.Value}"));

    /// <summary>A date picked in the form as the start of that day, UTC.</summary>
    public static DateTimeOffset? StartOfDay(DateOnly? date) =>
        date is { } d ? new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null;

    /// <summary>An "until" date includes the whole day: the assignment stops at the next midnight, UTC.</summary>
    public static DateTimeOffset? EndOfDay(DateOnly? date) =>
        date is { } d ? new DateTimeOffset(d.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null;

    /// <summary>
    /// The inverse of <see cref="EndOfDay"/>: the last day an end stored as a midnight UTC includes (2027-07-01 00:00 UTC is
    /// 2027-06-30, as it was entered); null for no end, or an end at another instant (set through the API).
    /// </summary>
    public static DateOnly? LastDayOf(DateTimeOffset? until) =>
        until is { } u && u.UtcDateTime.TimeOfDay == TimeSpan.Zero ? DateOnly.FromDateTime(u.UtcDateTime).AddDays(-1) : null;

    /// <summary>An assignment's end as the console shows it: "2027-06-30 (last day included)", else the instant in UTC, else "no end".</summary>
    public static string ShowUntil(DateTimeOffset? until, ThemeMessages texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return until is not { } u ? texts["admin.assignments.noEnd"].Value
            : LastDayOf(u) is { } day ? texts["admin.assignments.lastDay", day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)].Value
            : texts["admin.assignments.endsAt", u.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)].Value;
    }

    /// <summary>An assignment's start as the form enters it: its day, UTC.</summary>
    public static string ShowFrom(DateTimeOffset from) => from.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
