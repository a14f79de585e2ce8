using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace IdentityHub.Server.AdminApi;

/// <summary>
/// An administrator signed in to the console (cookie, no bearer token) who lacks the role for an admin API
/// call gets 403. Without this, the bearer scheme's forbid answered 401 "Bearer" after the cookie's 403,
/// telling a signed-in auditor to authenticate instead of that the write is not theirs to make.
/// </summary>
public sealed class CookieCallerForbidden : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(authorizeResult);
        if (authorizeResult.Forbidden && context.Request.Path.StartsWithSegments(AdminApiSetup.BasePath)
            && context.Request.Headers.Authorization.Count == 0)
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return Task.CompletedTask;
        }

        return _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
