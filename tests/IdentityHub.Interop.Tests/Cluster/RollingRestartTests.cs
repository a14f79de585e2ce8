using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Interop.Tests.Provisioning;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace IdentityHub.Interop.Tests.Cluster;

/// <summary>
/// Issue 19 point 3: two nodes on one PostgreSQL behind Debian nginx (the README's settings) restart one after the other
/// (SIGTERM, exit, start on the same port) under a load of client-credentials tokens and full sign-ins through the proxy,
/// while directory changes are delivered to a webhook receiver: no request fails, no delivery is lost or doubled.
/// </summary>
[Requires(Prerequisite.PostgreSql)]
[Requires(Prerequisite.Node)]
[Requires(Prerequisite.Nginx)]
public sealed partial class RollingRestartTests(RollingRestartTests.Nodes nodes, ITestOutputHelper output) : IClassFixture<RollingRestartTests.Nodes>
{
    private const string RedirectUri = "https://rp.example/callback";
    private const string UserPassword = "Rolling-Restart-Password-1";
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan StopPatience = TimeSpan.FromMinutes(1);

    [PrerequisiteFact]
    public async Task RollingRestart_UnderTokenAndSignInLoad_NoRequestFailsAndNoDeliveryIsLostOrDoubled()
    {
        using var admin = await ProvisioningDatabase.AdminApiAsync(nodes.A);
        var (applicationId, connectorId, secret) = await ProvisioningDatabase.CreateWebhookConnectorAsync(admin, nodes.Receiver.HooksUrl);
        await nodes.Receiver.SetSecretAsync(secret);
        var users = await nodes.Database.CreateUsersAsync(20, "rolling", applicationId);
        var clientId = await RegisterSignInClientAsync(admin);
        var people = await CreateSignInUsersAsync(4);

        var load = new Load();
        using var stop = new CancellationTokenSource();
        var loops = new List<Task>
        {
            load.RunAsync("client_credentials", () => ClientCredentialsAsync(nodes.Proxy.BaseAddress), stop.Token),
            load.RunAsync("client_credentials", () => ClientCredentialsAsync(nodes.Proxy.BaseAddress), stop.Token),
        };
        loops.AddRange(people.Select(person => load.RunAsync("sign-in", () => SignInAsync(nodes.Proxy.BaseAddress, clientId, person, load), stop.Token)));
        var lastRound = string.Empty;
        var changes = Task.Run(async () =>
        {
            for (var round = 1; !stop.IsCancellationRequested; round++)
            {
                lastRound = $"Round {round}";
                await nodes.Database.RenameAllAsync(users, lastRound);
                await Task.Delay(500);
            }
        });

        await WaitForAsync(() => load.Succeeded("sign-in") >= 4 && load.Succeeded("client_credentials") >= 20, "the load to warm up");
        nodes.A = await RestartAsync(nodes.A, "node-a", load);
        nodes.B = await RestartAsync(nodes.B, "node-b", load);
        var before = load.Succeeded("sign-in");
        await WaitForAsync(() => load.Succeeded("sign-in") >= before + 4, "sign-ins after both restarts");
        await stop.CancelAsync();
        await Task.WhenAll(loops);
        await changes;

        output.WriteLine(load.Summary());
        output.WriteLine(RetriedRequests(nodes.Proxy.AccessLog));
        Assert.True(load.Failures.IsEmpty, $"{load.Failures.Count} request(s) failed:\n{string.Join('\n', load.Failures.Take(20))}\n{load.Summary()}\nnginx errors:\n{nodes.Proxy.ErrorLog}");

        await ProvisioningProofTests.WaitForDrainAsync(nodes.Database, connectorId);
        var state = await nodes.Receiver.WaitForAsync(
            s => users.All(u => s.GetProperty("users").TryGetProperty(u, out var got) && got.GetProperty("data").GetProperty("displayName").GetString() == lastRound),
            Patience, $"every user at {lastRound}");
        output.WriteLine($"Deliveries: {state.GetProperty("accepted").GetInt32()} accepted, {state.GetProperty("duplicates").GetInt32()} duplicate(s), {state.GetProperty("received").GetInt32()} received");
        Assert.Equal(0, state.GetProperty("badSignatures").GetInt32());
        Assert.Empty(state.GetProperty("backwards").EnumerateArray());
        var doubled = state.GetProperty("messages").EnumerateArray()
            .GroupBy(m => (m.GetProperty("user").GetString(), m.GetProperty("version").GetInt64()))
            .Where(g => g.Count() > 1).Select(g => (User: g.Key.Item1!, Version: g.Key.Item2, Count: g.Count())).ToList();
        Assert.True(doubled.Count == 0, "Delivered twice: " + string.Join(", ", doubled.Select(d => $"{d.User} v{d.Version} × {d.Count}")) + "\n" + await AttemptsAsync(connectorId, doubled.Select(d => d.User)));
        Assert.Equal(0, state.GetProperty("duplicates").GetInt32());
        var versions = await nodes.Database.RunAsync(s => s.GetRequiredService<IdentityHubDbContext>().ConnectorUserStates.AsNoTracking()
            .Where(c => c.ConnectorId == connectorId).ToDictionaryAsync(c => c.UserId, c => c.Version));
        foreach (var user in users)
        {
            Assert.Equal(versions[user], state.GetProperty("users").GetProperty(user).GetProperty("version").GetInt64());
        }
    }

