using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore.Identity;

namespace IdentityHub.Server.Account;

/// <summary>One rule a new password must meet, in the reader's words, and the Identity error code that says it was broken.</summary>
public sealed record PasswordRule(string Key, string ErrorCode, string Text);

/// <summary>
/// The password policy in words, read from the configured <see cref="PasswordOptions"/> (the rules Identity's
/// <see cref="PasswordValidator{TUser}"/> enforces), each rule once, so what the page says is what the server checks.
/// </summary>
public static class PasswordRules
{
    public static IReadOnlyList<PasswordRule> Describe(PasswordOptions options, ThemeMessages texts)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(texts);
        var rules = new List<PasswordRule>();
        if (options.RequiredLength > 0)
        {
            rules.Add(new("length", nameof(IdentityErrorDescriber.PasswordTooShort), texts["account.password.rule.length", options.RequiredLength]));
        }

        if (options.RequireLowercase)
        {
            rules.Add(new("lower", nameof(IdentityErrorDescriber.PasswordRequiresLower), texts["account.password.rule.lower"]));
        }

        if (options.RequireUppercase)
        {
            rules.Add(new("upper", nameof(IdentityErrorDescriber.PasswordRequiresUpper), texts["account.password.rule.upper"]));
        }

        if (options.RequireDigit)
        {
            rules.Add(new("digit", nameof(IdentityErrorDescriber.PasswordRequiresDigit), texts["account.password.rule.digit"]));
        }

        if (options.RequireNonAlphanumeric)
        {
            rules.Add(new("symbol", nameof(IdentityErrorDescriber.PasswordRequiresNonAlphanumeric), texts["account.password.rule.symbol"]));
        }

        if (options.RequiredUniqueChars > 1)
        {
            rules.Add(new("unique", nameof(IdentityErrorDescriber.PasswordRequiresUniqueChars), texts["account.password.rule.unique", options.RequiredUniqueChars]));
        }

        return rules;
    }
}
