using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Server.Oidc;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using OpenIddict.Server;

namespace IdentityHub.Server.Admin.Applications;

/// <summary>
/// The OIDC section of the application page: the client registered and edited, switched off and on; its secret rotated
/// and the client deleted, each after the page's confirmation step; every write through <see cref="OidcClients"/> with
/// the page's revision.
/// </summary>
public sealed partial class DetailModel
{
    /// <summary>What <c>?confirm=</c> asks for: replacing the client's secret.</summary>
    public const string ConfirmRotateSecret = "rotateSecret";

    /// <summary>What <c>?confirm=</c> asks for: deleting the client.</summary>
    public const string ConfirmDeleteOidc = "deleteOidc";

    private OidcForm? _postedOidc;
    private OidcForm? _oidcEdit;

    /// <summary>The application's OIDC client, when one is registered.</summary>
    public OidcClientView? Oidc { get; private set; }

    /// <summary>The edit form: as posted when it comes back refused (nothing typed is lost), else the registered client.</summary>
    public OidcForm OidcEdit => _oidcEdit ??= _postedOidc ?? OidcForm.Of(Oidc);

    /// <summary>A secret the server drew in this very request: shown on this response only, never stored readable.</summary>
    public ClientSecretIssued? IssuedSecret { get; private set; }

    /// <summary>What a relying party is configured with: issuer, discovery document and endpoints.</summary>
    public IssuerEndpoints OidcEndpoints =>
        IssuerEndpoints.Of(HttpContext, HttpContext.RequestServices.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue);

    /// <summary>The field errors of one field of the client form, as the Core names it (<c>redirectUris</c>).</summary>
    public IEnumerable<string> OidcErrors(string field) =>
        ModelState.TryGetValue($"{nameof(OidcEdit)}.{char.ToUpperInvariant(field[0])}{field[1..]}", out var entry)
            ? entry.Errors.Select(e => e.ErrorMessage)
            : [];

    /// <summary>Registers the client or saves its changes, with the page's revision as If-Match.</summary>
    public async Task<IActionResult> OnPostOidcAsync(
        Guid id, [Bind(Prefix = nameof(OidcEdit))] OidcForm form, [FromServices] OidcClients clients, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(form);
        _postedOidc = form;
        ClientRegistrationResponse registered;
        try
        {
            registered = await clients.RegisterAsync(id, form.ToRequest(), form.Revision, cancellationToken);
        }
        catch (RuleViolation violation)
        {
            return await OidcRefusedAsync(id, violation, nameof(OidcEdit), cancellationToken);
        }

        if (registered.ClientSecret is { } secret)
        {
            return await ShowSecretOnceAsync(id, new ClientSecretIssued(registered.ClientId, secret), cancellationToken);
        }

        return Done(registered.ClientId, $"/admin/applications/{id}");
    }

    /// <summary>Switches the client off (no code, no token) or on again.</summary>
    public async Task<IActionResult> OnPostOidcEnabledAsync(
        Guid id, bool enabled, long? revision, [FromServices] OidcClients clients, CancellationToken cancellationToken)
    {
        try
        {
            var client = await clients.SetEnabledAsync(id, enabled, revision, cancellationToken);
            Notice = Texts[enabled ? "admin.oidc.enabledNotice" : "admin.oidc.disabledNotice", client.ClientId].Value;
            return LocalRedirect($"/admin/applications/{id}#oidc-heading");
        }
        catch (RuleViolation violation)
        {
            return await OidcRefusedAsync(id, violation, "", cancellationToken);
        }
    }

    /// <summary>Replaces the secret after the confirmation step (<see cref="ConfirmRotateSecret"/>); the page then says so and shows the new secret once.</summary>
    public async Task<IActionResult> OnPostRotateSecretAsync(Guid id, long? revision, [FromServices] OidcClients clients, CancellationToken cancellationToken)
    {
        try
        {
            var issued = await clients.RotateSecretAsync(id, revision, cancellationToken);
            Alert = new ConsoleAlert(Texts["admin.done.secretRotated", issued.ClientId], [], IsError: false);
            return await ShowSecretOnceAsync(id, issued, cancellationToken);
        }
        catch (RuleViolation violation)
        {
            return await OidcRefusedAsync(id, violation, "", cancellationToken);
        }
    }

