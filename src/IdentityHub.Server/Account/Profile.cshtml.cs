using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Claims;
using IdentityHub.Core;
using IdentityHub.Core.Directory;
using IdentityHub.Data.Directory;
using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityHub.Server.Account;

/// <summary>
/// The person's own profile: what they may edit (<see cref="SelfServiceSettings"/>) as fields, the rest as text. Changes
/// go through <see cref="UserDirectory.UpdateOwnProfileAsync"/>: checked, audited and provisioned like an administrator's.
/// </summary>
[Authorize]
public sealed class ProfileModel(UserManager<UserAccount> users, UserDirectory directory, SelfServiceSettings settings, ThemeMessages messages) : PageModel
{
    [BindProperty]
    public ProfileForm Input { get; set; } = new();

    public SelfServiceSettings Settings => settings;

    public UserAccount? Person { get; private set; }

    public Dictionary<string, List<string>> Errors { get; } = new(StringComparer.Ordinal);

    public string? Message { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        if (await LoadAsync() is not { } user)
        {
            return Challenge();
        }

        Input = new ProfileForm { DisplayName = user.DisplayName, Email = user.Email, PhoneNumber = user.PhoneNumber };
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (await LoadAsync() is not { } user)
        {
            return Challenge();
        }

        try
        {
            // A field not on the form (not editable) arrives as null: unchanged; one posted anyway is refused by the directory.
            Person = await directory.UpdateOwnProfileAsync(user.Id, new ProfileInput(Input.DisplayName, Input.Email, Input.PhoneNumber), settings,
                HttpContext.RequestAborted);
            Message = messages["account.profile.saved"];
        }
        catch (RuleViolation violation)
        {
            Response.StatusCode = violation.Kind == ViolationKind.Invalid ? StatusCodes.Status400BadRequest : ConsoleStatus(violation.Kind);
            foreach (var (field, list) in violation.Errors)
            {
                Errors[field] = [.. list.Select(m => Localize(violation, m))];
            }

            if (violation.Errors.Count == 0)
            {
                Errors[""] = [violation.Message];
            }

            Person = await LoadAsync();
        }

        return Page();
    }

    private static int ConsoleStatus(ViolationKind kind) => Admin.ConsoleForms.StatusOf(kind);

    private string Localize(RuleViolation violation, string message) =>
        violation.Codes.TryGetValue(message, out var code) && messages["account.error." + code.Code] is { ResourceNotFound: false } text
            ? string.Format(CultureInfo.CurrentCulture, text.Value, [.. code.Arguments.Select(a => (object)messages["account.profile." + a].Value)])
            : message;

    private async Task<UserAccount?> LoadAsync() =>
        Person = User.FindFirstValue(ClaimTypes.NameIdentifier) is { } id ? await users.FindByIdAsync(id) : null;
}

/// <summary>A field posted empty means "clear it" (kept as ""); a field not posted (not editable, so not on the form) stays null: unchanged.</summary>
public sealed class ProfileForm
{
    [DisplayFormat(ConvertEmptyStringToNull = false)]
    public string? DisplayName { get; set; }

    [DisplayFormat(ConvertEmptyStringToNull = false)]
    public string? Email { get; set; }

    [DisplayFormat(ConvertEmptyStringToNull = false)]
    public string? PhoneNumber { get; set; }
}
