using IdentityHub.Core.Access;
using OpenIddict.Abstractions;
using OpenIddict.Validation;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Validation.OpenIddictValidationEvents;

namespace IdentityHub.Server.AdminApi;

/// <summary>
/// A bearer token opens the admin API only while its client still may: a client deleted or disabled since the token was
/// issued is refused at once, and so is a client-credentials token carrying an admin role the client no longer holds
/// (it asks for a new token, which carries the roles it has now). Checked on every request against the process-wide
/// <see cref="ClientCache"/>, which every node drops a client from within about a second of its change — no token row is
/// read (client-credentials tokens have none).
/// </summary>
public sealed class AdminClientAccess(IOpenIddictApplicationManager applications) : IOpenIddictValidationHandler<ValidateTokenContext>
{
    public static OpenIddictValidationHandlerDescriptor Descriptor { get; } =
        OpenIddictValidationHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
            .UseScopedHandler<AdminClientAccess>()
            // After OpenIddict's own checks: a token that is forged, expired or for another audience keeps its own error.
            .SetOrder(OpenIddictValidationHandlers.Protection.ValidateAuthorizationEntry.Descriptor.Order + 1_000)
            .SetType(OpenIddictValidationHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ValidateTokenContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Principal is not { } principal
            || (principal.GetClaim(Claims.ClientId) ?? principal.GetPresenters().FirstOrDefault()) is not { Length: > 0 } clientId)
        {
            return;
        }

        // RFC 6750 §3.1: a token that no longer grants access is answered as invalid_token.
        var application = await applications.FindByClientIdAsync(clientId, context.CancellationToken);
        if (application is null)
        {
            context.Reject(Errors.InvalidToken, "The client this token was issued to no longer exists.");
            return;
        }

        var properties = await applications.GetPropertiesAsync(application, context.CancellationToken);
        if (ClientProperties.IsDisabled(properties))
        {
            context.Reject(Errors.InvalidToken, "The client this token was issued to has been disabled by an administrator.");
            return;
        }

        // The client acting for itself: its roles are the client's, as they were at issue.
        if (principal.GetClaim(Claims.Subject) == clientId && principal.GetClaims(Claims.Role).Except(ClientProperties.AdminRolesOf(properties)).Any())
        {
            context.Reject(Errors.InvalidToken, "The client no longer holds every admin role this token carries; request a new token.");
        }
    }
}
