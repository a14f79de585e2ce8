using IdentityHub.Core.Access;
using IdentityHub.Server.Hosting;

namespace IdentityHub.Server.Oidc.Clients;

/// <summary>
/// Automation needs a way in before any application is registered: when <c>Bootstrap:AdminClientSecret</c>
/// is set and the client does not exist yet, a confidential client with the client credentials grant,
/// the admin API scope and the super-admin role is created (by <see cref="OidcClients"/>, audited).
/// </summary>
public sealed class AdminClientBootstrap(OidcClients clients, IConfiguration configuration)
{
    public const string DefaultClientId = "identityhub-admin";
    public const int MinimumSecretLength = 43;

    /// <summary>Returns the client id when this call created the client, else null (not configured, or it exists).</summary>
    public async Task<string?> EnsureAsync(CancellationToken cancellationToken)
    {
        var secret = configuration["Bootstrap:AdminClientSecret"];
        if (string.IsNullOrEmpty(secret))
        {
            return null;
        }

        // Stored as a plain SHA-256 digest like server-generated secrets, so it must be as hard to guess (256 bits).
        if (secret.Length < MinimumSecretLength)
        {
            throw new StartupException(
                $"Bootstrap:AdminClientSecret must have at least {MinimumSecretLength} characters; use a random value, e.g. `openssl rand -base64 32`.");
        }

        var clientId = configuration["Bootstrap:AdminClientId"] is { Length: > 0 } configured ? configured : DefaultClientId;
        return await clients.EnsureBootstrapClientAsync(clientId, secret, cancellationToken) ? clientId : null;
    }
}
