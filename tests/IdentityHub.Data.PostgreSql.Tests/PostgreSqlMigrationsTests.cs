using IdentityHub.Data.PostgreSql;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace IdentityHub.Data.PostgreSql.Tests;

public sealed class PostgreSqlMigrationsTests
{
    [Fact]
    public void Migrations_CurrentModel_HaveNoPendingChanges()
    {
        using var db = new PostgreSqlDesignTimeFactory().CreateDbContext([]);

        Assert.False(
            db.Database.HasPendingModelChanges(),
            "The model has changes the PostgreSql migrations lack. Add a migration for every provider: "
            + "dotnet ef migrations add <Name> --project src/IdentityHub.Data.PostgreSql --startup-project src/IdentityHub.Data.PostgreSql --output-dir Migrations");
    }
}

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlMigrateTests
{
    [PrerequisiteFact]
    public async Task Migrate_FreshDatabase_CreatesIdentityOpenIddictKeyAndDomainTables()
    {
        await using var database = PostgresDatabase.Reserve();
        var options = new DbContextOptionsBuilder<IdentityHubDbContext>();
        options.UseIdentityHubModel().UseIdentityHubPostgreSql(database.ConnectionString);
        await using (var db = new IdentityHubDbContext(options.Options))
        {
            await db.Database.MigrateAsync();

            var tables = await db.Database
                .SqlQueryRaw<string>("SELECT table_name AS \"Value\" FROM information_schema.tables WHERE table_schema = 'public'")
                .ToListAsync();
            Assert.Subset(tables.ToHashSet(), ExpectedSchema.CoreTables);
            Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        }
    }

    [PrerequisiteFact]
    public async Task Migrate_ApplicationsFromBeforeTheFlagCouldBeSet_RevokeTokensOnAccessLoss()
    {
        await using var database = PostgresDatabase.Reserve();
        var options = new DbContextOptionsBuilder<IdentityHubDbContext>();
        options.UseIdentityHubModel().UseIdentityHubPostgreSql(database.ConnectionString);
        await using var db = new IdentityHubDbContext(options.Options);
        var before = db.Database.GetMigrations().Single(m => m.EndsWith("_OrganisationSamlProvisioning", StringComparison.Ordinal));
        await db.GetService<IMigrator>().MigrateAsync(before);
        await db.Database.ExecuteSqlRawAsync(Insert("0191d5e2-0000-7000-8000-000000000001", "existing"));

        await db.Database.MigrateAsync();
        await db.Database.ExecuteSqlRawAsync(Insert("0191d5e2-0000-7000-8000-000000000002", "written without the column"));

        var flags = await db.Applications.AsNoTracking().ToDictionaryAsync(a => a.Name, a => a.RevokeTokensOnAccessLoss);
        Assert.True(flags["existing"], "An application that existed before the migration must be switched on.");
        Assert.True(flags["written without the column"], "The column's default must be on.");
    }

    private static string Insert(string id, string name) =>
        $"INSERT INTO \"Applications\" (\"Id\", \"Name\", \"CreatedAt\", \"UpdatedAt\") VALUES ('{id}', '{name}', now(), now())";
}
