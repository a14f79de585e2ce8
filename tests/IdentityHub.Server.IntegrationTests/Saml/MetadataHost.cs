using IdentityHub.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace IdentityHub.Server.IntegrationTests.Saml;

/// <summary>
/// A service provider's web server (real Kestrel on loopback) publishing its metadata at /metadata, and
/// /moved answering a redirect to it, so metadata import by URL is tested against real HTTP.
/// </summary>
public sealed class MetadataHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private MetadataHost(WebApplication app, Uri baseUrl)
    {
        _app = app;
        MetadataUrl = new Uri(baseUrl, "metadata");
        RedirectUrl = new Uri(baseUrl, "moved");
    }

    public Uri MetadataUrl { get; }

    public Uri RedirectUrl { get; }

    /// <summary>How many requests reached this server.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <param name="address">A loopback address other than 127.0.0.1 lets a test allow-list this host alone.</param>
    public static async Task<MetadataHost> StartAsync(string metadataXml, string address = "127.0.0.1")
    {
        var baseUrl = new Uri($"http://{address}:{ServerProcess.FreePort()}/");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(baseUrl.AbsoluteUri);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var host = new MetadataHost(app, baseUrl);
        app.Use((context, next) =>
        {
            Interlocked.Increment(ref host._requests);
            return next(context);
        });
        app.MapGet("/metadata", () => Results.Content(metadataXml, "application/samlmetadata+xml"));
        app.MapGet("/moved", () => Results.Redirect("/metadata"));
        await app.StartAsync();
        return host;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
