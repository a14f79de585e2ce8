using IdentityHub.Server.Hosting.Cluster;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;

namespace IdentityHub.Server.Oidc.Keys;

public static class SigningKeysSetup
{
    /// <summary>
    /// Stored, scheduled signing and encryption keys for OpenIddict. Call after <c>AddOpenIddict()...AddServer()</c>:
    /// the ordering step must run after OpenIddict's own post-configuration.
    /// </summary>
    public static void AddIdentityHubSigningKeys(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton(KeySettings.Read(builder.Configuration));
        services.AddScoped<SigningKeyStore>();
        services.AddSingleton<KeyRing>();
        services.AddSingleton<PublishedDocuments>();
        services.AddSingleton(NodeRegistrySettings.Read(builder.Configuration));
        services.AddSingleton<NodeRegistry>();
        services.AddHostedService(provider => provider.GetRequiredService<NodeRegistry>());
        services.AddSingleton<KeyRotationService>();
        services.AddHostedService(provider => provider.GetRequiredService<KeyRotationService>());
        services.AddSingleton<IConfigureOptions<OpenIddictServerOptions>, ConfigureServerKeys>();
        services.AddSingleton<IPostConfigureOptions<OpenIddictServerOptions>, ConfigureServerKeys>();
    }

    /// <summary>
    /// Hands the key ring to OpenIddict each time its options are built. OpenIddict signs with the first
    /// credential of the list and publishes all of them; its post-configuration sorts the list, but keys
    /// that are not X.509 certificates compare equal there, so the active key is put first again afterwards.
    /// </summary>
    private sealed class ConfigureServerKeys(KeyRing ring) : IConfigureOptions<OpenIddictServerOptions>, IPostConfigureOptions<OpenIddictServerOptions>
    {
        public void Configure(OpenIddictServerOptions options)
        {
            var snapshot = ring.Current;
            foreach (var key in snapshot.Signing)
            {
                options.SigningCredentials.Add(new SigningCredentials(key.Key, key.Algorithm));
            }

            foreach (var key in snapshot.Encryption)
            {
                options.EncryptionCredentials.Add(new EncryptingCredentials(key.Key, key.Algorithm, SecurityAlgorithms.Aes256CbcHmacSha512));
            }
        }

        public void PostConfigure(string? name, OpenIddictServerOptions options)
        {
            var snapshot = ring.Current;
            MoveFirst(options.SigningCredentials, c => c.Key, snapshot.Signing);
            MoveFirst(options.EncryptionCredentials, c => c.Key, snapshot.Encryption);
        }

        private static void MoveFirst<T>(List<T> credentials, Func<T, SecurityKey> keyOf, IReadOnlyList<RingKey> ring)
        {
            if (ring.FirstOrDefault(k => k.State == KeyState.Active) is not { } active)
            {
                return;
            }

            var index = credentials.FindIndex(c => keyOf(c).KeyId == active.Id);
            if (index > 0)
            {
                var credential = credentials[index];
                credentials.RemoveAt(index);
                credentials.Insert(0, credential);
            }
        }
    }
}
