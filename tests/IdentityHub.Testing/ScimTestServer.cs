using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace IdentityHub.Testing;

/// <summary>
/// The scimmy SCIM 2.0 service provider of tests/interop/scim-server.mjs as a real Node process with its
/// own store, shared by the tests of a class (or started by one test with <see cref="StartAsync"/>). Its
/// /_store side door reads and tampers with the store; it can be stopped and started again on the same port
/// with the same store (<see cref="Persistent"/>), and can serve its own OAuth token endpoint (<see cref="OAuth"/>).
/// </summary>
public sealed class ScimTestServer : IAsyncLifetime, IAsyncDisposable
{
    public const string Token = "scim-test-bearer-token-0123456789";
    public const string OAuthClientId = "identityhub-provisioning";
    public const string OAuthClientSecret = "scim-oauth-client-secret-0123456789";

    private Process? _process;
    private HttpClient? _store;
    private string? _storeFile;
    private int _port;

    /// <summary>Serve POST /token (client credentials, <see cref="OAuthClientId"/> / <see cref="OAuthClientSecret"/>) and accept its tokens.</summary>
    public bool OAuth { get; init; }

    /// <summary>Lifetime of the tokens /token issues.</summary>
    public int OAuthTokenSeconds { get; init; } = 3600;

    /// <summary>Keep the store in a file, so <see cref="StartAgainAsync"/> comes back with the same users.</summary>
    public bool Persistent { get; init; }

    public Uri BaseUrl { get; private set; } = new("http://127.0.0.1:9/");

    public Uri ScimBaseUrl => new(BaseUrl, "scim/v2");

    public Uri TokenEndpoint => new(BaseUrl, "token");

    /// <summary>Starts a server of its own (xunit starts class fixtures itself).</summary>
    public static async Task<ScimTestServer> StartAsync(bool oauth = false, bool persistent = false, int oauthTokenSeconds = 3600)
    {
        var server = new ScimTestServer { OAuth = oauth, Persistent = persistent, OAuthTokenSeconds = oauthTokenSeconds };
        await server.InitializeAsync();
        return server;
    }

    public async Task InitializeAsync()
    {
        // Outside ./test.sh a missing node skips the tests; nothing to start.
        if (TestEnvironment.MissingReason(Prerequisite.Node) is not null && !TestEnvironment.Strict)
        {
            return;
        }

        _storeFile = Persistent ? Path.Combine(Path.GetTempPath(), $"identityhub-scim-{Guid.NewGuid():N}.json") : null;
        await LaunchAsync();
    }

    /// <summary>Stops the process: connections are refused until <see cref="StartAgainAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>Starts it again on the same port (with the same store when <see cref="Persistent"/>).</summary>
    public async Task StartAgainAsync()
    {
        await StopAsync();
        _process?.Dispose();
        await LaunchAsync();
    }

    /// <summary>The connector settings JSON pointing at this server (client credentials against its /token when <see cref="OAuth"/>).</summary>
    public string Settings(bool groupsMode = false, string extra = "")
    {
        var authentication = OAuth
            ? $"\"authentication\":\"clientCredentials\",\"tokenEndpoint\":\"{TokenEndpoint}\",\"clientId\":\"{OAuthClientId}\""
            : "\"authentication\":\"bearer\"";
        return $$"""{"baseUrl":"{{ScimBaseUrl}}",{{authentication}},"groupsMode":{{(groupsMode ? "true" : "false")}}{{extra}}}""";
    }

    /// <summary>The connector's secret: the bearer token, or the OAuth client secret.</summary>
    public string Secret => OAuth ? OAuthClientSecret : Token;

    public async Task<JsonElement> StoreAsync()
    {
        using var document = JsonDocument.Parse(await Store.GetStringAsync(new Uri("_store", UriKind.Relative)));
        return document.RootElement.Clone();
    }

    public async Task<JsonElement?> UserByExternalIdAsync(string externalId) =>
        (await StoreAsync()).GetProperty("users").EnumerateArray()
            .Where(u => u.TryGetProperty("externalId", out var e) && e.GetString() == externalId).Select(u => (JsonElement?)u).FirstOrDefault();

    public async Task<IReadOnlyList<string>> GroupsOfAsync(string scimUserId) =>
        [.. (await StoreAsync()).GetProperty("groups").EnumerateArray()
            .Where(g => g.GetProperty("members").EnumerateArray().Any(m => m.GetProperty("value").GetString() == scimUserId))
            .Select(g => g.GetProperty("displayName").GetString()!).Order(StringComparer.Ordinal)];

