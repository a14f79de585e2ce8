using IdentityHub.Data.Directory;
using IdentityHub.Data.Sqlite;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Data.Tests;

public sealed class IdentityHubDbContextTests : IDisposable
{
    private readonly SqliteFile _file = new();

    [Fact]
    public void Model_WithoutIdentitySchemaVersion3_IsRefusedWithTheFix()
    {
        var options = new DbContextOptionsBuilder<IdentityHubDbContext>();
        options.UseIdentityHubSqlite(_file.ConnectionString);
        using var db = new IdentityHubDbContext(options.Options);

        var error = Assert.Throws<InvalidOperationException>(() => db.Model);

        Assert.Contains("IdentityHubSchema.ConfigureStores", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Departments_OnSqlite_FilterAndOrderByCreatedAt()
    {
        await _file.MigrateAsync();
        var start = new DateTimeOffset(2026, 1, 1, 8, 0, 0, TimeSpan.FromHours(8));
        await using (var db = _file.CreateContext())
        {
            db.Departments.AddRange(
                Department("late", start.AddDays(2)),
                Department("early", start),
                Department("middle", start.AddDays(1)));
            await db.SaveChangesAsync();
        }

        await using var read = _file.CreateContext();
        var codes = await read.Departments
            .Where(d => d.CreatedAt > start)
            .OrderBy(d => d.CreatedAt)
            .Select(d => d.Code)
            .ToListAsync();

        Assert.Equal(["middle", "late"], codes);
    }

    [Fact]
    public async Task EmployeeNumber_UsedTwice_IsRejectedByTheDatabase()
    {
        await _file.MigrateAsync();
        await using var db = _file.CreateContext();
        db.Users.Add(User("alice", "E1001"));
        db.Users.Add(User("bob", "E1001"));

        await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
    }

    [Fact]
    public async Task EmployeeNumber_MissingForSeveralUsers_IsAllowed()
    {
        await _file.MigrateAsync();
        await using var db = _file.CreateContext();
        db.Users.Add(User("svc-a", employeeNumber: null));
        db.Users.Add(User("svc-b", employeeNumber: null));

        await db.SaveChangesAsync();

        Assert.Equal(2, await db.Users.CountAsync());
    }

    public void Dispose() => _file.Dispose();

    private static Department Department(string code, DateTimeOffset createdAt) =>
        new() { Id = Guid.NewGuid(), Code = code, Name = code, Path = "/", CreatedAt = createdAt };

    private static UserAccount User(string userName, string? employeeNumber) => new()
    {
        UserName = userName,
        NormalizedUserName = userName.ToUpperInvariant(),
        EmployeeNumber = employeeNumber,
        DisplayName = userName,
    };
}
