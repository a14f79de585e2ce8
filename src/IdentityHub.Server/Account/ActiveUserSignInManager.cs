using System.Security.Claims;
using System.Security.Cryptography;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Factors;
using IdentityHub.Core.Sessions;
using IdentityHub.Data.Directory;
using IdentityHub.Server.Identities;
using IdentityHub.Server.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;

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
    AccountLockout lockout,
    BrowserSessions sessions,
    IOptionsMonitor<OpenIddictServerOptions> oidc,
    MfaPolicy mfaPolicy,
    AuditTrail audit)
    : SignInManager<UserAccount>(userManager, contextAccessor, claimsFactory, optionsAccessor, logger, schemes, confirmation)
{
    private static string? _dummyHash;

    /// <summary>An unknown name costs one real password verification too, so timing does not tell names apart.</summary>
    public override async Task<SignInResult> PasswordSignInAsync(string userName, string password, bool isPersistent, bool lockoutOnFailure)
    {
        var user = await UserManager.FindByNameAsync(userName);
        SignInResult result;
        if (user is null)
        {
            VerifyWithoutEffect(null, password);
            result = SignInResult.Failed;
        }
        else
        {
            result = await PasswordSignInAsync(user, password, isPersistent, lockoutOnFailure);
        }

        // Every refusal is recorded alike (an unknown name too, with no target), so the write does not tell names apart.
        if (!result.Succeeded && !result.RequiresTwoFactor)
        {
            await RecordFailureAsync(user, "password");
        }

        return result;
    }

    /// <summary>A refused sign-in as a security event of the account (the person's activity page lists it).</summary>
    private Task RecordFailureAsync(UserAccount? user, string step) =>
        audit.RecordEventAsync(AccountEventTypes.SignInFailed, user is null ? null : "user", user?.Id, new { step }, Context.RequestAborted);

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

    /// <summary>
    /// A second step follows the password when the user has the authenticator on, and also when the policy requires
    /// MFA of this user and they have no factor yet: the MFA page then enrols one before the sign-in completes.
    /// </summary>
    public override async Task<bool> IsTwoFactorEnabledAsync(UserAccount user) =>
        await base.IsTwoFactorEnabledAsync(user) || await mfaPolicy.RequiredForUserAsync(user, Context.RequestAborted);

    /// <summary>The authenticator code of the partially signed-in user (Identity's two-factor cookie).</summary>
    public override async Task<SignInResult> TwoFactorAuthenticatorSignInAsync(string code, bool isPersistent, bool rememberClient) =>
        await GetTwoFactorAuthenticationUserAsync() is { } user
            ? await SecondFactorSignInAsync(user, () => UserManager.VerifyTwoFactorTokenAsync(user, TotpCodes.ProviderName, code), [])
            : SignInResult.Failed;

    /// <summary>A recovery code (single use) of the partially signed-in user.</summary>
    public override async Task<SignInResult> TwoFactorRecoveryCodeSignInAsync(string recoveryCode) =>
        await GetTwoFactorAuthenticationUserAsync() is { } user
            ? await SecondFactorSignInAsync(user, async () => (await UserManager.RedeemTwoFactorRecoveryCodeAsync(user, recoveryCode)).Succeeded, [])
            : SignInResult.Failed;

    /// <summary>
    /// Checks a second factor and, when it holds, signs the user in with RFC 8176 methods pwd, otp and mfa (a recovery
    /// code is a one-time password too). A wrong code counts toward <see cref="AccountLockout"/> like a wrong password.
    /// <paramref name="carried"/> are the claims of an existing session being stepped up (its sid stays).
    /// </summary>
    public async Task<SignInResult> SecondFactorSignInAsync(UserAccount user, Func<Task<bool>> verify, IReadOnlyCollection<Claim> carried)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(verify);
        ArgumentNullException.ThrowIfNull(carried);
        if (await PreSignInCheck(user) is { } refused)
        {
            return refused;
        }

        if (!await verify())
        {
            await RecordFailureAsync(user, "second-factor");
            return UserManager.SupportsUserLockout && await lockout.RecordFailureAsync(UserManager, user) ? SignInResult.LockedOut : SignInResult.Failed;
        }

        await ResetLockout(user);
        await Context.SignOutAsync(IdentityConstants.TwoFactorUserIdScheme);
        var claims = carried.Where(c => c.Type == IdentityHubClaims.SessionId).ToList();
        claims.AddRange(new[] { "pwd", "otp", MfaPolicy.MultiFactorMethod }.Select(m => new Claim(IdentityHubClaims.AuthenticationMethods, m)));
        await SignInWithClaimsAsync(user, isPersistent: false, claims);
        return SignInResult.Success;
    }

    /// <summary>
    /// Signs the current session in again after a change of the user's security stamp (a factor turned on or off), keeping
    /// its sid, sign-in time and methods: the other sessions end, this one goes on.
    /// </summary>
    public Task RenewSessionAsync(UserAccount user, ClaimsPrincipal current)
    {
        ArgumentNullException.ThrowIfNull(current);
        var carried = current.Claims
            .Where(c => c.Type is IdentityHubClaims.SessionId or IdentityHubClaims.AuthenticationTime or IdentityHubClaims.AuthenticationMethods)
            .Select(c => new Claim(c.Type, c.Value))
            .ToList();
        return SignInWithClaimsAsync(user, isPersistent: false, carried);
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
    /// The session cookie is re-checked every Account:RevalidationInterval (SecurityStampValidator): a user deleted,
    /// suspended or departed since signing in, or whose security stamp changed, loses the session there, and roles are
    /// refreshed. A lockout does not end it: it stops password guesses, and anyone can cause one by guessing, so it must
    /// not sign the account's owner out.
    /// </summary>
    public override async Task<UserAccount?> ValidateSecurityStampAsync(ClaimsPrincipal? principal)
    {
        var user = await base.ValidateSecurityStampAsync(principal);
        return user is not null && await CanSignInAsync(user) ? user : null;
    }

    /// <summary>
    /// Every sign-in starts a browser session with its own id (sid), which logout notices name, recorded on the server
    /// (<see cref="BrowserSessions"/>) so that every request can check it has not ended.
    /// </summary>
    public override async Task SignInWithClaimsAsync(UserAccount user, AuthenticationProperties? authenticationProperties, IEnumerable<Claim> additionalClaims)
    {
        ArgumentNullException.ThrowIfNull(user);
        var claims = additionalClaims.ToList();
        if (!claims.Exists(c => c.Type == IdentityHubClaims.SessionId))
        {
            var sid = NewSessionId();
            claims.Add(new Claim(IdentityHubClaims.SessionId, sid));
            await sessions.StartAsync(sid, user.Id, Context.Connection.RemoteIpAddress?.ToString(), Context.Request.Headers.UserAgent.ToString(),
                SessionSignOut.IssuerOf(oidc.CurrentValue, Context), Context.RequestAborted);
            var methods = claims.Where(c => c.Type == IdentityHubClaims.AuthenticationMethods).Select(c => c.Value).DefaultIfEmpty("pwd").ToArray();
            await audit.RecordEventAsync(AccountEventTypes.SignedIn, "user", user.Id, new { methods }, Context.RequestAborted);
        }

        // When the user really authenticated: the cookie's IssuedUtc moves on every renewal (SAML ForceAuthn needs this).
        if (!claims.Exists(c => c.Type == IdentityHubClaims.AuthenticationTime))
        {
            claims.Add(new Claim(IdentityHubClaims.AuthenticationTime, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        await base.SignInWithClaimsAsync(user, authenticationProperties, claims);
    }

    /// <summary>
    /// A renewed cookie (after the user changed their own password, say) stays the same session: its sid, sign-in time and
    /// methods are kept, where the base class would start a new, unrecorded session.
    /// </summary>
    public override async Task RefreshSignInAsync(UserAccount user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var current = await Context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        if (current.Principal?.FindFirstValue(ClaimTypes.NameIdentifier) != user.Id || current.Principal.FindFirst(IdentityHubClaims.SessionId) is null)
        {
            await base.RefreshSignInAsync(user);
            return;
        }

        string[] kept = [IdentityHubClaims.SessionId, IdentityHubClaims.AuthenticationTime, IdentityHubClaims.AuthenticationMethods, ClaimTypes.AuthenticationMethod];
        await SignInWithClaimsAsync(user, current.Properties, [.. current.Principal.Claims.Where(c => kept.Contains(c.Type)).Select(c => new Claim(c.Type, c.Value))]);
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
