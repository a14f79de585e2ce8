using IdentityHub.Data;
using IdentityHub.Data.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Testing;

/// <summary>A real SQLite database file in the temp folder, deleted when disposed.</summary>
public sealed class SqliteFile : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"identityhub-test-{Guid.NewGuid():N}.db");

    // Pooled like a real deployment (opening a SQLite connection reads the schema again); Dispose empties this
    // file's pool so the file is free to delete.
    public string ConnectionString => $"Data Source={Path}";

    public IdentityHubDbContext CreateContext()
    {
        var options = new DbContextOptionsBuilder<IdentityHubDbContext>();
        options.UseIdentityHubModel().UseIdentityHubSqlite(ConnectionString);
        return new IdentityHubDbContext(options.Options);
    }

    /// <summary>Creates the schema through the real migrations.</summary>
    public async Task<SqliteFile> MigrateAsync()
    {
        await using var db = CreateContext();
        await db.Database.MigrateAsync();
        return this;
    }

    public void Dispose()
    {
        using (var connection = new SqliteConnection(ConnectionString))
        {
            SqliteConnection.ClearPool(connection);
        }

        File.Delete(Path);
    }
}
