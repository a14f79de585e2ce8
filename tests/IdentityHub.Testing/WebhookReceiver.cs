using System.Diagnostics;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace IdentityHub.Testing;

/// <summary>
/// tests/interop/webhook-receiver.mjs as a running process: verifies signatures with the `standardwebhooks` npm
/// package and records what arrived (read with <see cref="StateAsync"/>); faults are injected through its control API.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly Process _process;
    private readonly HttpClient _control;

    private WebhookReceiver(Process process, int port)
    {
        _process = process;
        Port = port;
        _control = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public int Port { get; }

    public Uri HooksUrl => new($"http://127.0.0.1:{Port}/hooks");

    /// <summary>Starts the receiver on <paramref name="port"/> (0: any free port).</summary>
    public static async Task<WebhookReceiver> StartAsync(string? secret = null, int port = 0)
    {
        TestEnvironment.Require(Prerequisite.Node, TestEnvironment.MissingReason(Prerequisite.Node) is null ? "ok" : null);
        var info = new ProcessStartInfo("node", ["webhook-receiver.mjs"])
        {
            WorkingDirectory = TestEnvironment.InteropDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (secret is not null)
        {
            info.Environment["WEBHOOK_SECRET"] = secret;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("node did not start.");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
            ?? throw new InvalidOperationException("The webhook receiver exited: " + await process.StandardError.ReadToEndAsync(timeout.Token));
        using var ready = JsonDocument.Parse(line);
        return new WebhookReceiver(process, ready.RootElement.GetProperty("port").GetInt32());
    }

    public Task SetSecretAsync(string secret) => PostAsync("control/secret", new { secret });

    /// <summary>
    /// Faults served to the next messages in order: <c>new { status = 500 }</c>, <c>new { status = 429, retryAfter = 1 }</c>,
    /// <c>new { hangMs = 3000 }</c>, <c>new { hold = true, status = 503 }</c> (held in flight until <see cref="ReleaseAsync"/>, then refused).
    /// </summary>
    public Task SetFaultsAsync(params object[] faults) => PostAsync("control/faults", faults);

    /// <summary>Holds every accepted message this long, so overlapping deliveries of one user would show.</summary>
    public Task SetDelayAsync(int milliseconds) => PostAsync("control/delay", new { ms = milliseconds });

    /// <summary>
    /// Lets the next <paramref name="after"/> messages through, then holds every later one in flight (the state's <c>held</c>)
    /// until <see cref="ReleaseAsync"/> or until its sender gives up: a target that stops answering, for as long as a test needs.
    /// </summary>
    public Task HoldAsync(int after = 0) => PostAsync("control/hold", new { after });

    /// <summary>Answers the held messages (normally, or with their fault's status) and holds no more.</summary>
    public Task ReleaseAsync() => PostAsync("control/release", new { });

    public async Task<JsonElement> StateAsync()
    {
        using var document = JsonDocument.Parse(await _control.GetStringAsync("state"));
        return document.RootElement.Clone();
    }

    /// <summary>
    /// Polls the state until <paramref name="done"/> holds and returns that state; throws a <see cref="TimeoutException"/>
    /// naming what was awaited and the last state seen when <paramref name="timeout"/> passes first.
    /// </summary>
    public async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> done, TimeSpan timeout, [CallerArgumentExpression(nameof(done))] string? what = null)
    {
        ArgumentNullException.ThrowIfNull(done);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var state = await StateAsync();
            if (done(state))
            {
                return state;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Waited {timeout.TotalSeconds:0.#} s for the webhook receiver to show {what}; last seen: {Summary(state)}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The state without its message log (up to 20,000 entries), cut to a readable length.</summary>
    public static string Summary(JsonElement state)
    {
        var node = JsonNode.Parse(state.GetRawText())!.AsObject();
        if (node["messages"] is JsonArray messages)
        {
            node["messages"] = $"{messages.Count} message(s)";
        }

        var text = node.ToJsonString();
        return text.Length <= 4000 ? text : text[..4000] + "…";
    }

    public async ValueTask DisposeAsync()
    {
        _control.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private async Task PostAsync(string path, object body)
    {
        using var response = await _control.PostAsJsonAsync(path, body);
        response.EnsureSuccessStatusCode();
    }
}
