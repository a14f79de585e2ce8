using System.Security.Claims;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Factors;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Server.AdminApi;
using IdentityHub.Server.Hosting;
using IdentityHub.Server.Hosting.Mail;
using IdentityHub.Server.Identities;
using IdentityHub.Server.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;

namespace IdentityHub.Server.Account;

public static class AccountSetup
{
    public static void AddIdentityHubAccounts(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        var lockout = AccountLockout.Read(builder.Configuration);
        services.AddSingleton(lockout);
        services.AddSingleton<AccountLockout>();
        services.AddSingleton<LoginTemplate>();
        services.AddSingleton<PortalTemplate>();
        services.AddSingleton(ReadMfaSettings(builder.Configuration));
        builder.AddIdentityHubMail();
        services.AddIdentity<UserAccount, IdentityRole>(options =>
            {
                IdentityHubSchema.ConfigureStores(options.Stores);
                options.Password.RequiredLength = 12;
                options.Lockout.AllowedForNewUsers = true;
                // AccountLockout applies these, growing the duration; Identity's own step is not used for passwords.
                options.Lockout.MaxFailedAccessAttempts = lockout.MaxFailedAttempts;
                options.Lockout.DefaultLockoutTimeSpan = lockout.Duration;
                options.User.RequireUniqueEmail = false;
                // Authenticator codes are checked by Otp.NET with replay refusal, not by Identity's default provider.
                options.Tokens.AuthenticatorTokenProvider = TotpCodes.ProviderName;
            })
            .AddEntityFrameworkStores<IdentityHubDbContext>()
            .AddSignInManager<ActiveUserSignInManager>()
            .AddErrorDescriber<ThemedIdentityErrorDescriber>()
            .AddDefaultTokenProviders()
            .AddTokenProvider<TotpCodes>(TotpCodes.ProviderName)
            .AddAccountLinkTokens(services)
            .AddClaimsPrincipalFactory<IdentityHubClaimsFactory>();
        // The passkey pages need the manager's own passkey sign-in (it reports whose passkey it was).
        services.AddScoped(provider => (ActiveUserSignInManager)provider.GetRequiredService<SignInManager<UserAccount>>());

        services.Configure<SecurityStampValidatorOptions>(options =>
            options.ValidationInterval = builder.Configuration.GetValue("Account:RevalidationInterval", TimeSpan.FromMinutes(1)));

        services.ConfigureApplicationCookie(cookie =>
        {
            cookie.Cookie.Name = "identityhub.session";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.LoginPath = "/account/login";
            cookie.LogoutPath = "/account/logout";
            cookie.AccessDeniedPath = "/account/access-denied";
            cookie.ExpireTimeSpan = builder.Configuration.GetValue("Account:SessionLifetime", TimeSpan.FromHours(8));
            cookie.SlidingExpiration = true;
            // API callers get status codes, not a redirect to a page they cannot use.
            cookie.Events.OnRedirectToLogin = context => RedirectOrStatus(context, StatusCodes.Status401Unauthorized);
            cookie.Events.OnRedirectToAccessDenied = context => RedirectOrStatus(context, StatusCodes.Status403Forbidden);
            // A session whose user changed on any node since the cookie was last checked is checked now, not at the interval;
            // before that, every request checks that the session itself has not ended (signed out, ended by an administrator).
            var standard = cookie.Events.OnValidatePrincipal;
            cookie.Events.OnValidatePrincipal = context =>
                SessionLiveness.ValidatePrincipalAsync(context, checkUser => SessionRevocations.ValidatePrincipalAsync(checkUser, standard));
        });

        // The security stamp check rebuilds the cookie's principal; the session id, sign-in time and methods must survive it.
        services.Configure<SecurityStampValidatorOptions>(options => options.OnRefreshingPrincipal = context =>
        {
            if (context.CurrentPrincipal?.FindFirst(IdentityHubClaims.SessionId) is { } sid && context.NewPrincipal?.Identity is ClaimsIdentity identity)
            {
                identity.AddClaim(new Claim(IdentityHubClaims.SessionId, sid.Value));
                if (context.CurrentPrincipal.FindFirst(IdentityHubClaims.AuthenticationTime) is { } authTime)
                {
                    identity.AddClaim(new Claim(IdentityHubClaims.AuthenticationTime, authTime.Value));
                }

                foreach (var method in context.CurrentPrincipal.FindAll(IdentityHubClaims.AuthenticationMethods))
                {
                    identity.AddClaim(new Claim(IdentityHubClaims.AuthenticationMethods, method.Value));
                }
            }

            return Task.CompletedTask;
        });
        services.AddSingleton<SessionRevocations>();
        services.AddHostedService(services => services.GetRequiredService<SessionRevocations>());
        services.AddScoped<SessionSignOut>();
        services.AddSingleton<SessionLiveness>();

        services.AddAuthorizationBuilder()
            .AddPolicy(ConsolePolicy.Name, policy => policy.RequireAuthenticatedUser().RequireRole(AdminRoles.All));

        services.AddScoped<FirstAdministrator>();
    }

    /// <summary>Reads <c>Account:Mfa</c>; a wrong value stops the start with one line naming the key.</summary>
    public static MfaSettings ReadMfaSettings(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        const string key = "Account:Mfa:RequireForAdministrators";
        var text = configuration[key];
        return new MfaSettings(text is null ? true
            : bool.TryParse(text, out var required) ? required
            : throw new StartupException($"{key} '{text}' is not true or false."));
    }

    private static Task RedirectOrStatus(RedirectContext<CookieAuthenticationOptions> context, int apiStatus)
    {
        if (context.Request.Path.StartsWithSegments(AdminApiSetup.BasePath))
        {
            context.Response.StatusCode = apiStatus;
        }
        else
        {
            context.Response.Redirect(context.RedirectUri);
        }

        return Task.CompletedTask;
    }
}

/// <summary>The console is open to anyone holding one of the admin roles.</summary>
public static class ConsolePolicy
{
    public const string Name = "Console";
}
