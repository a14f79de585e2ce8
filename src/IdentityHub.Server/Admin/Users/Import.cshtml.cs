using System.Text;
using IdentityHub.Core.Directory;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Users;

/// <summary>
/// Imports people from a CSV file (<c>/admin/users/import</c>) through the same <see cref="CsvImport"/> the admin API's
/// <c>POST /import/users</c> calls: check (dry run) or import (one transaction, or nothing), optionally inviting every person
/// the import creates with an e-mail address.
/// </summary>
public sealed class ImportModel(CsvImport import) : ConsolePageModel
{
    /// <summary>The largest file the form takes (the API takes what the server's body limit allows).</summary>
    public const long MaxFileBytes = 20 * 1024 * 1024;

    [BindProperty]
    public bool Invite { get; set; }

    public CsvImportResult? Result { get; private set; }

    public void OnGet()
    {
    }

    /// <summary>The "check" and "import" buttons post the same form; only "import" commits.</summary>
    public async Task<IActionResult> OnPostAsync(IFormFile? file, bool commit, CancellationToken cancellationToken)
    {
        if (file is null || file.Length == 0 || file.Length > MaxFileBytes)
        {
            ModelState.AddModelError("file", ThemeTexts["admin.import.fileRequired"]);
            Alert = new ConsoleAlert(ThemeTexts["admin.error.invalid"], [ThemeTexts["admin.import.fileRequired"]]);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        // CsvHelper reads synchronously and the server forbids synchronous body reads: buffer the file first.
        using var buffer = new MemoryStream();
        await file.CopyToAsync(buffer, cancellationToken);
        buffer.Position = 0;
        using var reader = new StreamReader(buffer, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        Result = await import.ImportUsersAsync(reader, dryRun: !commit, Invite, cancellationToken);
        if (Result.Errors.Count > 0)
        {
            Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
        }

        return Page();
    }
}
