using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore.Identity;

namespace IdentityHub.Server.Account;

/// <summary>
/// ASP.NET Core Identity's refusals (password too short, user name taken, ...) in the reader's language: the text of
/// <c>identity.&lt;Code&gt;</c> from the theme (<see cref="ThemeMessages"/>, the request's culture, then English), with Identity's
/// argument as <c>{0}</c>. The code stays Identity's, so callers that test it keep working; a key a theme lacks falls back
/// to Identity's own English sentence.
/// </summary>
public sealed class ThemedIdentityErrorDescriber(ThemeMessages texts) : IdentityErrorDescriber
{
    public const string KeyPrefix = "identity.";

    public override IdentityError DefaultError() => Describe(nameof(DefaultError), base.DefaultError());

    public override IdentityError ConcurrencyFailure() => Describe(nameof(ConcurrencyFailure), base.ConcurrencyFailure());

    public override IdentityError PasswordMismatch() => Describe(nameof(PasswordMismatch), base.PasswordMismatch());

    public override IdentityError InvalidToken() => Describe(nameof(InvalidToken), base.InvalidToken());

    public override IdentityError RecoveryCodeRedemptionFailed() => Describe(nameof(RecoveryCodeRedemptionFailed), base.RecoveryCodeRedemptionFailed());

    public override IdentityError LoginAlreadyAssociated() => Describe(nameof(LoginAlreadyAssociated), base.LoginAlreadyAssociated());

    public override IdentityError InvalidUserName(string? userName) => Describe(nameof(InvalidUserName), base.InvalidUserName(userName), userName);

    public override IdentityError InvalidEmail(string? email) => Describe(nameof(InvalidEmail), base.InvalidEmail(email), email);

    public override IdentityError DuplicateUserName(string userName) => Describe(nameof(DuplicateUserName), base.DuplicateUserName(userName), userName);

    public override IdentityError DuplicateEmail(string email) => Describe(nameof(DuplicateEmail), base.DuplicateEmail(email), email);

    public override IdentityError InvalidRoleName(string? role) => Describe(nameof(InvalidRoleName), base.InvalidRoleName(role), role);

    public override IdentityError DuplicateRoleName(string role) => Describe(nameof(DuplicateRoleName), base.DuplicateRoleName(role), role);

    public override IdentityError UserAlreadyHasPassword() => Describe(nameof(UserAlreadyHasPassword), base.UserAlreadyHasPassword());

    public override IdentityError UserLockoutNotEnabled() => Describe(nameof(UserLockoutNotEnabled), base.UserLockoutNotEnabled());

    public override IdentityError UserAlreadyInRole(string role) => Describe(nameof(UserAlreadyInRole), base.UserAlreadyInRole(role), role);

    public override IdentityError UserNotInRole(string role) => Describe(nameof(UserNotInRole), base.UserNotInRole(role), role);

    public override IdentityError PasswordTooShort(int length) => Describe(nameof(PasswordTooShort), base.PasswordTooShort(length), length);

    public override IdentityError PasswordRequiresUniqueChars(int uniqueChars) =>
        Describe(nameof(PasswordRequiresUniqueChars), base.PasswordRequiresUniqueChars(uniqueChars), uniqueChars);

    public override IdentityError PasswordRequiresNonAlphanumeric() => Describe(nameof(PasswordRequiresNonAlphanumeric), base.PasswordRequiresNonAlphanumeric());

    public override IdentityError PasswordRequiresDigit() => Describe(nameof(PasswordRequiresDigit), base.PasswordRequiresDigit());

    public override IdentityError PasswordRequiresLower() => Describe(nameof(PasswordRequiresLower), base.PasswordRequiresLower());

    public override IdentityError PasswordRequiresUpper() => Describe(nameof(PasswordRequiresUpper), base.PasswordRequiresUpper());

    private IdentityError Describe(string code, IdentityError identity, params object?[] arguments)
    {
        var text = texts[KeyPrefix + code, [.. arguments.Select(a => a ?? "")]];
        return new IdentityError { Code = identity.Code, Description = text.ResourceNotFound ? identity.Description : text.Value };
    }
}
