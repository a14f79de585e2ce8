using System.Diagnostics;
using System.Security.Claims;
using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Outbound;
using IdentityHub.Server.Access;
using OpenIddict.Abstractions;

namespace IdentityHub.Server.Hosting;

/// <summary>Registers the domain services and tells them who is acting: the request's principal, or IdentityHub itself.</summary>
public static class DomainSetup
{
    public static void AddIdentityHubDomain(this WebApplicationBuilder builder)
    {
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddScoped(services =>
        {
            var accessor = services.GetRequiredService<IHttpContextAccessor>();
            return new CurrentActor(() => accessor.HttpContext is { } http ? ActorOf(http) : null);
        });
        builder.Services.AddOptions<OutboundOptions>().Bind(builder.Configuration.GetSection(OutboundOptions.Section));
        // A deployment without TLS (Oidc:RequireHttps=false) may point launch URLs at plain http hosts too.
        builder.Services.AddSingleton(new WebAddressPolicy(AllowPlainHttp: !builder.Configuration.GetValue("Oidc:RequireHttps", defaultValue: true)));
        builder.Services.AddSingleton(ReadSelfService(builder.Configuration));
        builder.Services.AddIdentityHubCore();
        builder.Services.AddHostedService<AssignmentExpiryService>();
    }

    /// <summary>
    /// <c>Account:SelfService:Editable</c>: the profile fields people edit themselves, as a list or comma-separated
    /// (<c>displayName</c>, <c>email</c>, <c>phone</c>); the display name and phone when it is not set.
    /// </summary>
    public static SelfServiceSettings ReadSelfService(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection("Account:SelfService:Editable");
        if (!section.Exists())
        {
            return SelfServiceSettings.Default;
        }

        var listed = section.Value is { } text ? text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : section.GetChildren().Select(c => c.Value ?? "").ToArray();
        var unknown = listed.Where(f => !SelfServiceSettings.Fields.Contains(f, StringComparer.Ordinal)).ToList();
        if (unknown.Count > 0)
        {
            throw new StartupException(
                $"Account:SelfService:Editable names {string.Join(", ", unknown)}; the fields people may edit are {string.Join(", ", SelfServiceSettings.Fields)}.");
        }

        return new SelfServiceSettings(listed.ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>The actor of a request: a signed-in person, a client using its own token, or an anonymous caller.</summary>
    public static Actor ActorOf(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var user = http.User;
        var id = user.FindFirstValue(ClaimTypes.NameIdentifier) ?? user.FindFirstValue(OpenIddictConstants.Claims.Subject) ?? "anonymous";
        var name = user.Identity?.Name ?? user.FindFirstValue(OpenIddictConstants.Claims.PreferredUsername)
            ?? user.FindFirstValue(OpenIddictConstants.Claims.ClientId) ?? id;
        var roles = AdminRoles.All.Where(user.IsInRole).ToHashSet(StringComparer.Ordinal);
        return new Actor(id, name, roles, http.Connection.RemoteIpAddress?.ToString(), http.Request.Headers.UserAgent.ToString(),
            Activity.Current?.TraceId.ToString() ?? http.TraceIdentifier);
    }
}
