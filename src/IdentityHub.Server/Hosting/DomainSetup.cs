using System.Diagnostics;
using System.Security.Claims;
using IdentityHub.Core;
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
        builder.Services.AddIdentityHubCore();
        builder.Services.AddHostedService<AssignmentExpiryService>();
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
