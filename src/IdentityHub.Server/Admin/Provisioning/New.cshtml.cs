using System.Globalization;
using IdentityHub.Core;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Access;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Queries;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Provisioning;

/// <summary>
/// A new connector for an application: choose the application, the kind and (for kinds that ship them) a preset whose
/// settings fill the text area; then name, settings and secret, created through the same <see cref="Connectors"/> service as
/// the admin API. A secret IdentityHub draws (webhooks) is shown on the answer to the creation only; otherwise the connector
/// page opens with the initial sync under way.
/// </summary>
public sealed class NewModel(Connectors connectors, ConnectorKinds kinds, ConnectorQueries queries, ApplicationQueries applicationQueries) : ConsolePageModel
{
    [BindProperty]
    public ConnectorForm Input { get; set; } = new();

    /// <summary>The application the connector is for (the <c>application</c> query parameter), when chosen.</summary>
    [BindProperty(SupportsGet = true, Name = "application")]
    public Guid? ApplicationId { get; set; }

    public Application? Application { get; private set; }

    public IReadOnlyList<ApplicationRow> Applications { get; private set; } = [];

    public IReadOnlyList<IConnectorKind> Kinds => kinds.All;

    public IConnectorKind? Kind => kinds.Find(Input.Kind);

    /// <summary>The chosen kind's presets.</summary>
    public IReadOnlyList<ConnectorPreset> Presets => Kind?.Presets ?? [];

    /// <summary>Whether the chosen kind's secret is drawn by IdentityHub (no secret field).</summary>
    public bool SecretGenerated => Kind is { } kind && queries.GeneratesSecret(kind.Kind);

    /// <summary>The connector this very request created, with the secret drawn for it: shown on this response only.</summary>
    public ConnectorCreated? Created { get; private set; }

    /// <summary>The field errors of the refused form, as the Core names the fields.</summary>
    public IReadOnlyList<(string Field, string Message)> Errors => ConnectorForm.Errors(ModelState);

    /// <summary>A preset's title or description in the reader's language (English when it has none in it).</summary>
    public static string InLanguage(IReadOnlyDictionary<string, string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return texts.TryGetValue(CultureInfo.CurrentUICulture.Name, out var text) || texts.TryGetValue("en", out text) ? text : texts.Values.FirstOrDefault() ?? "";
    }

    /// <summary>Shows the choice; with a kind (and a preset) chosen, the form is filled with the preset's settings.</summary>
    public async Task<IActionResult> OnGetAsync(string? kind, string? preset, CancellationToken cancellationToken)
    {
        Input = new ConnectorForm { Kind = kinds.Find(kind)?.Name, Preset = string.IsNullOrWhiteSpace(preset) ? null : preset.Trim() };
        if (Kind is { } chosen)
        {
            var filled = chosen.Presets.FirstOrDefault(p => p.Name == Input.Preset);
            Input.Settings = filled is null ? "{}" : ConnectorForm.Pretty(filled.Settings);
            Input.Name = filled is null ? null : InLanguage(filled.Title);
        }

        await LoadAsync(cancellationToken);
        return Page();
    }

    /// <summary>Creates the connector as the admin API's POST does; a refusal is shown on its fields with what was typed.</summary>
    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        ConnectorCreated created;
        try
        {
            if (ApplicationId is not { } applicationId)
            {
                throw RuleViolation.Field("application", "Choose the application the connector is for.", ViolationKind.Invalid, "connector.applicationRequired");
            }

            created = await connectors.CreateAsync(applicationId, Input.ToInput(), cancellationToken);
        }
        catch (RuleViolation violation)
        {
            var title = violation.Kind == ViolationKind.Invalid ? ThemeTexts["admin.connectors.notSaved"].Value : null;
            Refused(title is null ? violation : new RuleViolation(violation.Kind, title, violation.Errors, violation.Codes), ConnectorForm.Prefix);
            Input.Secret = null;
            await LoadAsync(cancellationToken);
            return Page();
        }

        var name = created.Connector.Name;
        var users = created.InitialSync?.Total ?? 0;
        if (created.GeneratedSecret is not null)
        {
            // As with an OIDC client's secret: this answer itself shows it, never a redirect (no cookie, no URL), never cached.
            Created = created;
            Response.Headers.CacheControl = "no-store";
            Response.Headers.Pragma = "no-cache";
            Notice = null;
            Alert = new ConsoleAlert(CreatedNotice(name, users), [], IsError: false);
            await LoadAsync(cancellationToken);
            return Page();
        }

        return Did($"/admin/provisioning/{created.Connector.Id}", users == 0 ? "admin.done.connectorCreated" : "admin.done.connectorCreatedSync", name, users);
    }

    private string CreatedNotice(string name, int users) =>
        ThemeTexts[users == 0 ? "admin.done.connectorCreated" : "admin.done.connectorCreatedSync", name, users].Value;

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        Applications = await applicationQueries.ListAsync(cancellationToken);
        Application = ApplicationId is { } id ? await applicationQueries.GetAsync(id, cancellationToken) : null;
    }
}
