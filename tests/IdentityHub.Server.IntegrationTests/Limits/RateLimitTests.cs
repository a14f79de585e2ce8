using System.Net;
using System.Text.Json;
using IdentityHub.Server.Account;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Server.IntegrationTests.Scim;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Hosting;

namespace IdentityHub.Server.IntegrationTests.Limits;

/// <summary>
/// Small limits, counted over an hour so nothing replenishes during a test; each test comes from addresses and names
/// of its own (X-Forwarded-For through a trusted proxy), so the tests share the server without sharing counters.
/// </summary>
public sealed class SmallRateLimits : IServerSettings
{
    public const int SignInPerIp = 3;
    public const int SignInPerAccount = 2;
    public const int TokenPerClient = 3;
    public const int TokenPerIp = 4;
    public const int AdminApiPerClient = 3;
    public const int ScimPerClient = 3;

    public static void Apply(IWebHostBuilder builder)
    {
        builder.UseSetting("Hosting:ForwardedHeaders:KnownProxies:0", "127.0.0.1");
        Limit(builder, "SignInPerIp", SignInPerIp);
        Limit(builder, "SignInPerAccount", SignInPerAccount);
        Limit(builder, "TokenPerClient", TokenPerClient);
        Limit(builder, "TokenPerIp", TokenPerIp);
        Limit(builder, "AdminApiPerClient", AdminApiPerClient);
        Limit(builder, "ScimPerClient", ScimPerClient);
    }

    private static void Limit(IWebHostBuilder builder, string policy, int permits)
    {
        builder.UseSetting($"RateLimits:{policy}:PermitLimit", permits.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting($"RateLimits:{policy}:Window", "01:00:00");
    }
}

public sealed class RateLimitTests(SqliteFactory<SmallRateLimits> factory) : IClassFixture<SqliteFactory<SmallRateLimits>>
{
    private static readonly TimeSpan Window = TimeSpan.FromHours(1);

