using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Cluster;
using IdentityHub.Data.Keys;
using IdentityHub.Server.Oidc.Clients;
using IdentityHub.Server.Oidc.Keys;
using IdentityHub.Testing;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static IdentityHub.Server.IntegrationTests.Oidc.OidcTestClient;
using static OpenIddict.Abstractions.OpenIddictConstants;
using IdentityHubScopes = IdentityHub.Core.Access.IdentityHubScopes;
using ClientProperties = IdentityHub.Core.Access.ClientProperties;

namespace IdentityHub.Server.IntegrationTests.Oidc;

/// <summary>
/// Issue 4 points 6 and 8(c): keys rotate with overlap, and a relying party validating with
/// Microsoft.IdentityModel against the published JWKS keeps working before and after a rotation.
/// </summary>
public abstract class KeyRotationTests<TFactory> : IAsyncLifetime
    where TFactory : IdentityHubFactory, new()
{
    private const string KeysPath = "/api/admin/v1/keys";
    private readonly KeyTestNodes<TFactory> _nodes = new();

    public Task InitializeAsync() => _nodes.InitializeAsync();

    public async Task DisposeAsync() => await _nodes.DisposeAsync();

    [PrerequisiteFact]
    public async Task Rotate_ByAdminEndpoint_OldTokenStillValidatesAndNewTokensUseTheNewKey()
    {
        var node = _nodes.StartNode();
        var before = await GetTokenAsync(node);
        var jwksBefore = await GetJwksAsync(node);
        Assert.True((await _nodes.ValidateAsync(before, jwksBefore)).IsValid);

        var response = await BearerClient(node, before).PostAsync($"{KeysPath}/rotate", content: null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var rotation = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var activated = rotation.RootElement.GetProperty("activated").GetProperty("kid").GetString();
        Assert.Equal(before.Kid, rotation.RootElement.GetProperty("retired").GetProperty("kid").GetString());
        Assert.NotEqual(before.Kid, activated);
        // No next key was published ahead: the caller is told relying parties may not know the new one yet.
        Assert.Contains("published only", rotation.RootElement.GetProperty("warning").GetString(), StringComparison.Ordinal);
        var jwksAfter = await GetJwksAsync(node);
        Assert.Equal(new[] { before.Kid, activated }.Order(StringComparer.Ordinal), Kids(jwksAfter));
        var beforeAfterRotation = await _nodes.ValidateAsync(before, jwksAfter);
        Assert.True(beforeAfterRotation.IsValid, beforeAfterRotation.Exception?.Message);
        var after = await GetTokenAsync(node);
        Assert.Equal(activated, after.Kid);
        Assert.True((await _nodes.ValidateAsync(after, jwksAfter)).IsValid);
        Assert.False((await _nodes.ValidateAsync(after, jwksBefore)).IsValid, "The old JWKS does not hold the new key.");
        // The local validation handler of the admin API accepts tokens signed with the new key.
        Assert.Equal(HttpStatusCode.OK, (await BearerClient(node, after).GetAsync(KeysPath)).StatusCode);
    }

    [PrerequisiteFact]
    public async Task Schedule_NextKeyPublishedAhead_IsInJwksButDoesNotSignUntilItsTime()
    {
        var node = _nodes.StartNode(("Oidc:Keys:RotationInterval", "10.00:00:00"), ("Oidc:Keys:PublishAhead", "2.00:00:00"));
        var first = await GetTokenAsync(node);

        _nodes.Clock.Advance(TimeSpan.FromDays(8) + TimeSpan.FromMinutes(1));
        Assert.True(await RunScheduleAsync(node));

        var jwks = await GetJwksAsync(node);
        Assert.Equal(2, jwks.Keys.Count);
        var next = Assert.Single(jwks.Keys, k => k.Kid != first.Kid).Kid;
        Assert.Equal(first.Kid, (await GetTokenAsync(node)).Kid);
        var states = await KeyStatesAsync(node);
        Assert.Equal("next", states[next]);
        Assert.Equal("active", states[first.Kid]);

        _nodes.Clock.Advance(TimeSpan.FromDays(2));
        Assert.True(await RunScheduleAsync(node));

        var afterSwitch = await GetTokenAsync(node);
        Assert.Equal(next, afterSwitch.Kid);
        Assert.True((await _nodes.ValidateAsync(afterSwitch, await GetJwksAsync(node))).IsValid);
        Assert.Equal("retired", (await KeyStatesAsync(node))[first.Kid]);
    }

    [PrerequisiteFact]
    public async Task Schedule_RetentionOver_RetiredKeyLeavesTheJwks()
    {
        var node = _nodes.StartNode(("Oidc:Keys:RetainAfterRetirement", "1.00:00:00"));
        var old = await GetTokenAsync(node);
        await BearerClient(node, old).PostAsync($"{KeysPath}/rotate", content: null);

        _nodes.Clock.Advance(TimeSpan.FromHours(23));
        await RunScheduleAsync(node);
        Assert.Contains(old.Kid, Kids(await GetJwksAsync(node)));

        _nodes.Clock.Advance(TimeSpan.FromHours(2));
        Assert.True(await RunScheduleAsync(node));

        var jwks = await GetJwksAsync(node);
        Assert.DoesNotContain(old.Kid, Kids(jwks));
        Assert.Single(jwks.Keys);
        Assert.Equal("expired", (await KeyStatesAsync(node))[old.Kid]);
    }

    [PrerequisiteFact]
    public async Task Rotate_OnAnotherNode_ThisNodeSignsWithTheNewKeyAfterItsCheck()
    {
        var nodeA = _nodes.StartNode();
        var nodeB = _nodes.StartNode();
        var token = await GetTokenAsync(nodeA);
        Assert.Equal(token.Kid, (await GetTokenAsync(nodeB)).Kid);

        // The rotation waits until B publishes the next key; B's check (or the change notice, where nodes hear each other) loads it.
        var rotating = BearerClient(nodeA, token).PostAsync($"{KeysPath}/rotate", content: null);
        await WaitForNextKeyAsync(nodeB, rotating);
        await RunScheduleAsync(nodeB);
        using var response = await rotating;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var rotation = JsonDocument.Parse(body);
        var activated = rotation.RootElement.GetProperty("activated").GetProperty("kid").GetString();
        await RunScheduleAsync(nodeB);

        var fromB = await GetTokenAsync(nodeB);
        Assert.Equal(activated, fromB.Kid);
        Assert.True((await _nodes.ValidateAsync(fromB, await GetJwksAsync(nodeA))).IsValid);
        Assert.Equal(HttpStatusCode.OK, (await BearerClient(nodeB, await GetTokenAsync(nodeA)).GetAsync(KeysPath)).StatusCode);
    }

    [PrerequisiteFact]
    public async Task Rotate_LiveNodeNeverPublishesTheKey_AcceptedAndTheKeyIsPublishedButDoesNotSign()
    {
        var node = _nodes.StartNode(("Oidc:Keys:RotationWait", "00:00:01"));
        var before = await GetTokenAsync(node);
        await using (var scope = node.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
            db.ClusterNodes.Add(new ClusterNode { Id = "lagging", Name = "lagging-node", StartedAt = _nodes.Clock.GetUtcNow(), SeenAt = _nodes.Clock.GetUtcNow(), PublishedKeyIds = before.Kid });
            await db.SaveChangesAsync();
        }

        var response = await BearerClient(node, before).PostAsync($"{KeysPath}/rotate", content: null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using var pending = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var next = pending.RootElement.GetProperty("next").GetProperty("kid").GetString()!;
        Assert.Equal("next", pending.RootElement.GetProperty("next").GetProperty("state").GetString());
        Assert.Equal(["lagging-node"], pending.RootElement.GetProperty("laggingNodes").EnumerateArray().Select(n => n.GetString()));
        Assert.Contains("lagging-node", pending.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(pending.RootElement.GetProperty("signsFrom").GetDateTimeOffset() >= _nodes.Clock.GetUtcNow().AddHours(2).AddMinutes(-1));
        Assert.Contains(next, Kids(await GetJwksAsync(node)));
        Assert.Equal(before.Kid, (await GetTokenAsync(node)).Kid);
        Assert.Single(await KeyEventsAsync(node, "key.rotation-deferred"));
        Assert.Empty(await KeyEventsAsync(node, "key.rotated"));
    }

    [PrerequisiteFact]
    public async Task Rotate_NextKeyEveryLiveNodePublishes_IsActivatedAtOnce()
    {
        var node = _nodes.StartNode(("Oidc:Keys:RotationInterval", "10.00:00:00"), ("Oidc:Keys:PublishAhead", "2.00:00:00"));
        var before = await GetTokenAsync(node);
        _nodes.Clock.Advance(TimeSpan.FromDays(8) + TimeSpan.FromMinutes(1));
        await RunScheduleAsync(node);
        var published = Assert.Single(Kids(await GetJwksAsync(node)), kid => kid != before.Kid);

        var response = await BearerClient(node, await GetTokenAsync(node)).PostAsync($"{KeysPath}/rotate", content: null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var rotation = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(published, rotation.RootElement.GetProperty("activated").GetProperty("kid").GetString());
        Assert.Equal(published, (await GetTokenAsync(node)).Kid);
    }

    [PrerequisiteFact]
    public async Task UnknownKid_KeyActivatedElsewhereWithoutNotice_ThisNodeReloadsAndAcceptsTheToken()
    {
        var nodeA = _nodes.StartNode();
        var nodeB = _nodes.StartNode();
        var old = await GetTokenAsync(nodeB);
        await using (var scope = nodeA.Services.CreateAsyncScope())
        {
            // A key written straight into the table (as by a node whose notice was lost), already signing.
            var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
            var active = await db.SigningKeys.AsNoTracking().SingleAsync(k => k.Use == KeyUses.Signing && k.Id == old.Kid);
            using var rsa = RSA.Create(2048);
            var protector = scope.ServiceProvider.GetRequiredService<IDataProtectionProvider>().CreateProtector("IdentityHub.SigningKeys.v1");
            db.SigningKeys.Add(new SigningKey
            {
                Id = "out-of-band-" + Guid.NewGuid().ToString("N")[..8],
                Use = KeyUses.Signing,
                Generation = active.Generation + 1,
                Algorithm = "RS256",
                ProtectedKey = protector.Protect(rsa.ExportPkcs8PrivateKeyPem()),
                CreatedAt = _nodes.Clock.GetUtcNow(),
                ActivatesAt = _nodes.Clock.GetUtcNow(),
            });
            await db.SaveChangesAsync();
        }

        await nodeA.Services.GetRequiredService<KeyRotationService>().ReloadAsync(CancellationToken.None);
        var fresh = await GetTokenAsync(nodeA);
        Assert.StartsWith("out-of-band-", fresh.Kid, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await BearerClient(nodeB, fresh).GetAsync(KeysPath)).StatusCode);
        Assert.Contains(fresh.Kid, Kids(await GetJwksAsync(nodeB)));
    }

    [PrerequisiteFact]
    public async Task UnknownKid_MadeUpKeyIds_ReloadTheRingAtMostOncePerInterval()
    {
        var node = _nodes.StartNode();
        var keys = node.Services.GetRequiredService<KeyRotationService>();

        var learned = await Task.WhenAll(Enumerable.Range(1, 20).Select(i => keys.TryLearnKeyAsync($"made-up-{i}", CancellationToken.None)));

        Assert.All(learned, Assert.False);
        Assert.Equal(1, keys.UnknownKeyReloads);
    }

    [PrerequisiteFact]
    public async Task Schedule_TwoNodesDueAtOnce_CreateOnlyOneNextKey()
    {
        var nodeA = _nodes.StartNode(("Oidc:Keys:RotationInterval", "10.00:00:00"));
        var nodeB = _nodes.StartNode(("Oidc:Keys:RotationInterval", "10.00:00:00"));
        _nodes.Clock.Advance(TimeSpan.FromDays(9));

        await Task.WhenAll(RunScheduleAsync(nodeA), RunScheduleAsync(nodeB));
        await RunScheduleAsync(nodeA);

        var states = await KeyStatesAsync(nodeA);
        Assert.Equal(1, states.Values.Count(s => s == "next"));
        Assert.Equal(2, (await GetJwksAsync(nodeB)).Keys.Count);
    }

    [PrerequisiteFact]
    public async Task Generation_TakenTwice_IsRefusedByTheDatabase()
    {
        var node = _nodes.StartNode();
        await using var scope = node.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var active = await db.SigningKeys.AsNoTracking().SingleAsync(k => k.Use == KeyUses.Signing);

        db.SigningKeys.Add(new SigningKey
        {
            Id = "duplicate-generation",
            Use = KeyUses.Signing,
            Generation = active.Generation,
            Algorithm = active.Algorithm,
            ProtectedKey = active.ProtectedKey,
        });

        await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
    }

    [PrerequisiteFact]
    public async Task CheckTimer_RotationOnAnotherNode_IsPickedUpWithoutBeingCalled()
    {
        var nodeA = _nodes.StartNode();
        var nodeB = _nodes.StartNode(("Oidc:Keys:CheckInterval", "00:00:00.200"));
        var token = await GetTokenAsync(nodeA);

        using var rotation = JsonDocument.Parse(await (await BearerClient(nodeA, token).PostAsync($"{KeysPath}/rotate", content: null)).Content.ReadAsStringAsync());
        var activated = rotation.RootElement.GetProperty("activated").GetProperty("kid").GetString();

        var deadline = DateTime.UtcNow.AddSeconds(20);
        string? kid;
        do
        {
            await Task.Delay(100);
            kid = (await GetTokenAsync(nodeB)).Kid;
        }
        while (kid != activated && DateTime.UtcNow < deadline);

        Assert.Equal(activated, kid);
    }

    [PrerequisiteFact]
    public async Task Rotate_EncryptionKeys_RetiresTheOldOneAndTokensStillIssue()
    {
        var node = _nodes.StartNode();
        var token = await GetTokenAsync(node);

        var response = await BearerClient(node, token).PostAsync($"{KeysPath}/rotate?use=enc", content: null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var rotation = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("enc", rotation.RootElement.GetProperty("activated").GetProperty("use").GetString());
        Assert.Equal("RSA-OAEP", rotation.RootElement.GetProperty("activated").GetProperty("algorithm").GetString());
        Assert.Equal("retired", rotation.RootElement.GetProperty("retired").GetProperty("state").GetString());
        Assert.Equal(token.Kid, (await GetTokenAsync(node)).Kid);
        Assert.Single((await GetJwksAsync(node)).Keys);
    }

    [PrerequisiteFact]
    public async Task RunOnce_NothingDue_LeavesOpenIddictAlone()
    {
        var node = _nodes.StartNode();
        await GetTokenAsync(node);

        Assert.False(await RunScheduleAsync(node));
    }

    [PrerequisiteFact]
    public async Task RunOnce_OpenIddictBuiltFromStaleKeys_RebuildsItsOptions()
    {
        var node = _nodes.StartNode();
        var kid = (await GetTokenAsync(node)).Kid;
        // What a request building the options during a refresh could leave behind: a key that is not the active one first.
        using var stray = RSA.Create(2048);
        node.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue.SigningCredentials
            .Insert(0, new SigningCredentials(new RsaSecurityKey(stray) { KeyId = "stray" }, SecurityAlgorithms.RsaSha256));
        Assert.Equal("stray", (await GetTokenAsync(node)).Kid);

        Assert.True(await RunScheduleAsync(node));

        Assert.Equal(kid, (await GetTokenAsync(node)).Kid);
    }

    [PrerequisiteFact]
    public async Task Es256_Configured_TokensAreEs256AndValidateByTheJwks()
    {
        var node = _nodes.StartNode(("Oidc:Keys:Algorithm", "ES256"));

        var token = await GetTokenAsync(node);
        var jwks = await GetJwksAsync(node);

        Assert.Equal("ES256", token.Alg);
        var key = Assert.Single(jwks.Keys);
        Assert.Equal("EC", key.Kty);
        Assert.Equal("P-256", key.Crv);
        Assert.True((await _nodes.ValidateAsync(token, jwks)).IsValid);
    }

    [PrerequisiteFact]
    public async Task Rotate_ReadOnlyAdministrator_IsForbiddenButMayList()
    {
        var node = _nodes.StartNode();
        await CreateClientAsync(node, "auditor-client", "auditor-client-secret-0123456789abcdef", AdminRoles.Auditor);
        var token = await GetTokenAsync(node, "auditor-client", "auditor-client-secret-0123456789abcdef");

        var rotate = await BearerClient(node, token).PostAsync($"{KeysPath}/rotate", content: null);
        var list = await BearerClient(node, token).GetAsync(KeysPath);

        Assert.Equal(HttpStatusCode.Forbidden, rotate.StatusCode);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal(token.Kid, (await GetTokenAsync(node)).Kid);
    }

    [PrerequisiteFact]
    public async Task Rotate_WithoutToken_IsUnauthorized()
    {
        var node = _nodes.StartNode();

        var response = await node.CreateClient().PostAsync($"{KeysPath}/rotate", content: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [PrerequisiteFact]
    public async Task Rotate_UnknownUse_IsAProblemNamingTheField()
    {
        var node = _nodes.StartNode();

        var response = await BearerClient(node, await GetTokenAsync(node)).PostAsync($"{KeysPath}/rotate?use=foo", content: null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty("use", out _));
    }

    [PrerequisiteFact]
    public async Task ListKeys_Always_ShowsLifecycleButNoKeyMaterial()
    {
        var node = _nodes.StartNode();

        var body = await BearerClient(node, await GetTokenAsync(node)).GetStringAsync(KeysPath);

        using var keys = JsonDocument.Parse(body);
        Assert.Equal(2, keys.RootElement.GetArrayLength());
        Assert.Equal(["enc", "sig"], keys.RootElement.EnumerateArray().Select(k => k.GetProperty("use").GetString()).Order(StringComparer.Ordinal));
        foreach (var key in keys.RootElement.EnumerateArray())
        {
            Assert.Equal(
                ["activatesAt", "algorithm", "createdAt", "kid", "removedAt", "retiredAt", "state", "use"],
                key.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.Equal("active", key.GetProperty("state").GetString());
        }

        Assert.DoesNotContain("PRIVATE", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("protected", body, StringComparison.OrdinalIgnoreCase);
    }

    [PrerequisiteFact]
    public async Task Rotate_ByAdminEndpoint_IsAuditedWithTheCallerAndBothKeys()
    {
        var node = _nodes.StartNode();
        var before = await GetTokenAsync(node);

        using var rotation = JsonDocument.Parse(await (await BearerClient(node, before).PostAsync($"{KeysPath}/rotate", content: null)).Content.ReadAsStringAsync());

        var activated = rotation.RootElement.GetProperty("activated").GetProperty("kid").GetString()!;
        var entry = Assert.Single(await KeyEventsAsync(node, "key.rotated"));
        Assert.Equal(AdminClientBootstrap.DefaultClientId, entry.ActorId);
        Assert.Equal(activated, entry.TargetId);
        Assert.Contains($"\"retired\":\"{before.Kid}\"", entry.After, StringComparison.Ordinal);
        Assert.Contains("\"scheduled\":false", entry.After, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Rotate_AuditRowCannotBeWritten_NothingRotates()
    {
        var node = _nodes.StartNode();
        var before = await GetTokenAsync(node);
        await using var scope = node.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var head = await db.AuditChainHead.AsNoTracking().SingleAsync();
        var keys = await db.SigningKeys.AsNoTracking().OrderBy(k => k.Id).Select(k => new { k.Id, k.ActivatesAt, k.RetiredAt }).ToListAsync();
        // Without its chain head the audit trail cannot append: the rotation must fail with it, not commit alone.
        await db.AuditChainHead.ExecuteDeleteAsync();
        try
        {
            await Assert.ThrowsAnyAsync<Exception>(() => node.Services.GetRequiredService<KeyRotationService>().RotateNowAsync(KeyUses.Signing, CancellationToken.None));
        }
        finally
        {
            db.AuditChainHead.Add(head);
            await db.SaveChangesAsync();
        }

        Assert.Equal(keys, await db.SigningKeys.AsNoTracking().OrderBy(k => k.Id).Select(k => new { k.Id, k.ActivatesAt, k.RetiredAt }).ToListAsync());
        Assert.Equal(before.Kid, (await GetTokenAsync(node)).Kid);
    }

    [PrerequisiteFact]
    public async Task Schedule_PublishAndRotate_AreAuditedAsIdentityHub()
    {
        var node = _nodes.StartNode(("Oidc:Keys:RotationInterval", "10.00:00:00"), ("Oidc:Keys:PublishAhead", "2.00:00:00"));
        var first = await GetTokenAsync(node);
        _nodes.Clock.Advance(TimeSpan.FromDays(8) + TimeSpan.FromMinutes(1));
        Assert.True(await RunScheduleAsync(node));
        var created = (await KeyEventsAsync(node, "key.created")).Last(e => e.After!.Contains("\"use\":\"sig\"", StringComparison.Ordinal));

        _nodes.Clock.Advance(TimeSpan.FromDays(2));
        Assert.True(await RunScheduleAsync(node));

        var rotated = (await KeyEventsAsync(node, "key.rotated")).Single(e => e.After!.Contains("\"use\":\"sig\"", StringComparison.Ordinal));
        Assert.Equal(Actor.System.Id, created.ActorId);
        Assert.Equal(Actor.System.Id, rotated.ActorId);
        Assert.Equal(created.TargetId, rotated.TargetId);
        Assert.Contains($"\"retired\":\"{first.Kid}\"", rotated.After, StringComparison.Ordinal);
        Assert.Contains("\"scheduled\":true", rotated.After, StringComparison.Ordinal);
        Assert.True(rotated.Sequence > created.Sequence);
    }

    /// <summary>Until the rotation has created the next key, or has already finished (where the nodes heard each other's notice).</summary>
    private static async Task WaitForNextKeyAsync(WebApplicationFactory<Program> node, Task rotating)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && !rotating.IsCompleted)
        {
            await using var scope = node.Services.CreateAsyncScope();
            var keys = await scope.ServiceProvider.GetRequiredService<SigningKeyStore>().ListAsync(CancellationToken.None);
            if (keys.Any(k => k.Use == KeyUses.Signing && k.RemovedAt is null && k.RetiredAt is null && k.ActivatesAt > DateTimeOffset.UtcNow.AddMinutes(1)))
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.True(rotating.IsCompleted, "The rotation never created the next key.");
    }

    private static async Task<List<IdentityHub.Data.Audit.AuditEvent>> KeyEventsAsync(WebApplicationFactory<Program> node, string type)
    {
        await using var scope = node.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>().AuditEvents.AsNoTracking()
            .Where(e => e.Type == type).OrderBy(e => e.Sequence).ToListAsync();
    }

    private static async Task<Dictionary<string, string>> KeyStatesAsync(WebApplicationFactory<Program> node)
    {
        var keys = await BearerClient(node, await GetTokenAsync(node)).GetFromJsonAsync<JsonElement>(KeysPath);
        return keys.EnumerateArray()
            .Where(k => k.GetProperty("use").GetString() == "sig")
            .ToDictionary(k => k.GetProperty("kid").GetString()!, k => k.GetProperty("state").GetString()!);
    }

    private static async Task CreateClientAsync(WebApplicationFactory<Program> node, string clientId, string secret, string role)
    {
        await using var scope = node.Services.CreateAsyncScope();
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientSecret = secret,
            ClientType = ClientTypes.Confidential,
            Permissions = { Permissions.Endpoints.Token, Permissions.GrantTypes.ClientCredentials, Permissions.Prefixes.Scope + IdentityHubScopes.AdminApi },
        };
        descriptor.Properties[ClientProperties.AdminRoles] = JsonSerializer.SerializeToElement(new[] { role });
        await scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>().CreateAsync(descriptor);
    }
}

public sealed class SqliteKeyRotationTests : KeyRotationTests<SqliteFactory>;

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlKeyRotationTests : KeyRotationTests<PostgreSqlFactory>;
