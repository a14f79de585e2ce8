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
    IUserConfirmation<UserAccount> confirmation)
    : SignInManager<UserAccount>(userManager, contextAccessor, claimsFactory, optionsAccessor, logger, schemes, confirmation)
{
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

    public static string NewSessionId() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(24));
}
