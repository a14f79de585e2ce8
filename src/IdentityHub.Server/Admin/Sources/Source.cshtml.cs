using System.Globalization;
using IdentityHub.Core;
using IdentityHub.Data.Inbound;
using IdentityHub.Provisioning.Inbound;
using IdentityHub.Provisioning.Queries;
using IdentityHub.Server.Admin.Provisioning;
using IdentityHub.Server.AdminApi;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Sources;

/// <summary>
/// One inbound source: everything <see cref="InboundSourceQueries"/> reads (subtrees, owned attributes, token hint, cursor,
/// schedule, runs with counts, last errors, latest report, conflicts); its edit form; the push token rotated (shown on that
/// answer only) or revoked; deletion; each destructive step after the one confirmation mechanism. Writes go through
/// <see cref="InboundSources"/>, as the admin API's do.
/// </summary>
public sealed partial class SourceModel(InboundSourceQueries queries, InboundSources sources, Pickers pickers) : ConsolePageModel
{
    public const string ConfirmDelete = "delete";
    public const string ConfirmRotate = "rotate";
    public const string ConfirmRevoke = "revoke";

    private bool _posted;

    public InboundSourceDetail? Source { get; private set; }

    [BindProperty]
    public SourceForm Input { get; set; } = new();

    /// <summary>The token a rotation on this very request issued: shown on this response only.</summary>
    public IssuedToken? Issued { get; private set; }

    public string ScimUrl => SourcesApi.ScimUrlOf(Request);

