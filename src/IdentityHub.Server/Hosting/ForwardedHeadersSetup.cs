using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace IdentityHub.Server.Hosting;

/// <summary>
/// Behind a TLS-terminating proxy or load balancer: the client's address, scheme and host come from the
/// X-Forwarded-For/-Proto/-Host headers, but only from the proxies listed in <c>Hosting:ForwardedHeaders</c>
/// (<c>KnownProxies</c> addresses, <c>KnownNetworks</c> in CIDR). Nothing listed, nothing trusted: anyone could send
/// those headers, and a forged scheme or host would change the issuer and the cookies' Secure flag.
/// </summary>
public static class ForwardedHeadersSetup
{
    private const string Section = "Hosting:ForwardedHeaders";

    public static void AddIdentityHubForwardedHeaders(this WebApplicationBuilder builder)
    {
        var proxies = builder.Configuration.GetSection($"{Section}:KnownProxies").Get<string[]>() ?? [];
        var networks = builder.Configuration.GetSection($"{Section}:KnownNetworks").Get<string[]>() ?? [];
        if (proxies.Length == 0 && networks.Length == 0)
        {
            return;
        }

        var parsedProxies = proxies.Select(text => IPAddress.TryParse(text, out var address)
            ? address
            : throw new StartupException($"{Section}:KnownProxies '{text}' is not an IP address.")).ToList();
        var parsedNetworks = networks.Select(text => System.Net.IPNetwork.TryParse(text, out var network)
            ? network
            : throw new StartupException($"{Section}:KnownNetworks '{text}' is not a network in CIDR notation, for example 10.0.0.0/8.")).ToList();

        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            // Only what is configured: the defaults trust loopback, which a sidecar on the same host could abuse.
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            parsedProxies.ForEach(options.KnownProxies.Add);
            parsedNetworks.ForEach(options.KnownIPNetworks.Add);
            options.ForwardLimit = builder.Configuration.GetValue($"{Section}:ForwardLimit", 1);
        });
        builder.Services.AddSingleton(new ForwardedHeadersEnabled());
    }

    /// <summary>First in the pipeline, so logging, HSTS, cookies and the issuer all see the client's scheme and host.</summary>
    public static void UseIdentityHubForwardedHeaders(this WebApplication app)
    {
        if (app.Services.GetService<ForwardedHeadersEnabled>() is not null)
        {
            app.UseForwardedHeaders();
        }
    }

    private sealed record ForwardedHeadersEnabled;
}
