using IdentityHub.Data.Sqlite;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

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

    [Fact]
    public async Task Migrate_ApplicationsFromBeforeTheFlagCouldBeSet_RevokeTokensOnAccessLoss()
    {
        await using var db = _file.CreateContext();
        var before = db.Database.GetMigrations().Single(m => m.EndsWith("_OrganisationSamlProvisioning", StringComparison.Ordinal));
        await db.GetService<IMigrator>().MigrateAsync(before);
        await db.Database.ExecuteSqlRawAsync(Insert("0191d5e2-0000-7000-8000-000000000001", "existing"));

        await db.Database.MigrateAsync();
        await db.Database.ExecuteSqlRawAsync(Insert("0191d5e2-0000-7000-8000-000000000002", "written without the column"));

        var flags = await db.Applications.AsNoTracking().ToDictionaryAsync(a => a.Name, a => a.RevokeTokensOnAccessLoss);
        Assert.True(flags["existing"], "An application that existed before the migration must be switched on.");
        Assert.True(flags["written without the column"], "The column's default must be on.");
    }

    public void Dispose() => _file.Dispose();

    private static string Insert(string id, string name) =>
        $"INSERT INTO \"Applications\" (\"Id\", \"Name\", \"CreatedAt\", \"UpdatedAt\") VALUES ('{id}', '{name}', 0, 0)";
}

public sealed class SqliteBusyWaitTests : IDisposable
{
    private readonly SqliteFile _file = new();

    [Fact]
    public async Task Open_EveryConnection_LetsSqliteWaitForTheWriteLockUpToTheDefaultTimeout()
    {
        // Twice: the second open takes the pooled native connection again, and the wait must hold there too.
        for (var open = 0; open < 2; open++)
        {
            await using var db = _file.CreateContext();
            await db.Database.OpenConnectionAsync();
            var connection = (Microsoft.Data.Sqlite.SqliteConnection)db.Database.GetDbConnection();

            await using var pragma = connection.CreateCommand();
            pragma.CommandText = "PRAGMA busy_timeout";

            var waitMs = await pragma.ExecuteScalarAsync();

            Assert.Equal(connection.DefaultTimeout * 1000L, waitMs);
        }
    }

    public void Dispose() => _file.Dispose();
}
