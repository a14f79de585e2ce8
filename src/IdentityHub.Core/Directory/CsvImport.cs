using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using IdentityHub.Core.Audit;
using IdentityHub.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Directory;

/// <summary>A problem with one row of an import file: the line number (the header is line 1), the column and what is wrong.</summary>
public sealed record CsvRowError(int Row, string Field, string Message);

/// <summary>Something to know about one row that is not a problem (a created user who was not invited: no e-mail address).</summary>
public sealed record CsvRowNote(int Row, string Field, string Message);

/// <summary>
/// What an import did, or would do on a dry run: rows read, created, updated, invited (users created with an invitation, or on a
/// dry run those who would be), every row's problems, and notes that are not problems.
/// </summary>
public sealed record CsvImportResult(
    bool DryRun, bool Committed, int Rows, int Created, int Updated, int Unchanged, IReadOnlyList<CsvRowError> Errors, int Invited = 0,
    IReadOnlyList<CsvRowNote>? Notes = null);

/// <summary>One department line: <c>code,name,parentCode</c>.</summary>
public sealed record DepartmentCsvRow(int Row, string Code, string Name, string? ParentCode);

/// <summary>One user line: <c>employeeNumber,userName,displayName,email,phoneNumber,departmentCode,managerEmployeeNumber</c>.</summary>
public sealed record UserCsvRow(
    int Row, string EmployeeNumber, string UserName, string DisplayName, string? Email, string? PhoneNumber,
    string? DepartmentCode, string? ManagerEmployeeNumber);

/// <summary>
/// Imports departments (by code, with the parent's code) and users (by employee number, with the department's
/// code) from CSV. Every row goes through the same <see cref="Departments"/> and <see cref="UserDirectory"/>
/// calls an administrator's change does, inside ONE transaction: a dry run rolls it back and reports, a commit
/// keeps it only when no row failed. So a dry run finds exactly the problems a commit would.
/// </summary>
public sealed class CsvImport(IdentityHubDbContext db, Departments departments, UserDirectory users, AuditTrail audit, Mail.MailSignal mailSignal)
{
    /// <summary>What the audit event of an invitation sent by a user import names as its cause.</summary>
    public const string InvitationCause = "import:users";

    /// <summary>The note on a created user's row when an invitation was asked for but they have no e-mail address.</summary>
    public const string NotInvitedNoEmail = "not invited: no e-mail";

    public const int MaxRows = 100_000;

    /// <summary>How many created users wait in the unit of work before they are saved together.</summary>
    private const int BatchSize = 500;

    public static readonly IReadOnlyList<string> DepartmentColumns = ["code", "name", "parentCode"];

    public static readonly IReadOnlyList<string> UserColumns =
        ["employeeNumber", "userName", "displayName", "email", "phoneNumber", "departmentCode", "managerEmployeeNumber"];

    /// <summary>Reads department rows; format problems (missing values, a code twice, a parent cycle in the file) are reported per row.</summary>
    public static (List<DepartmentCsvRow> Rows, List<CsvRowError> Errors) ParseDepartments(TextReader csv)
    {
        var rows = new List<DepartmentCsvRow>();
        var errors = ReadRows(csv, DepartmentColumns, ["code", "name"], (row, get) =>
        {
            rows.Add(new DepartmentCsvRow(row, get("code") ?? "", get("name") ?? "", get("parentCode")));
        });
        AddDuplicates(rows, r => r.Code, r => r.Row, "code", errors);
        return (rows, errors);
    }

    /// <summary>Reads user rows; format problems (missing values, an employee number twice) are reported per row.</summary>
    public static (List<UserCsvRow> Rows, List<CsvRowError> Errors) ParseUsers(TextReader csv)
    {
        var rows = new List<UserCsvRow>();
        var errors = ReadRows(csv, UserColumns, ["employeeNumber", "displayName"], (row, get) =>
        {
            var employeeNumber = get("employeeNumber") ?? "";
            rows.Add(new UserCsvRow(
                row, employeeNumber, get("userName") ?? employeeNumber, get("displayName") ?? "", get("email"), get("phoneNumber"),
                get("departmentCode"), get("managerEmployeeNumber")));
        });
        AddDuplicates(rows, r => r.EmployeeNumber, r => r.Row, "employeeNumber", errors);
        AddDuplicates(rows, r => r.UserName, r => r.Row, "userName", errors);
        return (rows, errors);
    }

