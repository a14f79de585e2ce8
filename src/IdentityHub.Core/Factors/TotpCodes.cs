using System.Globalization;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Identity;
using OtpNet;

namespace IdentityHub.Core.Factors;

/// <summary>
/// The authenticator-app factor as an Identity token provider: RFC 6238 codes (30 s, 6 digits, SHA-1, what every
/// authenticator app reads) checked with Otp.NET one step either side, and each time step accepted once per user.
/// </summary>
public sealed class TotpCodes(TimeProvider clock) : IUserTwoFactorTokenProvider<UserAccount>
{
    public const string ProviderName = "IdentityHubTotp";

    /// <summary>Where the last accepted time step is kept (Identity's user tokens, so no schema of its own).</summary>
    public const string StoreName = "[IdentityHub]";
    public const string LastStepName = "TotpLastStep";

    /// <summary>Identity's own names for the authenticator key and recovery codes in the user tokens (UserStoreBase).</summary>
    public const string IdentityStoreName = "[AspNetUserStore]";
    public const string AuthenticatorKeyName = "AuthenticatorKey";
    public const string RecoveryCodesName = "RecoveryCodes";

    /// <summary>The key Identity keeps for the user (Base32), creating one when there is none.</summary>
    public static async Task<string> KeyOfAsync(UserManager<UserAccount> users, UserAccount user)
    {
        ArgumentNullException.ThrowIfNull(users);
        var key = await users.GetAuthenticatorKeyAsync(user);
        if (string.IsNullOrEmpty(key))
        {
            // Where Identity's store keeps it; ResetAuthenticatorKeyAsync would also change the security stamp and end
            // the session of the person who only opened the page.
            key = users.GenerateNewAuthenticatorKey();
            await users.SetAuthenticationTokenAsync(user, IdentityStoreName, AuthenticatorKeyName, key);
        }

        return key;
    }

    public Task<string> GenerateAsync(string purpose, UserManager<UserAccount> manager, UserAccount user) =>
        throw new NotSupportedException("Authenticator codes come from the user's app, never from the server.");

    public async Task<bool> CanGenerateTwoFactorTokenAsync(UserManager<UserAccount> manager, UserAccount user)
    {
        ArgumentNullException.ThrowIfNull(manager);
        return !string.IsNullOrEmpty(await manager.GetAuthenticatorKeyAsync(user));
    }

    /// <summary>
    /// RFC 6238 §5.2: one step either side covers clock drift; RFC 6238 §5.2 also says a code must not be accepted
    /// twice, so a step at or before the last accepted one is refused, and accepting a step is saved before success.
    /// </summary>
    public async Task<bool> ValidateAsync(string purpose, string token, UserManager<UserAccount> manager, UserAccount user)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(user);
        var code = new string((token ?? "").Where(c => !char.IsWhiteSpace(c) && c != '-').ToArray());
        var key = await manager.GetAuthenticatorKeyAsync(user);
        if (string.IsNullOrEmpty(key) || code.Length != 6 || !code.All(char.IsAsciiDigit))
        {
            return false;
        }

        var totp = new Totp(Base32Encoding.ToBytes(key));
        if (!totp.VerifyTotp(clock.GetUtcNow().UtcDateTime, code, out var step, new VerificationWindow(previous: 1, future: 1)))
        {
            return false;
        }

        var last = long.TryParse(await manager.GetAuthenticationTokenAsync(user, StoreName, LastStepName), NumberStyles.None, CultureInfo.InvariantCulture, out var stored) ? stored : -1;
        if (step <= last)
        {
            return false;
        }

        // The update carries the user's concurrency stamp: of two requests racing with one code, only one saves.
        var saved = await manager.SetAuthenticationTokenAsync(user, StoreName, LastStepName, step.ToString(CultureInfo.InvariantCulture));
        return saved.Succeeded;
    }
}
