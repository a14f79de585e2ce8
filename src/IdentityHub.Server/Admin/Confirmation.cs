namespace IdentityHub.Server.Admin;

/// <summary>
/// The step before a destructive or irreversible action: what will happen, and the form that does it. A page shows it for
/// a GET with <c>?confirm=...</c> (so it works without JavaScript); console.js makes it a modal dialog.
/// </summary>
/// <param name="Key">What is confirmed ("delete-department"); names the dialog for tests and styles.</param>
/// <param name="Title">The question, naming the thing: "Delete department 'Sales East'?".</param>
/// <param name="Consequences">What doing it will do, one sentence each.</param>
/// <param name="Action">Where the form posts (with its handler).</param>
/// <param name="Fields">The hidden fields the post carries (ids, the revision the page read).</param>
/// <param name="ConfirmLabel">The button that does it: "Delete the department".</param>
/// <param name="CancelUrl">Where "Cancel" goes back to.</param>
public sealed record Confirmation(
    string Key, string Title, IReadOnlyList<string> Consequences, string Action, IReadOnlyDictionary<string, string?> Fields, string ConfirmLabel, string CancelUrl)
{
    /// <summary>The query parameter that asks for the confirmation step.</summary>
    public const string Query = "confirm";

    /// <summary>Why the action would be refused as things stand (the Core's own refusal); the step then offers only "Back".</summary>
    public IReadOnlyList<string> Blockers { get; init; } = [];

    /// <summary>The label of a reason field posted with the action (kept in the audit trail); none when null.</summary>
    public string? ReasonLabel { get; init; }
}
