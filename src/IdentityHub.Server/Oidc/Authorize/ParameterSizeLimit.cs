using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHub.Server.Oidc.Authorize;

/// <summary>
/// Refuses front-channel requests carrying an oversized parameter (a 10 kB state, a padded redirect_uri)
/// before anything is validated, so the refusal is shown here and never redirected or echoed back.
/// </summary>
public sealed class ParameterSizeLimit :
    IOpenIddictServerHandler<ExtractAuthorizationRequestContext>,
    IOpenIddictServerHandler<ExtractPushedAuthorizationRequestContext>,
    IOpenIddictServerHandler<ExtractEndSessionRequestContext>
{
    /// <summary>Longest accepted value: room for an ID token hint, far below what proxies and logs choke on.</summary>
    public const int MaxValueLength = 4096;

    public static OpenIddictServerHandlerDescriptor AuthorizationDescriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ExtractAuthorizationRequestContext>()
            .UseSingletonHandler<ParameterSizeLimit>().SetOrder(int.MaxValue - 100_000).SetType(OpenIddictServerHandlerType.Custom).Build();

    public static OpenIddictServerHandlerDescriptor PushedDescriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ExtractPushedAuthorizationRequestContext>()
            .UseSingletonHandler<ParameterSizeLimit>().SetOrder(int.MaxValue - 100_000).SetType(OpenIddictServerHandlerType.Custom).Build();

    public static OpenIddictServerHandlerDescriptor EndSessionDescriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ExtractEndSessionRequestContext>()
            .UseSingletonHandler<ParameterSizeLimit>().SetOrder(int.MaxValue - 100_000).SetType(OpenIddictServerHandlerType.Custom).Build();

    public ValueTask HandleAsync(ExtractAuthorizationRequestContext context) => Check(context, context?.Request);

    public ValueTask HandleAsync(ExtractPushedAuthorizationRequestContext context) => Check(context, context?.Request);

    public ValueTask HandleAsync(ExtractEndSessionRequestContext context) => Check(context, context?.Request);

    private static ValueTask Check(BaseValidatingContext? context, OpenIddict.Abstractions.OpenIddictRequest? request)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (request is null)
        {
            return ValueTask.CompletedTask;
        }

        foreach (var (name, value) in request.GetParameters())
        {
            // RFC 6749 §4.1.2.1: a malformed request is refused with invalid_request.
            if (value.ToString()?.Length > MaxValueLength)
            {
                context.Reject(Errors.InvalidRequest, $"The '{name}' parameter is longer than {MaxValueLength} characters.");
                return ValueTask.CompletedTask;
            }
        }

        return ValueTask.CompletedTask;
    }
}