    /// <summary>The delivery history of these users, for a failure's message: which attempts sent a version again, and why.</summary>
    private Task<string> AttemptsAsync(Guid connectorId, IEnumerable<string> userIds)
    {
        var wanted = userIds.ToList();
        return nodes.Database.RunAsync(async services =>
        {
            var attempts = await services.GetRequiredService<IdentityHubDbContext>().DeliveryAttempts.AsNoTracking()
                .Where(a => a.ConnectorId == connectorId && wanted.Contains(a.UserId)).ToListAsync();
            return string.Join('\n', attempts.OrderBy(a => a.Id).Select(a =>
                $"{a.At:HH:mm:ss.fff} {a.UserId} v{a.Version} {(a.Succeeded ? "delivered" : "failed")} in {a.DurationMilliseconds} ms {a.StatusCode} {a.Error}"));
        });
    }

    [PrerequisiteFact]
    public async Task Sigterm_DuringDrainDelay_ReadinessSays503WhileOtherRequestsAreServedWithConnectionClose()
    {
        await using var node = await nodes.Database.StartServerAsync("node-drained");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{node.Port}/"), Timeout = TimeSpan.FromSeconds(30) };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health/ready")).StatusCode);

        var signalled = Stopwatch.StartNew();
        node.SignalTerminate();
        using var ready = await WaitForStatusAsync(http, "health/ready", HttpStatusCode.ServiceUnavailable);
        var turned = signalled.Elapsed;
        var body = await ready.Content.ReadAsStringAsync();
        using var discovery = await http.GetAsync(".well-known/openid-configuration");
        var servedAt = signalled.Elapsed;
        using var token = await ClientCredentialsResponseAsync(http);
        var exitCode = await node.WaitForExitAsync(StopPatience);
        var exited = signalled.Elapsed;

        output.WriteLine($"readiness 503 after {turned.TotalMilliseconds:0} ms; other requests served at {servedAt.TotalMilliseconds:0} ms; exited after {exited.TotalSeconds:0.0} s");
        Assert.Equal("Unhealthy: draining", body);
        Assert.Equal(HttpStatusCode.OK, discovery.StatusCode);
        Assert.Contains("close", discovery.Headers.Connection);
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        // The drain delay (5 s by default) was waited out, not cut short: the node served for it before stopping.
        Assert.True(exited >= TimeSpan.FromSeconds(5), $"The node exited {exited.TotalSeconds:0.0} s after SIGTERM, before its drain delay ended.");
        Assert.Equal(0, exitCode);
        Assert.Contains("Draining:", node.Output, StringComparison.Ordinal);
        Assert.Contains("Drained after", node.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// SIGTERM; as soon as the node's readiness says 503 the proxy takes it out of the rotation (what an ingress controller
    /// or a deployment script does: nginx does not probe readiness), well within the drain delay; the node exits, comes back
    /// on its port, and is put back once ready.
    /// </summary>
    private async Task<ServerProcess> RestartAsync(ServerProcess node, string name, Load load)
    {
        var port = node.Port;
        var served = load.Total;
        node.SignalTerminate();
        using (var probe = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) })
        using (var ready = await WaitForStatusAsync(probe, "health/ready", HttpStatusCode.ServiceUnavailable))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }

        await nodes.Proxy.SetDownAsync(port, down: true);
        var exitCode = await node.WaitForExitAsync(StopPatience);
        var log = node.Output;
        await node.DisposeAsync();
        Assert.True(exitCode == 0, $"{name} exited with {exitCode} after SIGTERM:\n{log}");
        // While it is down the other node carries the load alone.
        await WaitForAsync(() => load.Total >= served + 20, $"the load to go on while {name} is down");
        var restarted = await nodes.Database.StartServerAsync(name, nodes.Settings, port);
        await nodes.Proxy.SetDownAsync(port, down: false);
        output.WriteLine($"{name} restarted on port {port}");
        return restarted;
    }

    private static async Task<string> RegisterSignInClientAsync(HttpClient admin)
    {
        var applicationId = await ProvisioningDatabase.CreateApplicationAsync(admin, "Rolling sign-in");
        var registration = new JsonObject
        {
            ["clientType"] = "public",
            ["tokenEndpointAuthMethod"] = "none",
            ["redirectUris"] = new JsonArray(RedirectUri),
            ["grantTypes"] = new JsonArray("authorization_code"),
            ["scopes"] = new JsonArray("openid", "profile"),
            ["firstParty"] = true,
            ["requirePkce"] = true,
        };
        using var registered = await admin.PutAsync(
            new Uri($"api/admin/v1/applications/{applicationId}/oidc", UriKind.Relative),
            new StringContent(registration.ToJsonString(), Encoding.UTF8, "application/json"));
        var body = await registered.Content.ReadAsStringAsync();
        Assert.True(registered.IsSuccessStatusCode, body);
        return JsonNode.Parse(body)!["clientId"]!.GetValue<string>();
    }

    private Task<List<string>> CreateSignInUsersAsync(int count) => nodes.Database.RunAsync(async services =>
    {
        var userManager = services.GetRequiredService<UserManager<UserAccount>>();
        var names = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var name = $"signin{i}-{Guid.NewGuid():N}"[..16];
            var user = new UserAccount
            {
                UserName = name, DisplayName = "Signing In " + i, Email = name + "@example.test", EmailConfirmed = true, EmployeeNumber = "S" + name, Status = UserStatus.Active,
            };
            var created = await userManager.CreateAsync(user, UserPassword);
            Assert.True(created.Succeeded, string.Join(" ", created.Errors.Select(e => e.Description)));
            names.Add(name);
        }

        return names;
    });

    private static async Task<string?> ClientCredentialsAsync(Uri proxy)
    {
        using var http = new HttpClient { BaseAddress = proxy, Timeout = TimeSpan.FromSeconds(60) };
        using var response = await ClientCredentialsResponseAsync(http);
        return response.StatusCode == HttpStatusCode.OK ? null : $"token: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
    }

    private static async Task<HttpResponseMessage> ClientCredentialsResponseAsync(HttpClient http)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["scope"] = "identityhub.admin" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"identityhub-admin:{ProvisioningDatabase.AdminClientSecret}")));
        return await http.SendAsync(request);
    }

    /// <summary>
    /// One virtual user's sign-in with a cookie jar of its own: authorize → login page → form POST with the antiforgery
    /// token → authorize again → code → token (PKCE). Null when every hop answered as expected, else what went wrong.
    /// Its connections are kept alive between hops, as a browser's are, and resent like a browser's (<see cref="ResendOnClosedConnection"/>).
    /// </summary>
    private static async Task<string?> SignInAsync(Uri proxy, string clientId, string userName, Load load)
    {
        using var handler = new ResendOnClosedConnection(load, new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() });
        using var browser = new HttpClient(handler) { BaseAddress = proxy, Timeout = TimeSpan.FromSeconds(60) };
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var authorize = QueryHelpers.AddQueryString("connect/authorize", new Dictionary<string, string?>
        {
            ["client_id"] = clientId, ["response_type"] = "code", ["redirect_uri"] = RedirectUri, ["scope"] = "openid profile",
            ["state"] = Guid.NewGuid().ToString("N"), ["nonce"] = Guid.NewGuid().ToString("N"),
            ["code_challenge"] = challenge, ["code_challenge_method"] = "S256",
        });

        using var toLogin = await browser.GetAsync(authorize);
        if (toLogin.StatusCode != HttpStatusCode.Redirect || toLogin.Headers.Location?.OriginalString.Contains("/account/login", StringComparison.Ordinal) != true)
        {
            return $"authorize: {(int)toLogin.StatusCode} {toLogin.Headers.Location}";
        }

        var loginUrl = Relative(toLogin.Headers.Location);
        using var page = await browser.GetAsync(loginUrl);
        var html = await page.Content.ReadAsStringAsync();
        if (page.StatusCode != HttpStatusCode.OK || AntiforgeryField().Match(html) is not { Success: true } antiforgery)
        {
            return $"login page: {(int)page.StatusCode}";
        }

        var returnUrl = QueryHelpers.ParseQuery(new Uri(proxy, loginUrl).Query)["ReturnUrl"].ToString();
        using var posted = await browser.PostAsync(loginUrl, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.UserName"] = userName, ["Input.Password"] = UserPassword, ["ReturnUrl"] = returnUrl,
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(antiforgery.Groups[1].Value),
        }));
        if (posted.StatusCode != HttpStatusCode.Redirect || posted.Headers.Location is null)
        {
            return $"login POST: {(int)posted.StatusCode}";
        }

        using var toClient = await browser.GetAsync(Relative(posted.Headers.Location));
        var callback = toClient.Headers.Location;
        if (toClient.StatusCode != HttpStatusCode.Redirect || callback is null || !callback.OriginalString.StartsWith(RedirectUri, StringComparison.Ordinal))
        {
            return $"authorize after login: {(int)toClient.StatusCode} {callback}";
        }

        var code = QueryHelpers.ParseQuery(callback.Query)["code"].ToString();
        using var token = await browser.PostAsync("connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = RedirectUri, ["client_id"] = clientId, ["code_verifier"] = verifier,
        }));
        return token.StatusCode == HttpStatusCode.OK ? null : $"code redemption: {(int)token.StatusCode} {await token.Content.ReadAsStringAsync()}";
    }

    private static string Relative(Uri location) => location.IsAbsoluteUri ? location.PathAndQuery : location.OriginalString;

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The requests nginx sent to a second node because the first refused the connection (access log "answered=502, 200").</summary>
    private static string RetriedRequests(string accessLog)
    {
        var retried = accessLog.Split('\n').Where(l => l.Contains("answered=", StringComparison.Ordinal) && l.Contains(", ", StringComparison.Ordinal)).ToList();
        return $"nginx: {accessLog.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length} request(s), {retried.Count} passed to the next node after a refused connect"
            + (retried.Count > 0 ? ":\n" + string.Join('\n', retried.Take(10)) : string.Empty);
    }

    private static async Task<HttpResponseMessage> WaitForStatusAsync(HttpClient http, string path, HttpStatusCode status)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var response = await http.GetAsync(path);
            if (response.StatusCode == status || clock.Elapsed > Patience)
            {
                return response;
            }

            response.Dispose();
            await Task.Delay(20);
        }
    }

    private static async Task WaitForAsync(Func<bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            Assert.True(clock.Elapsed < Patience, $"Waited {Patience} for {what}.");
            await Task.Delay(100);
        }
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    /// <summary>
    /// What a browser does when the proxy closes a kept-alive connection just as its next request goes out on it: nginx's
    /// graceful reload (the test's SetDownAsync) closes the idle connections of its old workers, and a request already on
    /// its way on one gets no answer at all (CI saw it once: "An error occurred while sending the request" at the reload
    /// that took node B out). Such a request never reached a node, so it is sent once more on a new connection (RFC 9112
    /// §9.3.1; browsers resend on a reused connection that closed without any response). Anything that answered, 502 and
    /// 503 included, is the answer; a second failure is a failure; every resend is counted in the summary.
    /// </summary>
    private sealed class ResendOnClosedConnection(Load load, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            try
            {
                return await base.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException closed) when (closed.StatusCode is null && closed.InnerException is IOException or System.Net.Sockets.SocketException)
            {
                load.Resent(closed);
                return await base.SendAsync(request, cancellationToken);
            }
        }
    }

    /// <summary>Counts of what the load's loops did, per kind; every unexpected answer or exception is a failure.</summary>
    private sealed class Load
    {
        private readonly ConcurrentDictionary<string, int> _succeeded = new();
        private readonly ConcurrentQueue<string> _resent = new();
        private int _total;

        public void Resent(Exception closed) => _resent.Enqueue($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {closed.InnerException?.Message}");

        public ConcurrentQueue<string> Failures { get; } = new();

        public int Total => Volatile.Read(ref _total);

        public int Succeeded(string kind) => _succeeded.TryGetValue(kind, out var count) ? count : 0;

        public Task RunAsync(string kind, Func<Task<string?>> once, CancellationToken stop) => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                string? failure;
                try
                {
                    failure = await once();
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
                {
                    failure = $"{ex.GetType().Name}: {ex.Message}";
                }

                Interlocked.Increment(ref _total);
                if (failure is null)
                {
                    _succeeded.AddOrUpdate(kind, 1, (_, n) => n + 1);
                }
                else
                {
                    Failures.Enqueue($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {kind}: {failure}");
                }
            }
        }, CancellationToken.None);

        public string Summary() =>
            $"Load: {string.Join(", ", _succeeded.OrderBy(k => k.Key).Select(k => $"{k.Value} {k.Key} flow(s) succeeded"))}; {Failures.Count} failed; "
            + $"{_resent.Count} request(s) resent after the proxy closed their kept-alive connection{(_resent.IsEmpty ? "" : ": " + string.Join("; ", _resent))}.";
    }

    /// <summary>Two nodes on one PostgreSQL, the webhook receiver, and nginx in front; node A and B are replaced when restarted.</summary>
    public sealed class Nodes : IAsyncLifetime
    {
        private readonly int _proxyPort = ServerProcess.FreePort();
        private ServerProcess? _a;
        private ServerProcess? _b;
        private NginxProxy? _proxy;
        private WebhookReceiver? _receiver;

        public ProvisioningDatabase Database { get; } = new(postgreSql: true);

        /// <summary>
        /// Both nodes name the proxy's address as their issuer: tokens from either are the same issuer's. Attempts and
        /// claims are given the held-target settings: on a loaded machine a receiver answering after 2 s would be retried
        /// with the same version, a duplicate of the load and not of the restarts this test is about.
        /// </summary>
        public IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>(ProvisioningDatabase.HeldTargetSettings)
        {
            ["Oidc:Issuer"] = $"http://127.0.0.1:{_proxyPort}/",
            ["Hosting:DrainDelay"] = "00:00:05",
            ["Hosting:ShutdownTimeout"] = "00:00:30",
        };

        public ServerProcess A { get => _a!; set => _a = value; }

        public ServerProcess B { get => _b!; set => _b = value; }

        public NginxProxy Proxy => _proxy!;

        public WebhookReceiver Receiver => _receiver!;

        public async Task InitializeAsync()
        {
            _receiver = await WebhookReceiver.StartAsync();
            // One at a time: the first applies the migrations.
            _a = await Database.StartServerAsync("node-a", Settings);
            _b = await Database.StartServerAsync("node-b", Settings);
            _proxy = await NginxProxy.StartAsync([_a.Port, _b.Port], _proxyPort);
        }

        public async Task DisposeAsync()
        {
            foreach (var disposable in new IAsyncDisposable?[] { _proxy, _a, _b, _receiver, Database })
            {
                if (disposable is not null)
                {
                    await disposable.DisposeAsync();
                }
            }
        }
    }
}
