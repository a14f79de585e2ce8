using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using IdentityHub.Testing;

namespace IdentityHub.Interop.Tests.Telemetry;

/// <summary>
/// /metrics in Prometheus text format, scraped over a real connection (the allowed networks are checked against the
/// client's address): IdentityHub's own counters by grant and outcome, and the platform's HTTP server histograms.
/// </summary>
public sealed partial class MetricsEndpointTests
{
    private const string ClientSecret = "metrics-admin-client-secret-0123456789abcdef";

    [Fact]
    public async Task Scrape_FromAnAllowedNetwork_CountsTokenRequestsByGrantAndOutcome()
    {
        await using var server = await StartAsync(new() { ["Telemetry:Prometheus:Enabled"] = "true" });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.Port}/") };

        Assert.Equal(HttpStatusCode.OK, (await RequestTokenAsync(http, ClientSecret)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await RequestTokenAsync(http, ClientSecret)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await RequestTokenAsync(http, "not-the-secret")).StatusCode);

        // The exporter caches a scrape briefly; poll until both outcomes are in one.
        var text = "";
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var scrape = await http.GetAsync("metrics");
            Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
            Assert.StartsWith("text/plain", scrape.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
            text = await scrape.Content.ReadAsStringAsync();
            if (Sample(text, "identityhub_token_requests_total", "outcome=\"success\"") == 2 && Sample(text, "identityhub_token_requests_total", "outcome=\"invalid_client\"") == 1)
            {
                break;
            }

            await Task.Delay(500);
        }

        Assert.Equal(2, Sample(text, "identityhub_token_requests_total", "grant_type=\"client_credentials\"", "outcome=\"success\""));
        Assert.Equal(1, Sample(text, "identityhub_token_requests_total", "grant_type=\"client_credentials\"", "outcome=\"invalid_client\""));
        Assert.Contains("# TYPE http_server_request_duration_seconds histogram", text, StringComparison.Ordinal);
        Assert.Contains("http_server_request_duration_seconds_bucket{", text, StringComparison.Ordinal);
        Assert.DoesNotContain(ClientSecret, text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("true", "10.0.0.0/8")]
    [InlineData("false", "")]
    public async Task Scrape_NotAllowedOrNotEnabled_IsNotFound(string enabled, string allowedNetwork)
    {
        var settings = new Dictionary<string, string> { ["Telemetry:Prometheus:Enabled"] = enabled };
        if (allowedNetwork.Length > 0)
        {
            settings["Telemetry:Prometheus:AllowedNetworks:0"] = allowedNetwork;
        }

        await using var server = await StartAsync(settings);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.Port}/") };
        await RequestTokenAsync(http, ClientSecret);

        var scrape = await http.GetAsync("metrics");

        Assert.Equal(HttpStatusCode.NotFound, scrape.StatusCode);
        Assert.DoesNotContain("identityhub_token_requests_total", await scrape.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_AllowedNetworkNotCidr_StopsWithTheKey()
    {
        var directory = Directory.CreateTempSubdirectory("identityhub-metrics-").FullName;
        await using var server = ServerProcess.Start(Settings(directory, new()
        {
            ["Telemetry:Prometheus:Enabled"] = "true",
            ["Telemetry:Prometheus:AllowedNetworks:0"] = "not-a-network",
        }), directory);

        Assert.NotEqual(0, await server.WaitForExitAsync(ServerProcess.StartPatience));
        Assert.Contains("Telemetry:Prometheus:AllowedNetworks 'not-a-network'", server.Output, StringComparison.Ordinal);
    }

    /// <summary>The value of the one sample of <paramref name="metric"/> whose labels contain every given label, or null.</summary>
    private static double? Sample(string text, string metric, params string[] labels)
    {
        var values = SampleLine().Matches(text)
            .Where(m => m.Groups["name"].Value == metric && labels.All(label => m.Groups["labels"].Value.Contains(label, StringComparison.Ordinal)))
            .Select(m => double.Parse(m.Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture))
            .ToList();
        return values.Count == 1 ? values[0] : null;
    }

    private static async Task<ServerProcess> StartAsync(Dictionary<string, string> telemetry)
    {
        var directory = Directory.CreateTempSubdirectory("identityhub-metrics-").FullName;
        var server = ServerProcess.Start(Settings(directory, telemetry), directory);
        await server.WaitUntilReadyAsync(ServerProcess.StartPatience);
        return server;
    }

    private static Dictionary<string, string> Settings(string directory, Dictionary<string, string> telemetry)
    {
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:IdentityHub"] = $"Data Source={Path.Combine(directory, "identityhub.db")}",
            ["Bootstrap:AdminPassword"] = "Metrics-Admin-Password-1",
            ["Bootstrap:AdminClientSecret"] = ClientSecret,
            ["Oidc:RequireHttps"] = "false",
        };
        foreach (var (key, value) in telemetry)
        {
            settings[key] = value;
        }

        return settings;
    }

    private static Task<HttpResponseMessage> RequestTokenAsync(HttpClient http, string secret)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["scope"] = "identityhub.admin" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"identityhub-admin:{secret}")));
        return http.SendAsync(request);
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{(?<labels>[^}]*)\} (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex SampleLine();
}
