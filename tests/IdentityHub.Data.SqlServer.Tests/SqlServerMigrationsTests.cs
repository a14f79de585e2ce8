using IdentityHub.Data.SqlServer;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace IdentityHub.Data.SqlServer.Tests;

public sealed class SqlServerMigrationsTests
{
    [Fact]
    public void Migrations_CurrentModel_HaveNoPendingChanges()
    {
        using var db = new SqlServerDesignTimeFactory().CreateDbContext([]);

        Assert.False(
            db.Database.HasPendingModelChanges(),
            "The model has changes the SqlServer migrations lack. Add a migration for every provider: "
            + "dotnet ef migrations add <Name> --project src/IdentityHub.Data.SqlServer --startup-project src/IdentityHub.Data.SqlServer --output-dir Migrations");
    }
}

/// <summary>No SQL Server runs on these machines: the migrations are proven to compile and to script, not run.</summary>
public sealed class SqlServerScriptTests
{
    [Fact]
    public void GenerateScript_Idempotent_CreatesEveryTableGuardedByMigrationId()
    {
        using var db = new SqlServerDesignTimeFactory().CreateDbContext([]);

        var script = db.Database.GenerateCreateScript();
        var idempotent = db.Database.GetService<Microsoft.EntityFrameworkCore.Migrations.IMigrator>()
            .GenerateScript(options: Microsoft.EntityFrameworkCore.Migrations.MigrationsSqlGenerationOptions.Idempotent);

        foreach (var table in new[] { "AspNetUsers", "AspNetUserPasskeys", "OpenIddictTokens", "DataProtectionKeys", "SigningKeys", "Departments" })
        {
            Assert.Contains($"CREATE TABLE [{table}]", script, StringComparison.Ordinal);
            Assert.Contains($"CREATE TABLE [{table}]", idempotent, StringComparison.Ordinal);
        }

        Assert.Contains("IF NOT EXISTS", idempotent, StringComparison.Ordinal);
    }
}
