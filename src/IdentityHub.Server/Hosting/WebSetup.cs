using IdentityHub.Data;
using IdentityHub.Server.Account;
using IdentityHub.Server.Admin;
using IdentityHub.Server.AdminApi;
using IdentityHub.Server.Hosting.Telemetry;
using IdentityHub.Server.Limits;
using IdentityHub.Server.Oidc;
using IdentityHub.Server.Oidc.Authorize;
using IdentityHub.Server.Scim;
using Microsoft.AspNetCore.DataProtection;

namespace IdentityHub.Server.Hosting;

public static class WebSetup
{
    public static void AddIdentityHubWeb(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // One key ring for every node, kept in the database next to what it protects.
        services.AddDataProtection()
            .SetApplicationName("IdentityHub")
            .PersistKeysToDbContext<IdentityHubDbContext>();

        services.AddRouting(options => options.LowercaseUrls = true);
        services.AddRazorPages(options =>
        {
            options.RootDirectory = "/";
            options.Conventions.AuthorizeFolder("/Admin", ConsolePolicy.Name);
        });
        services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "identityhub.antiforgery";
            // Antiforgery's default never sets Secure; over HTTPS (directly or through a trusted proxy) it must.
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            // The security headers policy sends X-Frame-Options on every response, not only where a token cookie is set.
            options.SuppressXFrameOptionsHeader = true;
        });
        services.AddIdentityHubScim();
        services.AddIdentityHubApiErrors();
        builder.AddIdentityHubForwardedHeaders();
        builder.AddIdentityHubRateLimits();
        builder.AddIdentityHubSecurityHeaders();
        builder.AddIdentityHubGracefulShutdown();
    }

    public static void UseIdentityHubPipeline(this WebApplication app)
    {
        app.UseIdentityHubForwardedHeaders();
        app.UseIdentityHubMetricsEndpoint();
        app.UseIdentityHubSecurityHeaders();
        app.UseIdentityHubDrain();
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/error");
        }

        app.UseIdentityHubRequestLogging();
        // People get the error page; admin API callers get RFC 9457 problem details, SCIM clients SCIM errors.
        app.UseIdentityHubApiErrors();
        app.UseIdentityHubPublishedDocuments();
        app.UseWhen(
            context => !context.Request.Path.StartsWithSegments(AdminApiSetup.BasePath) && !context.Request.Path.StartsWithSegments(ScimSetup.BasePath),
            pages => pages.UseStatusCodePagesWithReExecute("/error", "?status={0}"));
        app.UseIdentityHubTheme();
        app.UseIdentityHubLocalization();
        app.UseRouting();
        app.UseIdentityHubProtocolLimits();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UsePasswordChangeGate();
        app.UseIdentityHubApiLimits();
        app.UseIdentityHubAuthorizationFormTargets();
        app.UseAntiforgery();

        app.MapIdentityHubHealth();
        app.MapRazorPages();
        app.MapIdentityHubAdminApi();
        app.MapIdentityHubOidc();
        app.MapScimServer();
    }
}
