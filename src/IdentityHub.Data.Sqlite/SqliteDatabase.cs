using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace IdentityHub.Data.Sqlite;

/// <summary>Configures <see cref="IdentityHubDbContext"/> for Sqlite with the migrations of this assembly.</summary>
public static class SqliteDatabase
{
    public static DbContextOptionsBuilder UseIdentityHubSqlite(this DbContextOptionsBuilder options, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.UseSqlite(connectionString, o => o.MigrationsAssembly(typeof(SqliteDatabase).Assembly.GetName().Name));
    }
}

/// <summary>Lets <c>dotnet ef</c> build the model for Sqlite without starting the server.</summary>
public sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<IdentityHubDbContext>
{
    public IdentityHubDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<IdentityHubDbContext>();
        options.UseIdentityHubModel().UseIdentityHubSqlite("Data Source=design-time.db");
        return new IdentityHubDbContext(options.Options);
    }
}
