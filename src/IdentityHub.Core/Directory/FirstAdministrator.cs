using System.Security.Cryptography;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Directory;

/// <summary>What seeding the first administrator did.</summary>
/// <param name="Created">True when the administrator was created by this call.</param>
/// <param name="GeneratedPassword">The password, when none was configured and one was generated; shown once.</param>
public sealed record FirstAdministratorOutcome(bool Created, string? GeneratedPassword);

/// <summary>
/// Makes sure a fresh installation can be administered: the admin roles exist and, while no super
/// administrator exists, one named <see cref="UserName"/> is created.
/// </summary>
public sealed class FirstAdministrator(
    IdentityHubDbContext db,
    UserManager<UserAccount> users,
    RoleManager<IdentityRole> roles,
    TimeProvider clock)
{
    public const string UserName = "admin";

    public async Task<FirstAdministratorOutcome> EnsureAsync(string? configuredPassword, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await EnsureAdminRolesAsync();

        if ((await users.GetUsersInRoleAsync(AdminRoles.SuperAdmin)).Count > 0)
        {
            return new FirstAdministratorOutcome(Created: false, GeneratedPassword: null);
        }

        if (await users.FindByNameAsync(UserName) is not null)
        {
            throw new FirstAdministratorException(
                $"A user named '{UserName}' exists but no one holds the {AdminRoles.SuperAdmin} role; grant it to an administrator or rename that user.");
        }

        var password = string.IsNullOrEmpty(configuredPassword) ? GeneratePassword() : configuredPassword;
        var now = clock.GetUtcNow();
        var admin = new UserAccount
        {
            UserName = UserName,
            DisplayName = "Administrator",
            Status = UserStatus.Active,
            CreatedAt = now,
            UpdatedAt = now,
        };

        var created = await users.CreateAsync(admin, password);
        if (created.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.DuplicateUserName)))
        {
            throw new FirstAdministratorException(
                $"A user named '{UserName}' was created at the same moment, by another node or an administrator; starting again finds it.");
        }

        if (!created.Succeeded)
        {
            throw new FirstAdministratorException(
                $"Bootstrap:AdminPassword is not accepted: {Describe(created)}");
        }

        Require(await users.AddToRoleAsync(admin, AdminRoles.SuperAdmin));
        await transaction.CommitAsync(cancellationToken);
        return new FirstAdministratorOutcome(Created: true, GeneratedPassword: configuredPassword is { Length: > 0 } ? null : password);
    }

    private async Task EnsureAdminRolesAsync()
    {
        foreach (var name in AdminRoles.All)
        {
            if (!await roles.RoleExistsAsync(name))
            {
                Require(await roles.CreateAsync(new IdentityRole(name)));
            }
        }
    }

    /// <summary>24 random characters drawn so that every character class Identity's policy asks for is present.</summary>
    public static string GeneratePassword()
    {
        const string upper = "ABCDEFGHJKLMNPQRSTUVWXYZ";
        const string lower = "abcdefghijkmnopqrstuvwxyz";
        const string digits = "23456789";
        const string symbols = "!@#$%^&*-_=+?";
        var chars = (RandomNumberGenerator.GetString(upper, 1) + RandomNumberGenerator.GetString(lower, 1)
            + RandomNumberGenerator.GetString(digits, 1) + RandomNumberGenerator.GetString(symbols, 1)
            + RandomNumberGenerator.GetString(upper + lower + digits + symbols, 20)).ToCharArray();
        RandomNumberGenerator.Shuffle(chars.AsSpan());
        return new string(chars);
    }

    private static void Require(IdentityResult result)
    {
        if (!result.Succeeded)
        {
            throw new FirstAdministratorException($"Seeding the first administrator failed: {Describe(result)}");
        }
    }

    private static string Describe(IdentityResult result) => string.Join(" ", result.Errors.Select(e => e.Description));
}

/// <summary>The first administrator could not be created; the message says what to change.</summary>
public sealed class FirstAdministratorException(string message) : Exception(message);
