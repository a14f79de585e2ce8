using System.Security.Claims;
using System.Security.Cryptography;
using IdentityHub.Data.Directory;
using IdentityHub.Server.Identities;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace IdentityHub.Server.Account;

/// <summary>Signs in only users whose status is active: suspended people and leavers are refused on every path.</summary>
public sealed class ActiveUserSignInManager(
    UserManager<UserAccount> userManager,
    IHttpContextAccessor contextAccessor,
    IUserClaimsPrincipalFactory<UserAccount> claimsFactory,
    IOptions<IdentityOptions> optionsAccessor,
    ILogger<SignInManager<UserAccount>> logger,
    IAuthenticationSchemeProvider schemes,
    IUserConfirmation<UserAccount> confirmation,
    AccountLockout lockout)
    : SignInManager<UserAccount>(userManager, contextAccessor, claimsFactory, optionsAccessor, logger, schemes, confirmation)
{
    private static string? _dummyHash;

    /// <summary>An unknown name costs one real password verification too, so timing does not tell names apart.</summary>
    public override async Task<SignInResult> PasswordSignInAsync(string userName, string password, bool isPersistent, bool lockoutOnFailure)
    {
        var user = await UserManager.FindByNameAsync(userName);
        if (user is null)
        {
            VerifyWithoutEffect(null, password);
            return SignInResult.Failed;
        }

        return await PasswordSignInAsync(user, password, isPersistent, lockoutOnFailure);
    }

    /// <summary>
    /// Suspended and locked accounts are refused only after a password verification like any other attempt, and a
    /// wrong password counts toward <see cref="AccountLockout"/>'s growing lockout instead of Identity's fixed one.
    /// </summary>
    public override async Task<SignInResult> CheckPasswordSignInAsync(UserAccount user, string password, bool lockoutOnFailure)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (!await CanSignInAsync(user))
        {
            VerifyWithoutEffect(user, password);
            return SignInResult.NotAllowed;
        }

        if (await IsLockedOut(user))
        {
            VerifyWithoutEffect(user, password);
            return SignInResult.LockedOut;
        }

        if (user.PasswordHash is null)
        {
            // Identity answers "no password" without hashing; an invited user who has not set one yet must not stand out.
            VerifyWithoutEffect(null, password);
        }

        var result = await base.CheckPasswordSignInAsync(user, password, lockoutOnFailure: false);
        var wrongPassword = !result.Succeeded && !result.IsLockedOut && !result.IsNotAllowed && !result.RequiresTwoFactor;
        if (wrongPassword && lockoutOnFailure && UserManager.SupportsUserLockout && await lockout.RecordFailureAsync(UserManager, user))
        {
            return SignInResult.LockedOut;
        }

        return result;
    }

    /// <summary>Spends what a real check spends (same hasher, same parameters) and ignores the outcome.</summary>
    private void VerifyWithoutEffect(UserAccount? user, string password)
    {
        var hasher = UserManager.PasswordHasher;
        var standIn = new UserAccount();
        var hash = user?.PasswordHash ?? LazyInitializer.EnsureInitialized(ref _dummyHash, () => hasher.HashPassword(standIn, NewSessionId()));
        _ = hasher.VerifyHashedPassword(user ?? standIn, hash, password);
    }

    public override async Task<bool> CanSignInAsync(UserAccount user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.Status == UserStatus.Active && await base.CanSignInAsync(user);
    }

    /// <summary>
    /// The session cookie is re-checked every Account:RevalidationInterval (SecurityStampValidator): a user
    /// suspended, departed or locked out since signing in loses the session there, and roles are refreshed.
    /// </summary>
    public override async Task<UserAccount?> ValidateSecurityStampAsync(ClaimsPrincipal? principal)
    {
        var user = await base.ValidateSecurityStampAsync(principal);
        return user is not null && await CanSignInAsync(user) && !await UserManager.IsLockedOutAsync(user) ? user : null;
    }

    /// <summary>Every sign-in starts a browser session with its own id (sid), which logout notices name.</summary>
    public override Task SignInWithClaimsAsync(UserAccount user, AuthenticationProperties? authenticationProperties, IEnumerable<Claim> additionalClaims)
    {
        var claims = additionalClaims.ToList();
        if (!claims.Exists(c => c.Type == IdentityHubClaims.SessionId))
        {
            claims.Add(new Claim(IdentityHubClaims.SessionId, NewSessionId()));
        }

        // When the user really authenticated: the cookie's IssuedUtc moves on every renewal (SAML ForceAuthn needs this).
        if (!claims.Exists(c => c.Type == IdentityHubClaims.AuthenticationTime))
        {
            claims.Add(new Claim(IdentityHubClaims.AuthenticationTime, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        return base.SignInWithClaimsAsync(user, authenticationProperties, claims);
    }

    /// <summary>
    /// Passwordless sign-in: the assertion is verified against the state <see cref="SignInManager{TUser}.MakePasskeyRequestOptionsAsync"/>
    /// left, then the same refusals as a password (suspended, left, locked out). A user-verified passkey is possession
    /// plus a PIN or biometric, so the session records RFC 8176 "hwk" and "mfa" (Identity's own sign-in would say "pwd").
    /// </summary>
    public override async Task<SignInResult> PasskeySignInAsync(string credentialJson) => (await SignInWithPasskeyAsync(credentialJson)).Result;

    /// <inheritdoc cref="PasskeySignInAsync"/>
    /// <returns>The outcome, with the user and credential the assertion named when it was genuine (null otherwise).</returns>
    public async Task<PasskeySignIn> SignInWithPasskeyAsync(string credentialJson)
    {
        ArgumentException.ThrowIfNullOrEmpty(credentialJson);
        PasskeyAssertionResult<UserAccount> assertion;
        try
        {
            assertion = await PerformPasskeyAssertionAsync(credentialJson);
        }
        catch (InvalidOperationException)
        {
            // No request options were issued to this browser (or they were used up): nothing to check the answer against.
            return new PasskeySignIn(SignInResult.Failed, null, null);
        }

        if (!assertion.Succeeded)
        {
            return new PasskeySignIn(SignInResult.Failed, null, null);
        }

        var user = assertion.User;
        if (await PreSignInCheck(user) is { } refused)
        {
            return new PasskeySignIn(refused, user, assertion.Passkey.CredentialId);
        }

        // The new signature counter and flags are kept, so a cloned authenticator shows up as a counter going back.
        if (!(await UserManager.AddOrUpdatePasskeyAsync(user, assertion.Passkey)).Succeeded)
        {
            return new PasskeySignIn(SignInResult.Failed, user, assertion.Passkey.CredentialId);
        }

        await SignInWithClaimsAsync(user, new AuthenticationProperties { IsPersistent = false },
            [new Claim(IdentityHubClaims.AuthenticationMethods, "hwk"), new Claim(IdentityHubClaims.AuthenticationMethods, "mfa")]);
        return new PasskeySignIn(SignInResult.Success, user, assertion.Passkey.CredentialId);
    }

    public static string NewSessionId() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(24));
}

/// <summary>What a passkey sign-in came to, and whose passkey it was when the assertion was genuine.</summary>
public sealed record PasskeySignIn(SignInResult Result, UserAccount? User, byte[]? CredentialId);
