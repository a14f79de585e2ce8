using System.Text;
using IdentityHub.Core.Directory;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IdentityHub.Server.AdminApi;

/// <summary>
/// /import: departments and users from CSV (a <c>text/csv</c> body, or a multipart form with one file). A dry
/// run (the default) reports every row's problems; <c>dryRun=false</c> writes all rows in one transaction, or none.
/// <c>invite=true</c> on /users mails an invitation to every user the import creates who has an e-mail address, in the same
/// transaction (updated users are not invited; a created user without e-mail is listed in <c>notes</c>, not as an error); the
/// report's <c>invited</c> counts them (on a dry run: who would be invited; nothing is sent).
/// </summary>
public static class ImportApi
{
    public static void MapImportApi(this IEndpointRouteBuilder api)
    {
        // No Accepts(...) metadata: routing would answer 415 to a wrong content type before authorization runs.
        var import = api.MapGroup("/import").RequireAuthorization(AdminApiPolicies.Directory);
        import.MapPost("/departments", (HttpRequest request, CsvImport csv, CancellationToken cancellationToken, bool dryRun = true) =>
                ImportAsync(request, (reader, ct) => csv.ImportDepartmentsAsync(reader, dryRun, ct), cancellationToken)).WithSummary("Import departments from CSV (dry run by default)");
        import.MapPost("/users", ImportUsersAsync)
            .WithSummary("Import users from CSV (dry run by default; invite=true mails an invitation to each created user with an e-mail address)");
    }

    /// <summary><c>invite</c> is read by hand so a value that is not true or false is refused by name, like a body field.</summary>
    private static async Task<Results<Ok<CsvImportResult>, UnprocessableEntity<CsvImportResult>, ValidationProblem, ProblemHttpResult>> ImportUsersAsync(
        HttpRequest request, CsvImport csv, CancellationToken cancellationToken, bool dryRun = true, string? invite = null)
    {
        var inviting = false;
        if (!string.IsNullOrEmpty(invite) && !bool.TryParse(invite, out inviting))
        {
            return Problems.Invalid("invite", "invite must be true (invite each created user with an e-mail address) or false.");
        }

        return await ImportAsync(request, (reader, ct) => csv.ImportUsersAsync(reader, dryRun, inviting, ct), cancellationToken);
    }

    /// <summary>200 with the report when every row is fine (committed or not), 422 with the same report when a row is not.</summary>
    private static async Task<Results<Ok<CsvImportResult>, UnprocessableEntity<CsvImportResult>, ValidationProblem, ProblemHttpResult>> ImportAsync(
        HttpRequest request, Func<TextReader, CancellationToken, Task<CsvImportResult>> import, CancellationToken cancellationToken)
    {
        // CsvHelper reads synchronously and the server forbids synchronous body reads: buffer the file first.
        var buffer = new MemoryStream();
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(cancellationToken);
            if (form.Files is not [var file])
            {
                return Problems.Invalid("file", "Send exactly one CSV file in the multipart form.");
            }

            await file.CopyToAsync(buffer, cancellationToken);
        }
        else if (request.ContentType is { } type
            && (type.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase) || type.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase)))
        {
            await request.Body.CopyToAsync(buffer, cancellationToken);
        }
        else
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported media type",
                detail: "Send the CSV as a text/csv body or as one file in a multipart/form-data form.");
        }

        buffer.Position = 0;
        using var reader = new StreamReader(buffer, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var result = await import(reader, cancellationToken);
        return result.Errors.Count == 0 ? TypedResults.Ok(result) : TypedResults.UnprocessableEntity(result);
    }
}
