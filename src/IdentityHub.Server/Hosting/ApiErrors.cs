using System.Text.Json;
using IdentityHub.Data.Audit;
using IdentityHub.Server.AdminApi;
using IdentityHub.Server.Scim;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Hosting;

/// <summary>
/// Every error of the admin API (RFC 9457 problem documents) and of the SCIM server (RFC 7644 §3.12 SCIM errors), in
/// every environment: what the framework answers without a body (401, 403, 404, 405, 415, 429...), a body the JSON reader
/// refuses (named by line, byte and JSON path) and an unexpected exception. Nothing of the request is echoed: no headers,
/// no exception text.
/// </summary>
public static class ApiErrors
{
    /// <summary>STJ's default is 64; request bodies here are a few levels deep, so anything deeper is refused early.</summary>
    public const int MaxJsonDepth = 32;

    public static void AddIdentityHubApiErrors(this IServiceCollection services)
    {
        // Binding failures throw (as in Development), so the handler below can name the field instead of a bare 400.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.Configure<Microsoft.AspNetCore.Http.Json.JsonOptions>(options => options.SerializerOptions.MaxDepth = MaxJsonDepth);
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
            // The developer exception page adds the request's headers (bearer token and cookies included): never send them.
            context.ProblemDetails.Extensions.Remove("exception"));
    }

    public static void UseIdentityHubApiErrors(this IApplicationBuilder app)
    {
        app.Use(async (http, next) =>
        {
            try
            {
                await next(http);
            }
            catch (Exception error) when (!http.Response.HasStarted && error is not OperationCanceledException
                && (IsAdminApi(http) || IsScim(http) || error is BadHttpRequestException))
            {
                await HandleAsync(http, error);
                return;
            }

            if (IsBodyless(http.Response))
            {
                await WriteStatusAsync(http);
            }
        });
    }

    private static bool IsAdminApi(HttpContext http) => http.Request.Path.StartsWithSegments(AdminApiSetup.BasePath);

    private static bool IsScim(HttpContext http) => http.Request.Path.StartsWithSegments(ScimSetup.BasePath);

    private static bool IsBodyless(HttpResponse response) =>
        response.StatusCode >= 400 && !response.HasStarted && response.ContentLength is null or 0 && string.IsNullOrEmpty(response.ContentType);

    private static async Task HandleAsync(HttpContext http, Exception error)
    {
        if (error is AuditChainBusyException busy)
        {
            // Overload, not a fault: the change was not made, and the caller may send it again shortly.
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ApiErrors))
                .LogWarning("{Method} {Path} refused: {Reason}", http.Request.Method, http.Request.Path, busy.Message);
            http.Response.Clear();
            http.Response.Headers.RetryAfter = "1";
            await WriteAsync(http, StatusCodes.Status503ServiceUnavailable, busy.Message);
            return;
        }

        var status = error is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError;
        if (status >= 500)
        {
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ApiErrors))
                .LogError(error, "Unhandled exception on {Method} {Path}", http.Request.Method, http.Request.Path);
        }

        // Pages and protocol endpoints keep their own error handling: a bad request there stays a bare status, as before.
        if (!IsAdminApi(http) && !IsScim(http))
        {
            http.Response.StatusCode = status;
            return;
        }

        http.Response.Clear();
        var json = error.InnerException as JsonException ?? error as JsonException;
        if (json is not null && status < 500)
        {
            await WriteInvalidJsonAsync(http, json);
            return;
        }

        var detail = status >= 500
            ? "An unexpected error occurred; the request changed nothing that was not committed. The server log has the details under this request's trace id."
            : error.Message;
        await WriteAsync(http, status, detail);
    }

    /// <summary>The reader's own position: its JSON path names the field, line and byte (both counted from 0) where it stopped.</summary>
    private static async Task WriteInvalidJsonAsync(HttpContext http, JsonException json)
    {
        var reason = json.Message.Split(" Path: ", 2)[0].Trim();
        // STJ names the .NET type it was filling, which says nothing to an API client; the path already names the field.
        if (reason.StartsWith("The JSON value could not be converted to", StringComparison.Ordinal))
        {
            reason = "The value has the wrong JSON type for this field.";
        }

        var field = FieldOf(json.Path);
        var where = $"at {json.Path ?? "$"} (line {json.LineNumber ?? 0}, byte {json.BytePositionInLine ?? 0}, counted from 0)";
        var message = $"The body is not valid JSON for this request {where}: {reason}";
        if (IsScim(http))
        {
            await ScimErrors.Result(StatusCodes.Status400BadRequest, "invalidSyntax", message).ExecuteAsync(http);
            return;
        }

        await TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { [field] = [message] },
            title: "The request body is not valid JSON for this request.",
            detail: message,
            extensions: new Dictionary<string, object?>
            {
                ["jsonPath"] = json.Path ?? "$",
                ["lineNumber"] = json.LineNumber,
                ["bytePositionInLine"] = json.BytePositionInLine,
            }).ExecuteAsync(http);
    }

    /// <summary><c>$.permissions[0].permissionId</c> → <c>permissions[0].permissionId</c>; the whole body is <c>body</c>.</summary>
    public static string FieldOf(string? jsonPath) =>
        string.IsNullOrEmpty(jsonPath) || jsonPath == "$" ? "body" : jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : jsonPath.TrimStart('$');

    private static Task WriteStatusAsync(HttpContext http)
    {
        var status = http.Response.StatusCode;
        var detail = status switch
        {
            StatusCodes.Status401Unauthorized => "Authenticate with a bearer token.",
            StatusCodes.Status403Forbidden => "The caller is not allowed to do this.",
            StatusCodes.Status404NotFound => $"There is nothing at {http.Request.Path}.",
            StatusCodes.Status405MethodNotAllowed => $"{http.Request.Method} is not allowed on {http.Request.Path}.",
            StatusCodes.Status415UnsupportedMediaType => "Send the body as application/json.",
            StatusCodes.Status429TooManyRequests => "Too many requests; wait as Retry-After says, then try again.",
            _ => ReasonPhrases(status),
        };
        return WriteAsync(http, status, detail);
    }

    private static Task WriteAsync(HttpContext http, int status, string detail)
    {
        if (IsScim(http))
        {
            return ScimErrors.Result(status, status == StatusCodes.Status400BadRequest ? "invalidSyntax" : null, detail).ExecuteAsync(http);
        }

        if (!IsAdminApi(http))
        {
            return Task.CompletedTask;
        }

        var problem = new ProblemDetails { Status = status, Detail = detail };
        return TypedResults.Problem(problem).ExecuteAsync(http);
    }

    private static string ReasonPhrases(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase + "." : "The request failed.";
}