    /// <summary>Changes a stored user behind IdentityHub's back (drift).</summary>
    public async Task TamperAsync(string scimUserId, JsonObject changes)
    {
        using var response = await Store.PatchAsJsonAsync(new Uri($"_store/users/{scimUserId}", UriKind.Relative), changes);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Adds a user IdentityHub never sent (an extra, or a local account of the target); returns its SCIM id.</summary>
    public async Task<string> AddForeignUserAsync(string userName)
    {
        using var response = await Store.PostAsJsonAsync(new Uri("_store/users", UriKind.Relative), new JsonObject
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:User"),
            ["userName"] = userName,
            ["active"] = true,
        });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    /// <summary>
    /// Makes the next SCIM requests fail or stall, in order: objects like {"status":500}, {"status":429,"retryAfter":1},
    /// {"delayMs":3000}; {"method":"POST",...} applies to the next request with that method; {"method":"POST","race":true}
    /// stores the posted user as a concurrent writer would, then answers 409.
    /// </summary>
    public async Task InjectFaultsAsync(params JsonObject[] faults)
    {
        using var response = await Store.PostAsJsonAsync(new Uri("_faults", UriKind.Relative), new JsonArray([.. faults]));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Slows every SCIM request by <paramref name="milliseconds"/> (0 = full speed).</summary>
    public async Task SetDelayAsync(int milliseconds)
    {
        using var response = await Store.PostAsJsonAsync(new Uri("_delay", UriKind.Relative), new JsonObject { ["delayMs"] = milliseconds });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>
    /// Lets the next <paramref name="after"/> SCIM requests through, then holds every later one in flight (the store's
    /// <c>traffic.held</c>) until <see cref="ReleaseAsync"/> or until its client gives up: a target that stops answering.
    /// </summary>
    public async Task HoldAsync(int after = 0)
    {
        using var response = await Store.PostAsJsonAsync(new Uri("_hold", UriKind.Relative), new JsonObject { ["after"] = after });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Carries out the held requests and holds no more.</summary>
    public async Task ReleaseAsync()
    {
        using var response = await Store.PostAsync(new Uri("_release", UriKind.Relative), null);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Every request the server received, in order, with the status it answered (null while unanswered).</summary>
    public async Task<IReadOnlyList<(string Method, string Path, int? Status)>> RequestsAsync() =>
        [.. (await StoreAsync()).GetProperty("requests").EnumerateArray().Select(r => (
            r.GetProperty("method").GetString()!,
            r.GetProperty("path").GetString()!,
            r.GetProperty("status").ValueKind == JsonValueKind.Number ? (int?)r.GetProperty("status").GetInt32() : null))];

    /// <summary>Revokes every token /token issued so far (a rotation at the token server).</summary>
    public async Task RevokeOAuthTokensAsync()
    {
        using var response = await Store.PostAsync(new Uri("_oauth/revoke", UriKind.Relative), null);
        response.EnsureSuccessStatusCode();
    }

    public async Task RemoveBehindBackAsync(string scimUserId)
    {
        using var response = await Store.DeleteAsync(new Uri($"_store/users/{scimUserId}", UriKind.Relative));
        response.EnsureSuccessStatusCode();
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    public async Task DisposeAsync()
    {
        _store?.Dispose();
        await StopAsync();
        _process?.Dispose();
        if (_storeFile is not null)
        {
            File.Delete(_storeFile);
        }
    }

    private async Task LaunchAsync()
    {
        var info = new ProcessStartInfo("node", ["scim-server.mjs"])
        {
            WorkingDirectory = TestEnvironment.InteropDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["SCIM_TOKEN"] = Token;
        info.Environment["PORT"] = _port.ToString(CultureInfo.InvariantCulture);
        if (_storeFile is not null)
        {
            info.Environment["SCIM_STORE_FILE"] = _storeFile;
        }

        if (OAuth)
        {
            info.Environment["OAUTH_CLIENT_ID"] = OAuthClientId;
            info.Environment["OAUTH_CLIENT_SECRET"] = OAuthClientSecret;
            info.Environment["OAUTH_TOKEN_SECONDS"] = OAuthTokenSeconds.ToString(CultureInfo.InvariantCulture);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("node did not start.");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var first = await _process.StandardOutput.ReadLineAsync(timeout.Token)
            ?? throw new InvalidOperationException($"scim-server.mjs exited: {await _process.StandardError.ReadToEndAsync(timeout.Token)}");
        using var ready = JsonDocument.Parse(first);
        _port = ready.RootElement.GetProperty("port").GetInt32();
        BaseUrl = new Uri($"http://127.0.0.1:{_port}/");
        _store ??= new HttpClient { BaseAddress = BaseUrl };
    }

    private HttpClient Store => _store ?? throw new InvalidOperationException("The SCIM server is not started.");
}
