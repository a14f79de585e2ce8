using System.Text.Json;
using IdentityHub.Core.Directory;
using IdentityHub.Server.Hosting;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.Oidc;

/// <summary>
/// Automation needs a way in before any application is registered: when <c>Bootstrap:AdminClientSecret</c>
/// is set and the client does not exist yet, a confidential client with the client credentials grant,
/// the admin API scope and the super-admin role is created.
/// </summary>
public sealed class AdminClientBootstrap(IOpenIddictApplicationManager applications, IConfiguration configuration)
{
    public const string DefaultClientId = "identityhub-admin";
    public const int MinimumSecretLength = 43;

    public async Task<bool> EnsureAsync(CancellationToken cancellationToken)
    {
        var secret = configuration["Bootstrap:AdminClientSecret"];
        if (string.IsNullOrEmpty(secret))
        {
            return false;
        }

        // Stored as a plain SHA-256 digest like server-generated secrets, so it must be as hard to guess (256 bits).
        if (secret.Length < MinimumSecretLength)
        {
            throw new StartupException(
                $"Bootstrap:AdminClientSecret must have at least {MinimumSecretLength} characters; use a random value, e.g. `openssl rand -base64 32`.");
        }

        var clientId = configuration["Bootstrap:AdminClientId"] is { Length: > 0 } configured ? configured : DefaultClientId;
        if (await applications.FindByClientIdAsync(clientId, cancellationToken) is not null)
        {
            return false;
        }

        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientSecret = secret,
            ClientType = ClientTypes.Confidential,
            DisplayName = "IdentityHub administration (bootstrap)",
            Permissions =
            {
                Permissions.Endpoints.Token,
                Permissions.GrantTypes.ClientCredentials,
                Permissions.Prefixes.Scope + IdentityHubScopes.AdminApi,
            },
        };
        descriptor.Properties[ClientProperties.AdminRoles] = JsonSerializer.SerializeToElement(new[] { AdminRoles.SuperAdmin });
        await applications.CreateAsync(descriptor, cancellationToken);
        return true;
    }
}