    public IReadOnlyList<(string Field, string Message)> EditErrors => ConnectorForm.Errors(ModelState, SourceForm.Prefix);

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }

        Confirm = Confirming switch
        {
            ConfirmDelete => Deleting(),
            ConfirmRotate => Rotating(),
            ConfirmRevoke => Revoking(),
            ConfirmApprove => Approving(),
            _ => null,
        };
        return Page();
    }

    /// <summary>Saves the form with the page's revision as If-Match; a refusal is shown on its fields with what was typed (but the secret).</summary>
    public async Task<IActionResult> OnPostEditAsync(Guid id, CancellationToken cancellationToken)
    {
        _posted = true;
        var (picked, subtrees) = await Input.ResolveSubtreesAsync(pickers, ModelState, cancellationToken);
        try
        {
            if (!picked)
            {
                throw RuleViolation.Field("subtrees", ThemeTexts["admin.sources.subtreeUnresolved"].Value);
            }

            var stored = await queries.GetAsync(id, cancellationToken) ?? throw RuleViolation.NotFound("source", id);
            // The kind never changes: the form does not send it, the stored one goes with the input.
            var saved = await sources.UpdateAsync(id, Input.ToInput(subtrees) with { Kind = stored.Kind.ToString() }, Input.Revision, cancellationToken);
            return Did($"/admin/sources/{id}", "admin.sources.done.saved", saved.Name);
        }
        catch (RuleViolation violation) when (violation.Kind != ViolationKind.NotFound)
        {
            Refused(Explained(violation), SourceForm.Prefix);
            Input.Secret = null;
            return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
        }
        catch (RuleViolation)
        {
            return NotFound();
        }
    }

    public async Task<IActionResult> OnPostDeleteAsync(Guid id, long? revision, CancellationToken cancellationToken)
    {
        var name = await queries.NameAsync(id, cancellationToken);
        if (name is null)
        {
            return NotFound();
        }

        try
        {
            await sources.DeleteAsync(id, revision, cancellationToken);
            return Did("/admin/sources", "admin.sources.done.deleted", name);
        }
        catch (RuleViolation violation) when (violation.Kind != ViolationKind.NotFound)
        {
            Refused(Explained(violation), prefix: "");
            return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
        }
    }

    /// <summary>Issues a new token (the old one stops working at once) and shows it on this answer, never cached.</summary>
    public async Task<IActionResult> OnPostRotateAsync(Guid id, CancellationToken cancellationToken)
    {
        try
        {
            Issued = await sources.IssueTokenAsync(id, cancellationToken);
        }
        catch (RuleViolation violation) when (violation.Kind != ViolationKind.NotFound)
        {
            Refused(violation, prefix: "");
            return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
        }
        catch (RuleViolation)
        {
            return NotFound();
        }

        Response.Headers.CacheControl = "no-store";
        Response.Headers.Pragma = "no-cache";
        Notice = null;
        Alert = new ConsoleAlert(ThemeTexts["admin.sources.done.rotated", Issued.Hint].Value, [], IsError: false);
        return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
    }

    public async Task<IActionResult> OnPostRevokeAsync(Guid id, CancellationToken cancellationToken)
    {
        try
        {
            await sources.RevokeTokenAsync(id, cancellationToken);
        }
        catch (RuleViolation violation) when (violation.Kind == ViolationKind.NotFound)
        {
            return NotFound();
        }

        return Did($"/admin/sources/{id}", "admin.sources.done.revoked");
    }

    private async Task<bool> LoadAsync(Guid id, CancellationToken cancellationToken)
    {
        Source = await queries.GetAsync(id, cancellationToken);
        if (Source is null)
        {
            return false;
        }

        if (!_posted)
        {
            Input = SourceForm.Of(Source);
        }

        return true;
    }

    private Confirmation? Deleting()
    {
        if (!CanWrite || Source is not { } s)
        {
            return null;
        }

        var texts = ThemeTexts;
        return new Confirmation(
            "delete-source", texts["admin.sources.confirm.delete.title", s.Name],
            [texts["admin.sources.confirm.delete.stay", s.People, s.Departments], texts["admin.sources.confirm.delete.token"], texts["admin.sources.confirm.delete.history"]],
            $"/admin/sources/{s.Id}?handler=delete", Revisioned(s), texts["admin.sources.confirm.delete.yes"], $"/admin/sources/{s.Id}");
    }

    private Confirmation? Rotating()
    {
        if (!CanWrite || Source is not { Kind: InboundSourceKind.Scim } s)
        {
            return null;
        }

        var texts = ThemeTexts;
        return new Confirmation(
            "rotate-token", texts["admin.sources.confirm.rotate.title", s.Name],
            [texts["admin.sources.confirm.rotate.old", s.TokenHint ?? "—"], texts["admin.sources.confirm.rotate.once"]],
            $"/admin/sources/{s.Id}?handler=rotate", new Dictionary<string, string?>(StringComparer.Ordinal), texts["admin.sources.confirm.rotate.yes"], $"/admin/sources/{s.Id}");
    }

    private Confirmation? Revoking()
    {
        if (!CanWrite || Source is not { Kind: InboundSourceKind.Scim, TokenHint: not null } s)
        {
            return null;
        }

        var texts = ThemeTexts;
        return new Confirmation(
            "revoke-token", texts["admin.sources.confirm.revoke.title", s.Name],
            [texts["admin.sources.confirm.revoke.refused", s.TokenHint!], texts["admin.sources.confirm.revoke.again"]],
            $"/admin/sources/{s.Id}?handler=revoke", new Dictionary<string, string?>(StringComparer.Ordinal), texts["admin.sources.confirm.revoke.yes"], $"/admin/sources/{s.Id}");
    }

    private static Dictionary<string, string?> Revisioned(InboundSourceDetail s) =>
        new(StringComparer.Ordinal) { ["revision"] = Revision.Of(s.UpdatedAt).ToString(CultureInfo.InvariantCulture) };

    /// <summary>A stale revision and a refused form explained in the console's words; the Core's details stay beneath.</summary>
    private RuleViolation Explained(RuleViolation violation)
    {
        var title = violation.Kind switch
        {
            ViolationKind.Stale => ThemeTexts["admin.sources.stale"].Value,
            ViolationKind.Invalid => ThemeTexts["admin.sources.notSaved"].Value,
            _ => null,
        };
        return title is null ? violation : new RuleViolation(violation.Kind, title, violation.Errors, violation.Codes);
    }
}
