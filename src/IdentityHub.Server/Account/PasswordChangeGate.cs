using System.Security.Claims;
using IdentityHub.Data.Directory;
using IdentityHub.Server.AdminApi;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace IdentityHub.Server.Account;

/// <summary>
/// The cookie principal of someone whose password an administrator set with "must change at next sign-in" carries
/// <see cref="Claim"/>; rebuilt from the database on every security-stamp check, so it goes once the password is changed.
/// </summary>
public sealed class IdentityHubClaimsFactory(UserManager<UserAccount> users, RoleManager<IdentityRole> roles, IOptions<IdentityOptions> options)
    : UserClaimsPrincipalFactory<UserAccount, IdentityRole>(users, roles, options)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(UserAccount user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        if (user.MustChangePassword)
        {
            identity.AddClaim(new Claim(PasswordChangeGate.Claim, "true"));
        }

        return identity;
    }
}

/// <summary>
/// Before anything else, a person signed in with a temporary password goes to the change-password page; the page sends
/// them on to where they were going (an OIDC or SAML flow continues afterwards).
/// </summary>
public static class PasswordChangeGate
{
    public const string Claim = "identityhub_must_change_password";
    public const string PagePath = "/account/password/required";

    private static readonly string[] Open = [PagePath, "/account/logout", "/theme", "/health", "/lib", "/favicon.ico"];

    public static void UsePasswordChangeGate(this WebApplication app) => app.Use((context, next) =>
    {
        if (context.User.HasClaim(c => c.Type == Claim) && !Open.Any(p => context.Request.Path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase)))
        {
            if (context.Request.Path.StartsWithSegments(AdminApiSetup.BasePath) || !HttpMethods.IsGet(context.Request.Method))
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            }

            var target = context.Request.PathBase + context.Request.Path + context.Request.QueryString;
            context.Response.Redirect($"{PagePath}?ReturnUrl={Uri.EscapeDataString(target)}");
            return Task.CompletedTask;
        }

        return next(context);
    });
}