    [PrerequisiteFact]
    public async Task SignIn_OneAddressPastItsLimit_GetsTheFormAgainWith429()
    {
        using var client = TestUsers.BrowserFrom(factory, "10.1.0.1");
        for (var attempt = 0; attempt < SmallRateLimits.SignInPerIp; attempt++)
        {
            var allowed = await BrowserSession.SignInAsync(client, $"nobody-{attempt}-{Guid.NewGuid():N}", "Some-Password-123");
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        var refused = await BrowserSession.SignInAsync(client, "nobody-else-" + Guid.NewGuid().ToString("N"), "Some-Password-123");

        await AssertSignInThrottledAsync(refused);
        // Another address is not held back by this one.
        using var other = TestUsers.BrowserFrom(factory, "10.1.0.2");
        Assert.Equal(HttpStatusCode.OK, (await BrowserSession.SignInAsync(other, "nobody-" + Guid.NewGuid().ToString("N"), "Some-Password-123")).StatusCode);
    }

    [PrerequisiteFact]
    public async Task PasskeySignIn_OneAddressPastItsLimit_GetsTheFormAgainWith429()
    {
        using var client = TestUsers.BrowserFrom(factory, "10.7.0.1");
        for (var attempt = 0; attempt < SmallRateLimits.SignInPerIp; attempt++)
        {
            var refused = await PasskeySignInAsync(client);
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
            Assert.Contains("That passkey could not sign you in.", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await AssertSignInThrottledAsync(await PasskeySignInAsync(client));
        // The address is held back for passwords too: one budget per address for every way of signing in.
        await AssertSignInThrottledAsync(await BrowserSession.SignInAsync(client, "nobody-" + Guid.NewGuid().ToString("N"), "Some-Password-123"));
    }

    [PrerequisiteFact]
    public async Task SignIn_OneAccountPastItsLimitFromManyAddresses_Is429EvenWithTheRightPassword()
    {
        const string password = "Rate-Limited-Password-1";
        var name = "limited-" + Guid.NewGuid().ToString("N")[..8];
        await TestUsers.CreateAsync(factory, name, password);
        for (var attempt = 0; attempt < SmallRateLimits.SignInPerAccount; attempt++)
        {
            using var client = TestUsers.BrowserFrom(factory, $"10.2.0.{attempt + 1}");
            Assert.Equal(HttpStatusCode.OK, (await BrowserSession.SignInAsync(client, name, "wrong-password-123")).StatusCode);
        }

        // Upper case makes no new account: the name is normalised.
        using var last = TestUsers.BrowserFrom(factory, "10.2.0.99");
        var refused = await BrowserSession.SignInAsync(last, name.ToUpperInvariant(), password);

        await AssertSignInThrottledAsync(refused);
        Assert.Equal(HttpStatusCode.Redirect, (await last.GetAsync("/admin")).StatusCode);
    }

    [PrerequisiteFact]
    public async Task Token_OneClientPastItsLimit_Is429WithAnOAuthError()
    {
        var clientId = "rate-client-" + Guid.NewGuid().ToString("N")[..8];
        using var http = Through(factory, "10.3.0.1");
        for (var attempt = 0; attempt < SmallRateLimits.TokenPerClient; attempt++)
        {
            using var answered = await AdminApiClient.ClientCredentialsPostAsync(http, clientId, "guessed-secret-" + attempt);
            Assert.Equal(HttpStatusCode.Unauthorized, answered.StatusCode);
        }

        // The same client in the Basic header counts as the same client.
        using var refused = await AdminApiClient.ClientCredentialsBasicAsync(Through(factory, "10.3.0.2"), clientId, "guessed-secret-last");

        await AssertOAuthThrottledAsync(refused);
        using var otherClient = await AdminApiClient.ClientCredentialsPostAsync(http, clientId + "-other", "guessed-secret");
        Assert.Equal(HttpStatusCode.Unauthorized, otherClient.StatusCode);
    }

    [PrerequisiteTheory]
    [InlineData("/connect/token")]
    [InlineData("/connect/introspect")]
    [InlineData("/connect/par")]
    public async Task ProtocolEndpoint_OneAddressPastItsLimit_Is429WithAnOAuthError(string path)
    {
        var address = $"10.4.{Array.IndexOf(["/connect/token", "/connect/introspect", "/connect/par"], path)}.1";
        using var http = Through(factory, address);
        for (var attempt = 0; attempt < SmallRateLimits.TokenPerIp; attempt++)
        {
            using var answered = await AdminApiClient.ClientCredentialsPostAsync(http, $"ip-client-{attempt}-{Guid.NewGuid():N}", "secret");
            Assert.NotEqual(HttpStatusCode.TooManyRequests, answered.StatusCode);
        }

        using var refused = await http.PostAsync(path, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = "ip-client-" + Guid.NewGuid().ToString("N"),
            ["client_secret"] = "secret",
            ["token"] = "anything",
        }));

        await AssertOAuthThrottledAsync(refused);
    }

    [PrerequisiteFact]
    public async Task AdminApi_OneClientPastItsLimit_Is429ProblemDocument()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        for (var call = 0; call < SmallRateLimits.AdminApiPerClient; call++)
        {
            using var answered = await admin.GetAsync(AdminApiClient.Applications);
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        }

        using var refused = await admin.GetAsync(AdminApiClient.Applications);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        AssertRetryAfter(refused);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        Assert.Equal(429, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Equal("Too many requests", problem.RootElement.GetProperty("title").GetString());
    }

    [PrerequisiteFact]
    public async Task Scim_OneSourcePastItsLimit_Is429ScimError()
    {
        var world = await ScimWorld.CreateAsync(factory);
        for (var call = 0; call < SmallRateLimits.ScimPerClient; call++)
        {
            Assert.Equal(HttpStatusCode.OK, (await world.SendAsync(HttpMethod.Get, "/Users")).Status);
        }

        using var client = world.Client();
        using var refused = await client.GetAsync("/scim/v2/Users");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        AssertRetryAfter(refused);
        var reply = await ScimWorld.ReplyOfAsync(refused);
        Assert.Equal("application/scim+json", reply.ContentType);
        Assert.Equal("429", reply.Text("status"));
        // Another source keeps its own budget.
        var other = await ScimWorld.CreateAsync(factory);
        Assert.Equal(HttpStatusCode.OK, (await other.SendAsync(HttpMethod.Get, "/Users")).Status);
    }

    /// <summary>A passkey answer no authenticator made, posted from the sign-in page as its script would.</summary>
    private static async Task<HttpResponseMessage> PasskeySignInAsync(HttpClient client)
    {
        var page = await client.GetStringAsync("/account/login");
        return await client.PostAsync("/account/login?handler=Passkey", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(page),
            ["credential"] = """{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{}}""",
        }));
    }

    private static HttpClient Through(SqliteFactory<SmallRateLimits> factory, string address)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Forwarded-For", address);
        return client;
    }

    private static async Task AssertSignInThrottledAsync(HttpResponseMessage refused)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var seconds = AssertRetryAfter(refused);
        var page = await refused.Content.ReadAsStringAsync();
        Assert.Contains($"Too many attempts, try again in {seconds} seconds.", page, StringComparison.Ordinal);
        Assert.DoesNotContain(LoginModel.InvalidCredentials, page, StringComparison.Ordinal);
        // The form comes again, ready for the next try.
        Assert.NotEmpty(BrowserSession.AntiforgeryToken(page));
    }

    private static async Task AssertOAuthThrottledAsync(HttpResponseMessage refused)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        AssertRetryAfter(refused);
        Assert.Equal("application/json", refused.Content.Headers.ContentType?.MediaType);
        using var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        Assert.Equal("temporarily_unavailable", error.RootElement.GetProperty("error").GetString());
        Assert.Contains("retry after", error.RootElement.GetProperty("error_description").GetString(), StringComparison.Ordinal);
    }

    private static int AssertRetryAfter(HttpResponseMessage refused)
    {
        var seconds = (int)(refused.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0);
        Assert.InRange(seconds, 1, (int)Window.TotalSeconds);
        return seconds;
    }
}