    /// <summary>Deletes the client after the confirmation step (<see cref="ConfirmDeleteOidc"/>) and names it on the application's page.</summary>
    public async Task<IActionResult> OnPostDeleteOidcAsync(Guid id, long? revision, [FromServices] OidcClients clients, CancellationToken cancellationToken)
    {
        var clientId = (await oidcQueries.GetAsync(id, cancellationToken))?.Registration.ClientId;
        try
        {
            await clients.DeleteAsync(id, revision, cancellationToken);
        }
        catch (RuleViolation violation)
        {
            return await OidcRefusedAsync(id, violation, "", cancellationToken);
        }

        return Did($"/admin/applications/{id}#oidc-heading", "admin.done.oidcDeleted", clientId ?? "");
    }

    /// <summary>
    /// The step before rotating the secret (irreversible: the old secret stops working) or deleting the client, with what it
    /// will do counted as things stand; null when there is no client, or no secret to rotate.
    /// </summary>
    private async Task<Confirmation?> OidcConfirmationAsync(Guid id, string confirming, CancellationToken cancellationToken)
    {
        if (Oidc is not { } view
            || await HttpContext.RequestServices.GetRequiredService<Consequences>().OfOidcClientAsync(id, cancellationToken) is not { } impact)
        {
            return null;
        }

        var texts = Texts;
        var page = $"/admin/applications/{id}";
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal) { ["revision"] = impact.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (confirming == ConfirmDeleteOidc)
        {
            return new Confirmation(
                "delete-oidc", texts["admin.confirm.oidc.title", impact.ClientId, Application!.Name],
                [
                    texts["admin.confirm.oidc.revoked", impact.ValidTokens, impact.Authorizations],
                    texts["admin.confirm.oidc.again"],
                ],
                $"{page}?handler=deleteOidc", fields, texts["admin.confirm.oidc.yes"], $"{page}#oidc-heading");
        }

        return view.Registration.TokenEndpointAuthMethod is ClientRegistration.SecretBasic or ClientRegistration.SecretPost
            ? new Confirmation(
                "rotate-secret", texts["admin.confirm.rotate.title", impact.ClientId],
                [
                    texts["admin.confirm.rotate.oldSecret"],
                    texts["admin.confirm.rotate.tokens", impact.ValidTokens],
                    texts["admin.confirm.rotate.once"],
                ],
                $"{page}?handler=rotateSecret", fields, texts["admin.confirm.rotate.yes"], $"{page}#oidc-heading")
            : null;
    }

    /// <summary>
    /// The page itself answers the write that drew a secret, rather than a redirect: the secret then never travels in a
    /// cookie or a URL, and no-store keeps it out of the browser's caches. Reloading posts again, which the revision refuses.
    /// </summary>
    private async Task<IActionResult> ShowSecretOnceAsync(Guid id, ClientSecretIssued issued, CancellationToken cancellationToken)
    {
        IssuedSecret = issued;
        _postedOidc = null;
        Response.Headers.CacheControl = "no-store";
        Response.Headers.Pragma = "no-cache";
        return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
    }

    /// <summary>The refusal on the form: field errors by their inputs; a stale revision explained in the section's own words.</summary>
    private async Task<IActionResult> OidcRefusedAsync(Guid id, RuleViolation violation, string prefix, CancellationToken cancellationToken)
    {
        var title = violation.Kind switch
        {
            ViolationKind.Stale => Texts["admin.oidc.stale"].Value,
            ViolationKind.Invalid when prefix.Length > 0 => Texts["admin.oidc.notSaved"].Value,
            _ => null,
        };
        Refused(title is null ? violation : new RuleViolation(violation.Kind, title, violation.Errors, violation.Codes), prefix);
        return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
    }
}
