using System.Globalization;
using IdentityHub.Core;
using IdentityHub.Provisioning.Connectors;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Provisioning;

/// <summary>
/// Changing a connector from its page, through the same <see cref="Connectors"/> service as the admin API: name, settings and
/// an optional new secret with the page's revision as If-Match; deletion after the confirmation step; and the REST dry run
/// (the requests a chosen person's delivery would send now, a signature included, a static secret masked).
/// </summary>
public sealed partial class ConnectorModel
{
    public const string ConfirmDelete = "delete";

    private ConnectorForm? _postedEdit;

    /// <summary>The edit form: as posted when it comes back refused (nothing typed is lost but the secret), else the stored connector.</summary>
    public ConnectorForm Edit { get; private set; } = new();

    /// <summary>Whether IdentityHub drew this connector's secret itself (webhooks): the form then has no secret field.</summary>
    public bool SecretGenerated { get; private set; }

    /// <summary>Whether the connector's kind can show the requests a delivery would send.</summary>
    public bool Previewable { get; private set; }

    /// <summary>The edit form's field errors, as the Core names the fields.</summary>
    public IReadOnlyList<(string Field, string Message)> EditErrors => ConnectorForm.Errors(ModelState);

    /// <summary>The person the preview is for: the picker's chosen id and its text.</summary>
    [BindProperty]
    public string? UserId { get; set; }

    [BindProperty]
    public string? UserText { get; set; }

    public PickerField PreviewPicker => new(PickerKind.User, "preview-user", nameof(UserId), nameof(UserText), UserId, UserText, ThemeTexts["admin.connectors.previewUser"])
    {
        Required = true,
    };

    /// <summary>The dry run this request asked for.</summary>
    public ConnectorPreview? Preview { get; private set; }

    /// <summary>Saves name, settings and (when typed) a new secret, with the page's revision as If-Match.</summary>
    public async Task<IActionResult> OnPostEditAsync(Guid id, [Bind(Prefix = ConnectorForm.Prefix)] ConnectorForm input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        _postedEdit = input;
        Edit = input;
        try
        {
            // The kind never changes and a preset only fills a new connector: the form sends neither, as a PUT need not.
            var saved = await connectors.UpdateAsync(id, input.ToInput() with { Kind = null, Preset = null }, input.Revision, cancellationToken);
            return Did($"/admin/provisioning/{id}", "admin.done.connectorSaved", saved.Name);
        }
        catch (RuleViolation violation) when (violation.Kind != ViolationKind.NotFound)
        {
            Refused(Explained(violation), ConnectorForm.Prefix);
            Edit.Secret = null;
            return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
        }
        catch (RuleViolation)
        {
            return NotFound();
        }
    }

    /// <summary>Deletes the connector (its queue, states and history); the confirmation comes first (<c>?confirm=delete</c>).</summary>
    public async Task<IActionResult> OnPostDeleteAsync(Guid id, long? revision, CancellationToken cancellationToken)
    {
        if (await queries.GetAsync(id, cancellationToken) is not { } connector)
        {
            return NotFound();
        }

        try
        {
            await connectors.DeleteAsync(id, revision, cancellationToken);
        }
        catch (RuleViolation violation) when (violation.Kind != ViolationKind.NotFound)
        {
            Refused(Explained(violation), prefix: "");
            return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
        }
        catch (RuleViolation)
        {
            return NotFound();
        }

        return Did("/admin/provisioning", "admin.done.connectorDeleted", connector.Name, connector.ApplicationName);
    }

    /// <summary>
    /// The dry run for the chosen person. A POST, though nothing changes: the answer carries a signature the vendor would
    /// accept for a few minutes, so only those who may change the connector ask for it (as the API's preview), and it is not cached.
    /// </summary>
    public async Task<IActionResult> OnPostPreviewAsync(Guid id, CancellationToken cancellationToken)
    {
        Response.Headers.CacheControl = "no-store";
        var (found, userId) = await pickers.UserAsync(ModelState, nameof(UserId), UserId, UserText, cancellationToken);
        if (found && userId is null)
        {
            ModelState.AddModelError(nameof(UserId), ThemeTexts["admin.connectors.previewChooseUser"].Value);
        }
        else if (found)
        {
            try
            {
                Preview = await connectors.PreviewAsync(id, userId, cancellationToken);
                UserId = userId;
                UserText = await pickers.UserLabelAsync(userId, cancellationToken) ?? UserText;
            }
            catch (RuleViolation violation) when (violation.Errors.ContainsKey("userId") || violation.Kind != ViolationKind.NotFound)
            {
                Refused(violation, prefix: "");
            }
            catch (RuleViolation)
            {
                return NotFound();
            }
        }

        return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
    }

    /// <summary>The confirmation step of a deletion: what goes with the connector, and what stays at its target.</summary>
    private void ConfirmDeletion()
    {
        if (!CanWrite || Confirming != ConfirmDelete || Connector is not { } c || Status is not { } status)
        {
            return;
        }

        var texts = ThemeTexts;
        Confirm = new Confirmation(
            "delete-connector", texts["admin.confirm.connector.title", c.Name, c.ApplicationName],
            [
                texts["admin.confirm.connector.queue", status.Pending, status.Dead],
                texts["admin.confirm.connector.target"],
                texts["admin.confirm.connector.gone", c.ApplicationName],
            ],
            $"/admin/provisioning/{c.Id}?handler=delete",
            new Dictionary<string, string?>(StringComparer.Ordinal) { ["revision"] = Revision.Of(c.UpdatedAt).ToString(CultureInfo.InvariantCulture) },
            texts["admin.confirm.connector.yes"], $"/admin/provisioning/{c.Id}");
    }

    /// <summary>A stale revision and a refused form explained in the console's words; the Core's details stay beneath.</summary>
    private RuleViolation Explained(RuleViolation violation)
    {
        var title = violation.Kind switch
        {
            ViolationKind.Stale => ThemeTexts["admin.connectors.stale"].Value,
            ViolationKind.Invalid => ThemeTexts["admin.connectors.notSaved"].Value,
            _ => null,
        };
        return title is null ? violation : new RuleViolation(violation.Kind, title, violation.Errors, violation.Codes);
    }
}