    public async Task<CsvImportResult> ImportDepartmentsAsync(TextReader csv, bool dryRun, CancellationToken cancellationToken)
    {
        var (rows, errors) = ParseDepartments(csv);
        var ordered = ParentsFirst(rows, r => r.Code, r => r.ParentCode, r => r.Row, "parentCode", errors);
        var failed = errors.Select(e => e.Row).ToHashSet();
        int created = 0, updated = 0, unchanged = 0;

        return await InOneTransactionAsync(dryRun, rows.Count, errors, "departments", async () =>
        {
            var existing = await db.Departments.AsNoTracking()
                .Select(d => new { d.Id, d.Code, d.Name, d.ParentId })
                .ToDictionaryAsync(d => d.Code, StringComparer.Ordinal, cancellationToken);
            var ids = existing.ToDictionary(e => e.Key, e => e.Value.Id, StringComparer.Ordinal);
            foreach (var row in ordered.Where(r => !failed.Contains(r.Row)))
            {
                Guid? parentId = null;
                if (!string.IsNullOrEmpty(row.ParentCode))
                {
                    if (!ids.TryGetValue(row.ParentCode, out var parent))
                    {
                        errors.Add(new CsvRowError(row.Row, "parentCode", $"No department has the code \"{row.ParentCode}\" (in the directory or on an earlier valid row)."));
                        continue;
                    }

                    parentId = parent;
                }

                var input = new DepartmentInput(row.Code, row.Name, parentId);
                await RowAsync(row.Row, DepartmentField, errors, async () =>
                {
                    if (existing.TryGetValue(row.Code, out var current))
                    {
                        if (current.Name == row.Name && current.ParentId == parentId)
                        {
                            unchanged++;
                            return;
                        }

                        await departments.UpdateAsync(current.Id, input, expectedRevision: null, cancellationToken);
                        updated++;
                    }
                    else
                    {
                        ids[row.Code] = (await departments.CreateAsync(input, cancellationToken)).Id;
                        created++;
                    }
                });
            }

            return (created, updated, unchanged);
        }, cancellationToken);
    }

    public Task<CsvImportResult> ImportUsersAsync(TextReader csv, bool dryRun, CancellationToken cancellationToken) =>
        ImportUsersAsync(csv, dryRun, invite: false, cancellationToken);

    /// <summary>
    /// Imports users; with <paramref name="invite"/> every user the import creates who has an e-mail address is mailed an
    /// invitation in the import's transaction (nothing for updated rows; a created user without e-mail gets a note, not an
    /// error). A dry run counts who would be invited and queues nothing.
    /// </summary>
    public async Task<CsvImportResult> ImportUsersAsync(TextReader csv, bool dryRun, bool invite, CancellationToken cancellationToken)
    {
        var (rows, errors) = ParseUsers(csv);
        var ordered = ParentsFirst(rows, r => r.EmployeeNumber, r => r.ManagerEmployeeNumber, r => r.Row, "managerEmployeeNumber", errors);
        var failed = errors.Select(e => e.Row).ToHashSet();
        int created = 0, updated = 0, unchanged = 0, invited = 0;
        var notes = new List<CsvRowNote>();

        var result = await InOneTransactionAsync(dryRun, rows.Count, errors, "users", async () =>
        {
            var departmentIds = await db.Departments.AsNoTracking()
                .ToDictionaryAsync(d => d.Code, d => d.Id, StringComparer.Ordinal, cancellationToken);
            var existing = await db.Users.AsNoTracking().Where(u => u.EmployeeNumber != null)
                .Select(u => new { u.Id, u.EmployeeNumber, u.UserName, u.DisplayName, u.Email, u.PhoneNumber, u.DepartmentId, u.ManagerId })
                .ToDictionaryAsync(u => u.EmployeeNumber!, StringComparer.Ordinal, cancellationToken);
            var userIds = existing.ToDictionary(e => e.Key, e => e.Value.Id, StringComparer.Ordinal);
            var known = await users.LoadKnownAsync(
                rows.Select(r => r.UserName),
                rows.Select(r => r.EmployeeNumber).Concat(rows.Select(r => r.ManagerEmployeeNumber).OfType<string>()),
                cancellationToken);
            var batch = new List<string>(BatchSize);

            // Created users wait in the unit of work and are saved a batch at a time (with their audit events), then
            // their outbox rows are queued; a row that updates a user goes through the service's own save.
            async Task SaveBatchAsync()
            {
                await db.SaveChangesAsync(cancellationToken);
                await users.QueueCreatedAsync(batch, cancellationToken);
                await db.SaveChangesAsync(cancellationToken);
                db.ChangeTracker.Clear();
                batch.Clear();
            }

            foreach (var row in ordered.Where(r => !failed.Contains(r.Row)))
            {
                Guid? departmentId = null;
                if (!string.IsNullOrEmpty(row.DepartmentCode))
                {
                    if (!departmentIds.TryGetValue(row.DepartmentCode, out var department))
                    {
                        errors.Add(new CsvRowError(row.Row, "departmentCode", $"No department has the code \"{row.DepartmentCode}\"."));
                        continue;
                    }

                    departmentId = department;
                }

                string? managerId = null;
                if (!string.IsNullOrEmpty(row.ManagerEmployeeNumber))
                {
                    if (!userIds.TryGetValue(row.ManagerEmployeeNumber, out var manager))
                    {
                        errors.Add(new CsvRowError(row.Row, "managerEmployeeNumber", $"No user has the employee number \"{row.ManagerEmployeeNumber}\" (in the directory or on an earlier valid row)."));
                        continue;
                    }

                    managerId = manager;
                }

                var input = new UserInput(row.UserName, row.DisplayName, row.Email, row.PhoneNumber, row.EmployeeNumber, departmentId, managerId);
                if (existing.TryGetValue(row.EmployeeNumber, out var current))
                {
                    if (current.UserName == input.UserName && current.DisplayName == input.DisplayName && current.Email == input.Email
                        && current.PhoneNumber == input.PhoneNumber && current.DepartmentId == departmentId && current.ManagerId == managerId)
                    {
                        unchanged++;
                        continue;
                    }

                    // The update's own checks read the database: the users created before it must be there.
                    await SaveBatchAsync();
                    await RowAsync(row.Row, UserField, errors, async () =>
                    {
                        known.Saw(await users.UpdateAsync(current.Id, input, expectedRevision: null, cancellationToken));
                        updated++;
                    });
                    continue;
                }

                await RowAsync(row.Row, UserField, errors, async () =>
                {
                    var invites = invite && !string.IsNullOrWhiteSpace(row.Email);
                    var user = await users.CreateInBatchAsync(input, known, invites && !dryRun, InvitationCause, cancellationToken);
                    userIds[row.EmployeeNumber] = user.Id;
                    batch.Add(user.Id);
                    created++;
                    if (invites)
                    {
                        invited++;
                    }
                    else if (invite)
                    {
                        notes.Add(new CsvRowNote(row.Row, "email", NotInvitedNoEmail));
                    }
                }, clear: false);
                if (batch.Count == BatchSize)
                {
                    await SaveBatchAsync();
                }
            }

            await SaveBatchAsync();
            return (created, updated, unchanged);
        }, cancellationToken, () => invited);
        if (result.Committed && result.Invited > 0)
        {
            mailSignal.Notify();
        }

        return result with { Notes = [.. notes.OrderBy(n => n.Row)] };
    }

