using IdentityHub.Data.PostgreSql;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;

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
}
