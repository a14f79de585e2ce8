using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Testing;

namespace IdentityHub.Server.IntegrationTests.Provisioning;

/// <summary>
/// The scimmy SCIM 2.0 service provider of tests/interop/scim-server.mjs as a real Node process with its
/// own in-memory store, shared by the tests of a class. Its /_store side door reads and tampers with the store.
/// </summary>
public sealed class ScimTestServer : IAsyncLifetime, IAsyncDisposable
{
    public const string Token = "scim-test-bearer-token-0123456789";

    private Process? _process;
    private HttpClient? _store;

    public Uri BaseUrl { get; private set; } = new("http://127.0.0.1:9/");

    public Uri ScimBaseUrl => new(BaseUrl, "scim/v2");

    public async Task InitializeAsync()
    {
        // Outside ./test.sh a missing node skips the tests; nothing to start.
        if (TestEnvironment.MissingReason(Prerequisite.Node) is not null && !TestEnvironment.Strict)
        {
            return;
        }

        var info = new ProcessStartInfo("node", ["scim-server.mjs"])
        {
            WorkingDirectory = TestEnvironment.InteropDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["SCIM_TOKEN"] = Token;
        _process = Process.Start(info) ?? throw new InvalidOperationException("node did not start.");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var first = await _process.StandardOutput.ReadLineAsync(timeout.Token)
            ?? throw new InvalidOperationException($"scim-server.mjs exited: {await _process.StandardError.ReadToEndAsync(timeout.Token)}");
        using var ready = JsonDocument.Parse(first);
        BaseUrl = new Uri($"http://127.0.0.1:{ready.RootElement.GetProperty("port").GetInt32()}/");
        _store = new HttpClient { BaseAddress = BaseUrl };
    }

    /// <summary>The connector settings JSON pointing at this server.</summary>
    public string Settings(bool groupsMode = false, string extra = "") =>
        $$"""{"baseUrl":"{{ScimBaseUrl}}","authentication":"bearer","groupsMode":{{(groupsMode ? "true" : "false")}}{{extra}}}""";

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

    /// <summary>Adds a user IdentityHub never sent (an extra); returns its SCIM id.</summary>
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

    /// <summary>Makes the next SCIM requests fail or stall, in order: objects like {"status":500}, {"status":429,"retryAfter":1}, {"delayMs":3000}.</summary>
    public async Task InjectFaultsAsync(params JsonObject[] faults)
    {
        using var response = await Store.PostAsJsonAsync(new Uri("_faults", UriKind.Relative), new JsonArray([.. faults]));
        response.EnsureSuccessStatusCode();
    }

    public async Task RemoveBehindBackAsync(string scimUserId)
    {
        using var response = await Store.DeleteAsync(new Uri($"_store/users/{scimUserId}", UriKind.Relative));
        response.EnsureSuccessStatusCode();
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    public Task DisposeAsync()
    {
        _store?.Dispose();
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
        }

        _process?.Dispose();
        return Task.CompletedTask;
    }

    private HttpClient Store => _store ?? throw new InvalidOperationException("The SCIM server is not started.");
}