    /// <summary>
    /// Runs the rows in one transaction and keeps it only for a commit without a single error; the import
    /// itself is audited once (each row is audited by the service that wrote it).
    /// </summary>
    private async Task<CsvImportResult> InOneTransactionAsync(
        bool dryRun, int rowCount, List<CsvRowError> errors, string kind,
        Func<Task<(int Created, int Updated, int Unchanged)>> apply, CancellationToken cancellationToken, Func<int>? invited = null)
    {
        if (rowCount > MaxRows)
        {
            errors.Add(new CsvRowError(MaxRows + 2, "", $"A file may hold at most {MaxRows} rows; split it."));
            return Result(dryRun, committed: false, rowCount, (0, 0, 0), errors);
        }

        CsvImportResult Counted(CsvImportResult result) => invited is null ? result : result with { Invited = invited() };

        var autoDetect = db.ChangeTracker.AutoDetectChangesEnabled;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        try
        {
            // One read of the chain head for the whole file; the rows' events link in memory.
            audit.HoldHead();
            var counts = await apply();
            if (dryRun || errors.Count > 0)
            {
                await transaction.RollbackAsync(cancellationToken);
                return Counted(Result(dryRun, committed: false, rowCount, counts, errors));
            }

            await audit.RecordAsync("import.committed", "import", kind, before: null,
                after: invited is null
                    ? (object)new { kind, rows = rowCount, counts.Created, counts.Updated, counts.Unchanged }
                    : new { kind, rows = rowCount, counts.Created, counts.Updated, counts.Unchanged, Invited = invited() },
                cancellationToken);
            await audit.WriteHeldHeadAsync(cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return Counted(Result(dryRun, committed: true, rowCount, counts, errors));
        }
        finally
        {
            audit.ForgetHeldHead();
            db.ChangeTracker.Clear();
            db.ChangeTracker.AutoDetectChangesEnabled = autoDetect;
        }
    }

    /// <summary>
    /// One row's write; a rule the service refuses becomes that row's error, naming the CSV column. The unit of work is
    /// cleared after it unless <paramref name="clear"/> is false (a row of a batch saved later).
    /// </summary>
    private async Task RowAsync(int row, Func<string, string> column, List<CsvRowError> errors, Func<Task> write, bool clear = true)
    {
        try
        {
            await write();
        }
        catch (RuleViolation violation)
        {
            if (violation.Errors.Count == 0)
            {
                errors.Add(new CsvRowError(row, "", violation.Title));
            }

            foreach (var (field, messages) in violation.Errors)
            {
                errors.AddRange(messages.Select(m => new CsvRowError(row, column(field), m)));
            }
        }
        finally
        {
            // Thousands of rows in one context would make every save re-scan all of them.
            if (clear)
            {
                db.ChangeTracker.Clear();
            }
        }
    }

    private static string DepartmentField(string field) => field switch
    {
        "parentId" => "parentCode",
        _ => field,
    };

    private static string UserField(string field) => field switch
    {
        "departmentId" => "departmentCode",
        "managerId" => "managerEmployeeNumber",
        _ => field,
    };

    private static CsvImportResult Result(bool dryRun, bool committed, int rows, (int Created, int Updated, int Unchanged) counts, List<CsvRowError> errors) =>
        new(dryRun, committed, rows, counts.Created, counts.Updated, counts.Unchanged,
            [.. errors.OrderBy(e => e.Row).ThenBy(e => e.Field, StringComparer.Ordinal)], Notes: []);

    /// <summary>Reads the header and every record, handing each record's trimmed values (null when empty) to <paramref name="read"/>.</summary>
    private static List<CsvRowError> ReadRows(
        TextReader text, IReadOnlyList<string> columns, IReadOnlyList<string> required, Action<int, Func<string, string?>> read)
    {
        var errors = new List<CsvRowError>();
        var configuration = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            PrepareHeaderForMatch = args => args.Header.Trim().ToLowerInvariant(),
            TrimOptions = TrimOptions.Trim,
            MissingFieldFound = null,
            HeaderValidated = null,
            BadDataFound = null,
            DetectDelimiter = true,
        };
        using var csv = new CsvReader(text, configuration);
        try
        {
            if (!csv.Read() || !csv.ReadHeader() || csv.HeaderRecord is not { Length: > 0 } header)
            {
                errors.Add(new CsvRowError(1, "", $"The file is empty; the first line must name the columns: {string.Join(",", columns)}."));
                return errors;
            }

            var present = header.Select(h => h.Trim()).ToHashSet(StringComparer.OrdinalIgnoreCase);
            foreach (var missing in required.Where(c => !present.Contains(c)))
            {
                errors.Add(new CsvRowError(1, missing, $"The header has no \"{missing}\" column (columns: {string.Join(",", columns)})."));
            }

            if (errors.Count > 0)
            {
                return errors;
            }

            while (csv.Read())
            {
                var row = csv.Parser.Row;
                var missingValues = required.Where(c => string.IsNullOrWhiteSpace(Field(csv, c))).ToList();
                errors.AddRange(missingValues.Select(c => new CsvRowError(row, c, $"{c} is required.")));
                if (missingValues.Count == 0)
                {
                    read(row, c => Field(csv, c));
                }
            }
        }
        catch (CsvHelperException ex)
        {
            errors.Add(new CsvRowError(ex.Context?.Parser?.Row ?? 0, "", "The file is not valid CSV here: " + ex.Message.Split('\n')[0]));
        }

        return errors;
    }

