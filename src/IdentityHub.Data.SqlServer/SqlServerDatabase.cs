using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace IdentityHub.Data.SqlServer;

/// <summary>Configures <see cref="IdentityHubDbContext"/> for SqlServer with the migrations of this assembly.</summary>
public static class SqlServerDatabase
{
    public static DbContextOptionsBuilder UseIdentityHubSqlServer(this DbContextOptionsBuilder options, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.UseSqlServer(connectionString, o => o.MigrationsAssembly(typeof(SqlServerDatabase).Assembly.GetName().Name));
    }
}

/// <summary>Lets <c>dotnet ef</c> build the model for SqlServer without starting the server.</summary>
public sealed class SqlServerDesignTimeFactory : IDesignTimeDbContextFactory<IdentityHubDbContext>
{
    public IdentityHubDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<IdentityHubDbContext>();
        options.UseIdentityHubModel().UseIdentityHubSqlServer("Server=localhost;Database=IdentityHubDesign;Trusted_Connection=True;TrustServerCertificate=True");
        return new IdentityHubDbContext(options.Options);
    }
}
