using System.Text.Json;
using System.Threading.RateLimiting;
using IdentityHub.Server.Oidc.Clients;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.Limits;

/// <summary>
/// Limits on the token, introspection and PAR endpoints, per client address and per client_id. OpenIddict answers
/// introspection and PAR itself inside the authentication middleware, before any endpoint runs, so this middleware
/// goes by path and stands before it. A request counts for the client it names (form or Basic header), authenticated
/// or not: guessing a client's secret spends that client's budget, and the per-address limit bounds who can spend it.
/// </summary>
public sealed class ProtocolEndpointLimits(RateLimitSettings settings) : IDisposable
{
    public static readonly PathString[] Paths = ["/connect/token", "/connect/introspect", "/connect/par"];

    private readonly PartitionedRateLimiter<string> _perIp = RequestLimits.PerKey(settings.TokenPerIp);
    private readonly PartitionedRateLimiter<string> _perClient = RequestLimits.PerKey(settings.TokenPerClient);

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (!HttpMethods.IsPost(context.Request.Method) || !Array.Exists(Paths, path => context.Request.Path.Equals(path, StringComparison.OrdinalIgnoreCase)))
        {
            await next(context);
            return;
        }

        using (var byIp = _perIp.AttemptAcquire(RequestLimits.ClientAddress(context)))
        {
            if (!byIp.IsAcquired)
            {
                await RefuseAsync(context, byIp, "from this address");
                return;
            }
        }

        if (await ClientIdOfAsync(context.Request) is { Length: > 0 } clientId)
        {
            using var byClient = _perClient.AttemptAcquire(clientId);
            if (!byClient.IsAcquired)
            {
                await RefuseAsync(context, byClient, "for this client");
                return;
            }
        }

        await next(context);
    }

    public void Dispose()
    {
        _perIp.Dispose();
        _perClient.Dispose();
    }

    /// <summary>RFC 6749 §2.3.1: the client_id comes in the form or, form-encoded, as the Basic user name.</summary>
    private static async Task<string?> ClientIdOfAsync(HttpRequest request)
    {
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
            if (form[Parameters.ClientId].ToString() is { Length: > 0 } fromForm)
            {
                return fromForm;
            }
        }

        return ClientBasicCredentials.From(request)?.ClientId;
    }

    /// <summary>
    /// RFC 6749 has no error code for "too many requests" at the token endpoint. <c>temporarily_unavailable</c> (§4.1.2.1,
    /// "temporary overloading") says what happened and that retrying later helps; <c>slow_down</c> (RFC 8628 §3.5) means
    /// "poll a device code more slowly" and would mislead other grants. The 429 and Retry-After carry the rest.
    /// </summary>
    private static async Task RefuseAsync(HttpContext context, RateLimitLease lease, string scope)
    {
        var seconds = RequestLimits.RetryAfterSeconds(lease);
        RequestLimits.SetRetryAfter(context.Response, seconds);
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";
        context.Response.ContentType = "application/json;charset=UTF-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, new Dictionary<string, string>
        {
            [Parameters.Error] = Errors.TemporarilyUnavailable,
            [Parameters.ErrorDescription] = $"Too many requests {scope}; retry after {seconds} seconds.",
        }, cancellationToken: context.RequestAborted);
    }
}