    private static string? Field(CsvReader csv, string column) =>
        csv.TryGetField<string>(column.ToLowerInvariant(), out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    private static void AddDuplicates<T>(List<T> rows, Func<T, string> key, Func<T, int> row, string field, List<CsvRowError> errors)
    {
        foreach (var group in rows.GroupBy(key, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            var first = row(group.First());
            errors.AddRange(group.Skip(1).Select(r => new CsvRowError(row(r), field, $"{field} \"{group.Key}\" already appears on line {first}.")));
        }
    }

    /// <summary>
    /// Orders rows so a row's parent (a parent department, a manager) in the same file comes before it; rows
    /// whose parents in the file form a cycle are reported and left out.
    /// </summary>
    private static List<T> ParentsFirst<T>(
        List<T> rows, Func<T, string> key, Func<T, string?> parentKey, Func<T, int> row, string field, List<CsvRowError> errors)
        where T : class
    {
        var byKey = rows.GroupBy(key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var state = new Dictionary<string, bool>(StringComparer.Ordinal); // false = in progress, true = placed
        var ordered = new List<T>(rows.Count);
        foreach (var start in rows)
        {
            var chain = new List<T>();
            var current = start;
            while (current is not null && !state.ContainsKey(key(current)))
            {
                state[key(current)] = false;
                chain.Add(current);
                current = parentKey(current) is { Length: > 0 } parent && byKey.TryGetValue(parent, out var next) ? next : default;
            }

            var cycle = current is not null && !state[key(current)];
            for (var i = chain.Count - 1; i >= 0; i--)
            {
                state[key(chain[i])] = true;
                if (cycle)
                {
                    errors.Add(new CsvRowError(row(chain[i]), field, $"{field} \"{parentKey(chain[i])}\" makes a cycle within the file."));
                }
                else
                {
                    ordered.Add(chain[i]);
                }
            }
        }

        return ordered;
    }
}
