using System.Text.Json;
using IdentityHub.Core;

namespace IdentityHub.Server.Scim;

/// <summary>
/// IdentityHub's SCIM 2.0 service provider (RFC 7643, RFC 7644) at <see cref="BasePath"/>: OA and HR systems push
/// people (Users) and departments (Groups) with their source's bearer token; every write goes through the
/// organisation intake as that source.
/// </summary>
public static class ScimSetup
{
    public const string BasePath = "/scim/v2";

    public static void AddIdentityHubScim(this IServiceCollection services)
    {
        services.AddScoped<ScimCaller>();
        services.AddScoped<ScimWrites>();
    }

    public static void MapScimServer(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var scim = endpoints.MapGroup(BasePath).AddEndpointFilter(MapErrorsAsync).DisableAntiforgery();
        scim.MapScimDiscovery();
        var authenticated = scim.MapGroup("").AddEndpointFilter(ScimAuthentication.RequireSourceAsync);
        authenticated.MapScimUsersApi();
        authenticated.MapScimGroupsApi();
        // RFC 7644 §3.12: even an endpoint that does not exist answers in the SCIM error schema.
        scim.Map("/{**path}", (string? path) => ScimErrors.Result(StatusCodes.Status404NotFound, null, $"There is no SCIM endpoint '/{path}' here."));
    }

    /// <summary>RFC 7644 §3.12: every refusal, the Core's and the protocol's, leaves as a SCIM error; bad input is never a 500.</summary>
    private static async ValueTask<object?> MapErrorsAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (ScimException error)
        {
            return ScimErrors.Of(error);
        }
        catch (RuleViolation violation)
        {
            return ScimErrors.Of(violation);
        }
        catch (JsonException error)
        {
            return ScimErrors.Result(StatusCodes.Status400BadRequest, "invalidSyntax", error.Message);
        }
        catch (BadHttpRequestException error)
        {
            return ScimErrors.Result(error.StatusCode, error.StatusCode == StatusCodes.Status400BadRequest ? "invalidSyntax" : null, error.Message);
        }
    }
}
