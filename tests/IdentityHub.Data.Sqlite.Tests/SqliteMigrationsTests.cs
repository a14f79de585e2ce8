using IdentityHub.Data.Sqlite;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Data.Sqlite.Tests;

public sealed class SqliteMigrationsTests
{
    [Fact]
    public void Migrations_CurrentModel_HaveNoPendingChanges()
    {
        using var db = new SqliteDesignTimeFactory().CreateDbContext([]);

        Assert.False(
            db.Database.HasPendingModelChanges(),
            "The model has changes the Sqlite migrations lack. Add a migration for every provider: "
            + "dotnet ef migrations add <Name> --project src/IdentityHub.Data.Sqlite --startup-project src/IdentityHub.Data.Sqlite --output-dir Migrations");
    }
}

public sealed class SqliteMigrateTests : IDisposable
{
    private readonly SqliteFile _file = new();

    [Fact]
    public async Task Migrate_FreshFile_CreatesIdentityOpenIddictKeyAndDomainTables()
    {
        await using var db = _file.CreateContext();

        await db.Database.MigrateAsync();

        var tables = await db.Database.SqlQueryRaw<string>("SELECT name AS Value FROM sqlite_master WHERE type = 'table'").ToListAsync();
        Assert.Subset(tables.ToHashSet(), ExpectedSchema.CoreTables);
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
    }

    public void Dispose() => _file.Dispose();
}
