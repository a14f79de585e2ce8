using System.Collections.Concurrent;
using System.Security.Cryptography;
using IdentityHub.Server.Oidc.Keys;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using OpenIddict.Server;

namespace IdentityHub.Server.Oidc;

/// <summary>
/// The discovery document and the JWKS, served from bytes OpenIddict wrote once: every relying party and every
/// gateway fetches them, and they change only when the keys or the server's options do. The first GET for a base
/// address runs OpenIddict and keeps its 200 answer; later ones get those bytes with an ETag (a matching
/// If-None-Match gets 304) and a Cache-Control a client may cache for. A new key ring, or OpenIddict options built
/// again (which the ring causes), makes the kept answer stale and the next request renders it again.
/// </summary>
public sealed class PublishedDocuments(KeyRing ring, IOptionsMonitor<OpenIddictServerOptions> server)
{
    /// <summary>How long a client may keep the discovery document.</summary>
    public static readonly TimeSpan DiscoveryMaxAge = TimeSpan.FromHours(1);

    /// <summary>How long a client may keep the JWKS: short, so a key rotated at once reaches relying parties soon.</summary>
    public static readonly TimeSpan JwksMaxAge = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, Rendered> _rendered = new(StringComparer.Ordinal);

    /// <summary>How long a client may keep the document at this path; null when the path is neither document.</summary>
    public TimeSpan? MaxAgeOf(PathString path)
    {
        var options = server.CurrentValue;
        return Matches(options.ConfigurationEndpointUris, path) ? DiscoveryMaxAge
            : Matches(options.JsonWebKeySetEndpointUris, path) ? JwksMaxAge
            : null;
    }

    public async Task ServeAsync(HttpContext context, TimeSpan maxAge, RequestDelegate next)
    {
        var request = context.Request;
        var key = $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}";
        var options = server.CurrentValue;
        var keys = ring.Current.Fingerprint;
        if (!_rendered.TryGetValue(key, out var rendered) || !ReferenceEquals(rendered.Options, options) || rendered.Keys != keys)
        {
            rendered = await RenderAsync(context, next, options, keys);
            if (rendered is null)
            {
                return;
            }

            _rendered[key] = rendered;
        }

        var response = context.Response;
        response.Headers.ETag = rendered.ETag;
        response.Headers.CacheControl = $"public, max-age={(int)maxAge.TotalSeconds}";
        if (request.Headers.IfNoneMatch.Contains(rendered.ETag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = rendered.ContentType;
        response.ContentLength = rendered.Body.Length;
        await response.Body.WriteAsync(rendered.Body, context.RequestAborted);
    }

    /// <summary>Lets OpenIddict answer into a buffer; keeps a 200, passes anything else on as it is.</summary>
    private static async Task<Rendered?> RenderAsync(HttpContext context, RequestDelegate next, OpenIddictServerOptions options, string keys)
    {
        var original = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = original;
        }

        var response = context.Response;
        if (response.StatusCode != StatusCodes.Status200OK || response.ContentType is null)
        {
            buffer.Position = 0;
            await buffer.CopyToAsync(original, context.RequestAborted);
            return null;
        }

        // OpenIddict marks its answers uncacheable; these two are meant to be cached.
        response.Headers.Remove(HeaderNames.Pragma);
        response.Headers.Remove(HeaderNames.Expires);
        var body = buffer.ToArray();
        var tag = new EntityTagHeaderValue($"\"{Base64UrlHash(body)}\"").ToString();
        return new Rendered(body, response.ContentType, tag, options, keys);
    }

    private static string Base64UrlHash(byte[] body) =>
        Convert.ToBase64String(SHA256.HashData(body), 0, 16).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool Matches(List<Uri> endpoints, PathString path) =>
        endpoints.Exists(uri => path.Equals(uri.IsAbsoluteUri ? uri.AbsolutePath : "/" + uri.OriginalString.TrimStart('/'), StringComparison.OrdinalIgnoreCase));

    private sealed record Rendered(byte[] Body, string ContentType, string ETag, OpenIddictServerOptions Options, string Keys);
}

public static class PublishedDocumentsSetup
{
    /// <summary>Serves discovery and JWKS GETs from <see cref="PublishedDocuments"/>; everything else passes.</summary>
    public static void UseIdentityHubPublishedDocuments(this WebApplication app) =>
        app.Use(async (context, next) =>
        {
            if (HttpMethods.IsGet(context.Request.Method) && context.Request.Query.Count == 0
                && context.RequestServices.GetRequiredService<PublishedDocuments>() is var documents
                && documents.MaxAgeOf(context.Request.Path) is { } maxAge)
            {
                await documents.ServeAsync(context, maxAge, next);
                return;
            }

            await next(context);
        });
}
