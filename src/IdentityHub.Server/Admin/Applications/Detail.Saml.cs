using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Saml.Metadata;
using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Applications;

/// <summary>The SAML section of the application page: the SP shown, edited field by field, imported from metadata, removed after the page's confirmation step; every write through <see cref="SamlServiceProviders"/>.</summary>
public sealed partial class DetailModel
{
    /// <summary>What <c>?confirm=</c> asks for: removing the SAML service provider.</summary>
    public const string ConfirmRemoveSaml = "removeSaml";

    private SamlForm? _postedSaml;
    private SamlForm? _samlEdit;

    /// <summary>The application's SAML service provider, when one is registered.</summary>
    public SamlServiceProviderView? Saml { get; private set; }

    [BindProperty]
    public SamlImportForm SamlImport { get; set; } = new();

    /// <summary>The edit form: as posted when it comes back refused (nothing typed is lost), else the registered SP.</summary>
    public SamlForm SamlEdit => _samlEdit ??= _postedSaml?.WithSpareRows() ?? SamlForm.Of(Saml?.Registration, Saml?.Revision);

    /// <summary>The field errors of one field of the edit form, as the Core names it (<c>assertionConsumerServices[0].url</c>).</summary>
    public IEnumerable<string> SamlErrors(string field) =>
        ModelState.TryGetValue($"{nameof(SamlEdit)}.{char.ToUpperInvariant(field[0])}{field[1..]}", out var entry)
            ? entry.Errors.Select(e => e.ErrorMessage)
            : [];

    /// <summary>Registers or replaces the SAML SP from an uploaded metadata file or a metadata URL, by the admin API's own rules.</summary>
    public Task<IActionResult> OnPostSamlMetadataAsync(Guid id, [FromServices] SamlServiceProviders providers, CancellationToken cancellationToken) =>
        SamlWriteAsync(id, nameof(SamlImport), "admin.saml.refused", async () =>
        {
            var xml = await ReadUploadAsync(SamlImport.MetadataFile, cancellationToken);
            var imported = await providers.ImportAsync(
                id, new SamlMetadataImportRequest(xml, SamlImport.MetadataUrl, SamlImport.NameIdFormat, SamlImport.AllowIdpInitiated), SamlImport.Revision, cancellationToken);
            return SavedWhat(imported);
        }, cancellationToken);

    /// <summary>Saves the edit form, with the page's revision as If-Match; "add" only adds an empty row (no JavaScript needed).</summary>
    public async Task<IActionResult> OnPostSamlAsync(
        Guid id, [Bind(Prefix = nameof(SamlEdit))] SamlForm form, string? add, [FromServices] SamlServiceProviders providers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(form);
        if (add is not null)
        {
            ModelState.Clear();
            _postedSaml = form.WithEmptyRow(add);
            return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
        }

        _postedSaml = form.WithoutEmptyRows();
        return await SamlWriteAsync(id, nameof(SamlEdit), "admin.saml.notSaved", async () =>
        {
            var saved = await providers.SaveAsync(id, _postedSaml.ToDto(), _postedSaml.Revision, cancellationToken);
            return saved.Registration.EntityId;
        }, cancellationToken);
    }

    /// <summary>Removes the SP after the confirmation step (<see cref="ConfirmRemoveSaml"/>) and names it on the application's page.</summary>
    public async Task<IActionResult> OnPostDeleteSamlAsync(Guid id, long? revision, [FromServices] SamlServiceProviders providers, CancellationToken cancellationToken)
    {
        var entityId = (await samlQueries.OfApplicationAsync(id, cancellationToken))?.Registration.EntityId;
        try
        {
            await providers.DeleteAsync(id, revision, cancellationToken);
        }
        catch (RuleViolation violation)
        {
            return await SamlRefusedAsync(id, violation, "", "admin.saml.notSaved", cancellationToken);
        }

        return Did($"/admin/applications/{id}#saml-heading", "admin.done.samlRemoved", entityId ?? "");
    }

    /// <summary>The step before removing the SP: who can no longer sign in with SAML, and that a new registration changes every NameID.</summary>
    private Confirmation? SamlRemoval(Guid id)
    {
        if (Saml is not { } view)
        {
            return null;
        }

        var page = $"/admin/applications/{id}";
        return new Confirmation(
            "remove-saml", Texts["admin.confirm.saml.title", view.Registration.EntityId, Application!.Name],
            [
                Texts["admin.confirm.saml.signIn"],
                Texts["admin.confirm.saml.nameId"],
            ],
            $"{page}?handler=deleteSaml",
            new Dictionary<string, string?>(StringComparer.Ordinal) { ["revision"] = view.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            Texts["admin.confirm.saml.yes"], $"{page}#saml-heading");
    }

    private ThemeMessages Texts => HttpContext.RequestServices.GetRequiredService<ThemeMessages>();

    private async Task<IActionResult> SamlWriteAsync(Guid id, string prefix, string refusedTitle, Func<Task<string>> write, CancellationToken cancellationToken)
    {
        try
        {
            return Done(await write(), $"/admin/applications/{id}");
        }
        catch (RuleViolation violation)
        {
            return await SamlRefusedAsync(id, violation, prefix, refusedTitle, cancellationToken);
        }
    }

    /// <summary>The refusal on the form: field errors by their inputs; a stale revision explained in the SAML section's own words.</summary>
    private async Task<IActionResult> SamlRefusedAsync(Guid id, RuleViolation violation, string prefix, string refusedTitle, CancellationToken cancellationToken)
    {
        var title = violation.Kind switch
        {
            ViolationKind.Stale => Texts["admin.saml.stale"].Value,
            ViolationKind.Invalid => Texts[refusedTitle].Value,
            _ => null,
        };
        Refused(title is null ? violation : new RuleViolation(violation.Kind, title, violation.Errors, violation.Codes), prefix);
        return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
    }

    /// <summary>The uploaded file as text, refused unread when larger than the API accepts.</summary>
    private static async Task<string?> ReadUploadAsync(IFormFile? file, CancellationToken cancellationToken)
    {
        if (file is null || file.Length == 0)
        {
            return null;
        }

        if (file.Length > SpMetadata.MaxChars)
        {
            var kib = (SpMetadata.MaxChars / 1024).ToString(System.Globalization.CultureInfo.InvariantCulture);
            throw RuleViolation.Field("metadataXml", $"The metadata file is larger than {kib} KiB.", ViolationKind.Invalid, "saml.metadataTooLarge", kib);
        }

        using var reader = new StreamReader(file.OpenReadStream());
        return await reader.ReadToEndAsync(cancellationToken);
    }

    private string SavedWhat(SamlMetadataImported imported) =>
        imported.Skipped.Count == 0
            ? imported.ServiceProvider.Registration.EntityId
            : $"{imported.ServiceProvider.Registration.EntityId} ({Texts["admin.saml.leftOut"].Value}: {string.Join(", ", imported.Skipped.Select(s => $"{s.Element} {s.Binding}"))})";
}

/// <summary>The console's SAML registration form: a metadata file or a metadata URL, and the choices metadata does not carry.</summary>
public sealed class SamlImportForm
{
    public IFormFile? MetadataFile { get; set; }

    public string? MetadataUrl { get; set; }

    /// <summary>persistent, emailAddress or unspecified; empty takes the metadata's.</summary>
    public string? NameIdFormat { get; set; }

    public bool AllowIdpInitiated { get; set; }

    /// <summary>The revision of the SP the page showed, when it replaces one (If-Match).</summary>
    public long? Revision { get; set; }
}
