using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore.Localization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.WebEncoders;

namespace IdentityHub.Server.Admin;

/// <summary>The web console: its texts in English and Chinese, and who may see and change each section.</summary>
public static class ConsoleSetup
{
    public static void AddIdentityHubConsole(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // Chinese text goes out as text, not as &#x...; entities.
        services.Configure<WebEncoderOptions>(options => options.TextEncoderSettings = new TextEncoderSettings(UnicodeRanges.All));
        builder.AddIdentityHubThemes();
        services.AddScoped<Pickers>();
        services.Configure<RequestLocalizationOptions>(options =>
        {
            options.DefaultRequestCulture = new RequestCulture(ThemeMessages.English);
            options.SupportedCultures = [.. ThemeMessages.Cultures];
            options.SupportedUICultures = [.. ThemeMessages.Cultures];
            // The sign-in flow's ui_locales first, then the language switch's cookie, then the browser's Accept-Language.
            options.RequestCultureProviders = [new UiLocalesCultureProvider(), new CookieRequestCultureProvider(), new AcceptLanguageHeaderRequestCultureProvider()];
        });

        var authorization = services.AddAuthorizationBuilder();
        foreach (var section in ConsoleSections.All)
        {
            authorization.AddPolicy(section.ReadPolicy, policy => policy.RequireAuthenticatedUser().RequireRole(section.Readers));
        }

        services.Configure<RazorPagesOptions>(options =>
        {
            foreach (var section in ConsoleSections.All)
            {
                options.Conventions.AuthorizeFolder(section.Folder, section.ReadPolicy);
            }

            options.Conventions.AddFolderApplicationModelConvention(
                ConsoleSections.Dashboard.Folder,
                page => page.Filters.Add(new ConsoleWriteFilter(ConsoleSections.Of(page.ViewEnginePath))));
        });
    }

    /// <summary>Chooses each request's language; goes before the pages.</summary>
    public static void UseIdentityHubLocalization(this WebApplication app) =>
        app.UseRequestLocalization(app.Services.GetRequiredService<IOptions<RequestLocalizationOptions>>().Value);
}

/// <summary>
/// Refuses any write (a non-GET request) to a console page with 403 unless the caller is one of its
/// section's writers (or of the handler's own <see cref="ConsoleWritersAttribute"/>): hiding the buttons is
/// not enough, a forged form post must fail too.
/// </summary>
public sealed class ConsoleWriteFilter(ConsoleSection section) : IAsyncPageFilter
{
    public ConsoleSection Section { get; } = section;

    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var method = context.HttpContext.Request.Method;
        var user = context.HttpContext.User;
        var allowed = context.HandlerMethod?.MethodInfo.GetCustomAttribute<ConsoleWritersAttribute>() is { } handler
            ? handler.Roles.Any(user.IsInRole)
            : Section.CanWrite(user);
        if (!HttpMethods.IsGet(method) && !HttpMethods.IsHead(method) && !allowed)
        {
            context.Result = new StatusCodeResult(StatusCodes.Status403Forbidden);
            return;
        }

        await next();
    }
}

/// <summary>A page handler whose writers differ from its section's (ending sessions on a person's page).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ConsoleWritersAttribute(params string[] roles) : Attribute
{
    public IReadOnlyList<string> Roles { get; } = roles;
}
