using System.Net.Http.Json;
using System.Text.Json;
using IdentityHub.Data.Directory;
using IdentityHub.Interop.Tests.Provisioning;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Interop.Tests.Cluster;

/// <summary>
/// Two IdentityHub processes, A and B, on one PostgreSQL database, as two nodes behind a balancer are: one public
/// issuer, everything else (Data Protection keys, signing keys, tokens, sessions) shared only through the database.
/// Tests talk to each node directly on its own port. Shared by the tests of a class.
/// </summary>
public sealed class CrossNodePair : IAsyncLifetime
{
    /// <summary>The address the balancer would publish; never dialled, both nodes only name it (tokens' iss, SAML Destination).</summary>
    public const string PublicIssuer = "http://sso.cluster.test/";

    /// <summary>Failed passwords before an account locks, counted across nodes (Account:Lockout:MaxFailedAttempts).</summary>
    public const int MaxFailedAttempts = 4;

    public const string Password = "Cross-Node-Password-1";

    private static readonly string[] GrantTypes = ["authorization_code", "refresh_token"];
    private static readonly string[] Scopes = ["openid", "profile", "email", "offline_access"];

    private ProvisioningDatabase? _database;
    private ServerProcess? _a;
    private ServerProcess? _b;

    public ServerProcess A => _a ?? throw new InvalidOperationException("Node A is not started.");

    public ServerProcess B => _b ?? throw new InvalidOperationException("Node B is not started.");

    public ProvisioningDatabase Database => _database ?? throw new InvalidOperationException("The database is not reserved.");

    public async Task InitializeAsync()
    {
        // Outside ./test.sh the tests of this fixture are skipped; under it a missing server fails them.
        if (TestEnvironment.MissingReason(Prerequisite.PostgreSql) is not null && !TestEnvironment.Strict)
        {
            return;
        }

        _database = new ProvisioningDatabase(postgreSql: true);
        var settings = new Dictionary<string, string>
        {
            ["Oidc:Issuer"] = PublicIssuer,
            ["Account:Lockout:MaxFailedAttempts"] = MaxFailedAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Account:Lockout:Duration"] = "01:00:00",
        };
        // One after the other: starting together on a fresh database is another test's subject (issue 19 point 1).
        _a = await _database.StartServerAsync("node-a", settings);
        _b = await _database.StartServerAsync("node-b", settings);
    }

    /// <summary>A new employee with <see cref="Password"/>, written straight to the shared database.</summary>
    public Task<(string Id, string UserName, string DisplayName)> CreateUserAsync() => Database.RunAsync(async services =>
    {
        var name = "x" + Guid.NewGuid().ToString("N")[..12];
        var user = new UserAccount
        {
            UserName = name,
            DisplayName = "Cross Node " + name,
            Email = name + "@example.test",
            EmailConfirmed = true,
            EmployeeNumber = "E" + name,
            Status = UserStatus.Active,
            CreatedAt = DateTimeOffset.UtcNow,
            UpdatedAt = DateTimeOffset.UtcNow,
        };
        var result = await services.GetRequiredService<UserManager<UserAccount>>().CreateAsync(user, Password);
        Assert.True(result.Succeeded, string.Join(" ", result.Errors.Select(e => e.Description)));
        return (user.Id, name, user.DisplayName);
    });

    /// <summary>Registers a confidential first-party client (code + PKCE, refresh tokens) through node A's admin API.</summary>
    public async Task<(string ClientId, string Secret)> RegisterClientAsync()
    {
        using var admin = await ProvisioningDatabase.AdminApiAsync(A);
        var applicationId = await ProvisioningDatabase.CreateApplicationAsync(admin, "Cross-node RP");
        var response = await admin.PutAsJsonAsync($"api/admin/v1/applications/{applicationId}/oidc", new
        {
            clientType = "confidential",
            tokenEndpointAuthMethod = "client_secret_basic",
            redirectUris = new[] { NodeBrowser.RedirectUri },
            grantTypes = GrantTypes,
            scopes = Scopes,
            firstParty = true,
            requirePkce = true,
        });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var json = JsonDocument.Parse(body);
        return (json.RootElement.GetProperty("clientId").GetString()!, json.RootElement.GetProperty("clientSecret").GetString()!);
    }

    /// <summary>Registers a SAML service provider (signed AuthnRequests) through node A's admin API.</summary>
    public async Task RegisterServiceProviderAsync(CrossNodeServiceProvider sp)
    {
        ArgumentNullException.ThrowIfNull(sp);
        using var admin = await ProvisioningDatabase.AdminApiAsync(A);
        var applicationId = await ProvisioningDatabase.CreateApplicationAsync(admin, "Cross-node SP");
        var response = await admin.PutAsJsonAsync($"api/admin/v1/applications/{applicationId}/saml", sp.Registration());
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task DisposeAsync()
    {
        foreach (var node in new[] { _b, _a })
        {
            if (node is not null)
            {
                await node.DisposeAsync();
            }
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
