using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using IdentityHub.Server.AdminApi;
using IdentityHub.Server.Scim;
using Microsoft.AspNetCore.RateLimiting;

namespace IdentityHub.Server.Limits;

/// <summary>
/// ASP.NET Core's rate limiter on sign-in, the OAuth endpoints, the admin API and the SCIM server, with the limits of
/// <see cref="RateLimitSettings"/>. A refusal is a 429 with Retry-After, in each surface's own error format.
/// </summary>
public static class RateLimitSetup
{
    public static void AddIdentityHubRateLimits(this WebApplicationBuilder builder)
    {
        var settings = RateLimitSettings.Read(builder.Configuration);
        var services = builder.Services;
        services.AddSingleton(settings);
        services.AddSingleton<SignInLimits>();
        services.AddSingleton<ProtocolEndpointLimits>();
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.GlobalLimiter = PartitionedRateLimiter.CreateChained(ApiPerIp(settings), ApiPerCaller(settings));
            options.OnRejected = (context, _) => RefuseApiCallAsync(context);
        });
    }

    /// <summary>
    /// Before authentication (OpenIddict answers introspection and PAR there) and after the forwarded headers, so the
    /// address is the client's and not the proxy's.
    /// </summary>
    public static void UseIdentityHubProtocolLimits(this WebApplication app) =>
        app.Use((context, next) => context.RequestServices.GetRequiredService<ProtocolEndpointLimits>().InvokeAsync(context, next));

    /// <summary>After authorization, so an admin API caller is known by its token's client or its user.</summary>
    public static void UseIdentityHubApiLimits(this WebApplication app) => app.UseRateLimiter();

    private static PartitionedRateLimiter<HttpContext> ApiPerIp(RateLimitSettings settings) =>
        PartitionedRateLimiter.Create<HttpContext, string>(context => AreaOf(context) switch
        {
            ApiArea.Admin => RateLimitPartition.GetFixedWindowLimiter($"admin\n{RequestLimits.ClientAddress(context)}", _ => settings.AdminApiPerIp.ToLimiterOptions()),
            ApiArea.Scim => RateLimitPartition.GetFixedWindowLimiter($"scim\n{RequestLimits.ClientAddress(context)}", _ => settings.ScimPerIp.ToLimiterOptions()),
            _ => RateLimitPartition.GetNoLimiter(""),
        });

    private static PartitionedRateLimiter<HttpContext> ApiPerCaller(RateLimitSettings settings) =>
        PartitionedRateLimiter.Create<HttpContext, string>(context => (AreaOf(context), CallerOf(context)) switch
        {
            (ApiArea.Admin, { } caller) => RateLimitPartition.GetFixedWindowLimiter($"admin\n{caller}", _ => settings.AdminApiPerClient.ToLimiterOptions()),
            (ApiArea.Scim, { } caller) => RateLimitPartition.GetFixedWindowLimiter($"scim\n{caller}", _ => settings.ScimPerClient.ToLimiterOptions()),
            _ => RateLimitPartition.GetNoLimiter(""),
        });

    private static ApiArea AreaOf(HttpContext context) =>
        context.Request.Path.StartsWithSegments(AdminApiSetup.BasePath) ? ApiArea.Admin
        : context.Request.Path.StartsWithSegments(ScimSetup.BasePath) ? ApiArea.Scim
        : ApiArea.None;

    /// <summary>
    /// The admin API caller as authorization found it (token client, else subject, else the console user); a SCIM source
    /// by its bearer token, one per source, checked later by the SCIM endpoints themselves.
    /// </summary>
    private static string? CallerOf(HttpContext context)
    {
        if (context.Request.Path.StartsWithSegments(ScimSetup.BasePath))
        {
            var authorization = context.Request.Headers.Authorization.ToString();
            return authorization.Length == 0 ? null : Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(authorization)));
        }

        var user = context.User;
        return user.FindFirst("client_id")?.Value ?? user.FindFirst("sub")?.Value ?? user.FindFirst(ClaimTypes.NameIdentifier)?.Value;
    }

    private static async ValueTask RefuseApiCallAsync(OnRejectedContext rejected)
    {
        var context = rejected.HttpContext;
        var seconds = RequestLimits.RetryAfterSeconds(rejected.Lease);
        RequestLimits.SetRetryAfter(context.Response, seconds);
        var detail = $"Too many requests; retry after {seconds} seconds.";
        // RFC 9457 on the admin API; RFC 7644 §3.12's error message on SCIM, like every other SCIM error.
        IResult result = AreaOf(context) == ApiArea.Scim
            ? ScimErrors.Result(StatusCodes.Status429TooManyRequests, null, detail)
            : TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests", detail: detail);
        await result.ExecuteAsync(context);
    }

    private enum ApiArea
    {
        None,
        Admin,
        Scim,
    }
}
