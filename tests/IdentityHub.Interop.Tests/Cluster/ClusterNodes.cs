using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using IdentityHub.Interop.Tests.Provisioning;
using IdentityHub.Testing;

namespace IdentityHub.Interop.Tests.Cluster;

/// <summary>Two server processes, A and B, on one database, with admin API clients for both.</summary>
public sealed class TwoNodes : IAsyncDisposable
{
    private TwoNodes(ProvisioningDatabase database, ServerProcess a, ServerProcess b, HttpClient adminA, HttpClient adminB)
    {
        Database = database;
        A = a;
        B = b;
        AdminA = adminA;
        AdminB = adminB;
    }

    public ProvisioningDatabase Database { get; }

    public ServerProcess A { get; }

    public ServerProcess B { get; }

    public HttpClient AdminA { get; }

    public HttpClient AdminB { get; }

    /// <summary>Starts A, then B (so only A runs the first start-up work), with the same extra settings.</summary>
    public static async Task<TwoNodes> StartAsync(bool postgreSql, IReadOnlyDictionary<string, string>? settings = null)
    {
        var database = new ProvisioningDatabase(postgreSql);
        var a = await database.StartServerAsync("node-a", settings);
        var b = await database.StartServerAsync("node-b", settings);
        return new TwoNodes(database, a, b, await ProvisioningDatabase.AdminApiAsync(a), await ProvisioningDatabase.AdminApiAsync(b));
    }

    public async ValueTask DisposeAsync()
    {
        AdminA.Dispose();
        AdminB.Dispose();
        await A.DisposeAsync();
        await B.DisposeAsync();
        await Database.DisposeAsync();
    }
}

/// <summary>Small OIDC steps against one node, and the clock for "within 2 s".</summary>
public static partial class ClusterSteps
{
    public static readonly TimeSpan Propagation = TimeSpan.FromSeconds(2);

    public const string AdminUserName = "admin";

    public const string AdminPassword = "Provisioning-Admin-Password-1";

    /// <summary>A deadline far beyond the figure, so a loaded machine shows the figure failing rather than a timeout.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Registers a confidential client-credentials client for a new application; returns its id, client_id and secret.</summary>
    public static async Task<(Guid ApplicationId, string ClientId, string Secret)> CreateServiceClientAsync(HttpClient admin, Action<Dictionary<string, object?>>? change = null)
    {
        ArgumentNullException.ThrowIfNull(admin);
        var applicationId = await ProvisioningDatabase.CreateApplicationAsync(admin, "Cluster");
        var registration = ServiceClient();
        change?.Invoke(registration);
        using var response = await admin.PutAsJsonAsync($"api/admin/v1/applications/{applicationId}/oidc", registration);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var json = JsonDocument.Parse(body);
        return (applicationId, json.RootElement.GetProperty("clientId").GetString()!, json.RootElement.GetProperty("clientSecret").GetString()!);
    }

    public static Dictionary<string, object?> ServiceClient() => new()
    {
        ["clientType"] = "confidential",
        ["grantTypes"] = new[] { "client_credentials" },
        ["scopes"] = Array.Empty<string>(),
        ["tokenEndpointAuthMethod"] = "client_secret_basic",
    };

    /// <summary>The token endpoint's status for a client-credentials request with this secret.</summary>
    public static async Task<HttpStatusCode> ClientCredentialsAsync(ServerProcess node, string clientId, string secret)
    {
        ArgumentNullException.ThrowIfNull(node);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{node.Port}/") };
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(secret)}")));
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>Signs in through the form on <paramref name="node"/>; returns the session cookie as a Cookie header value.</summary>
    public static async Task<string> SignInAsync(ServerProcess node, string userName, string password)
    {
        ArgumentNullException.ThrowIfNull(node);
        var cookies = new CookieContainer();
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{node.Port}/"),
        };
        var form = await http.GetStringAsync(new Uri("account/login", UriKind.Relative));
        var token = AntiforgeryField().Match(form);
        Assert.True(token.Success, "The sign-in page has no antiforgery token.");
        using var response = await http.PostAsync(new Uri("account/login", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.UserName"] = userName,
            ["Input.Password"] = password,
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups[1].Value),
        }));
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        var session = cookies.GetCookies(http.BaseAddress!)["identityhub.session"];
        Assert.NotNull(session);
        return $"{session.Name}={session.Value}";
    }

    /// <summary>A client-credentials token for the admin API from <paramref name="node"/>.</summary>
    public static async Task<string> AdminTokenAsync(ServerProcess node, string clientId, string secret)
    {
        ArgumentNullException.ThrowIfNull(node);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{node.Port}/") };
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["scope"] = "identityhub.admin" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(secret)}")));
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>Signs the session of <paramref name="cookie"/> out through the account's sign-out form on <paramref name="node"/>.</summary>
    public static async Task SignOutAsync(ServerProcess node, string cookie)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(cookie);
        var address = new Uri($"http://127.0.0.1:{node.Port}/");
        var cookies = new CookieContainer();
        cookies.SetCookies(address, cookie);
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = address };
        var page = await http.GetStringAsync(new Uri("account/applications", UriKind.Relative));
        var token = AntiforgeryField().Match(page);
        Assert.True(token.Success, "The signed-in page has no antiforgery token.");
        using var response = await http.PostAsync(new Uri("account/logout", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups[1].Value),
        }));
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
    }

    /// <summary>The status of the signed-in portal page with exactly this cookie (200, or 302 to the sign-in page).</summary>
    public static async Task<HttpStatusCode> OpenPortalAsync(ServerProcess node, string cookie)
    {
        ArgumentNullException.ThrowIfNull(node);
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{node.Port}/"),
        };
        using var request = new HttpRequestMessage(HttpMethod.Get, "account/applications");
        request.Headers.Add("Cookie", cookie);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>
    /// Polls <paramref name="holds"/> from <paramref name="since"/> until it is true; returns how long after
    /// <paramref name="since"/> it first held. Fails after <see cref="Patience"/>.
    /// </summary>
    public static async Task<TimeSpan> TimeUntilAsync(Stopwatch since, Func<Task<bool>> holds, string what)
    {
        ArgumentNullException.ThrowIfNull(since);
        ArgumentNullException.ThrowIfNull(holds);
        while (since.Elapsed < Patience)
        {
            if (await holds())
            {
                return since.Elapsed;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"{what} did not happen within {Patience}.");
        return Patience;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
