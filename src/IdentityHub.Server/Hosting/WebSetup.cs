using IdentityHub.Data;
using IdentityHub.Server.Account;
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
        services.AddAntiforgery(options => options.Cookie.Name = "identityhub.antiforgery");
    }

    public static void UseIdentityHubPipeline(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/error");
            app.UseHsts();
        }

        app.UseIdentityHubRequestLogging();
        app.UseStatusCodePagesWithReExecute("/error", "?status={0}");
        app.UseIdentityHubTheme();
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();

        app.MapIdentityHubHealth();
        app.MapRazorPages();
    }
}
