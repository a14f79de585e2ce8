using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace IdentityHub.Core;

/// <summary>
/// A text longer than its column is refused before anything is saved, on every database alike: SQLite would store it
/// silently and PostgreSQL would fail the whole save. The refusal names the field (the entity's property, camelCase, as
/// the API and the forms call it) and the column's limit, whoever wrote it (admin API, console, SCIM, sources).
/// </summary>
public sealed class ColumnLengths : SaveChangesInterceptor
{
    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Check(eventData?.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Check(eventData?.Context);
        return ValueTask.FromResult(result);
    }

    private static void Check(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        var errors = new FieldErrors();
        foreach (var entry in context.ChangeTracker.Entries())
        {
            if (entry.State is not (EntityState.Added or EntityState.Modified))
            {
                continue;
            }

            foreach (var property in entry.Properties)
            {
                if (property.CurrentValue is string text && property.Metadata.GetMaxLength() is { } max && text.Length > max
                    && (entry.State == EntityState.Added || property.IsModified))
                {
                    var field = System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(property.Metadata.Name);
                    errors.Add(field, $"{field} is at most {max} characters long (this one has {text.Length}).", "admin.error.tooLong", field, max.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        }

        errors.ThrowIfAny();
    }
}
