using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace IdentityHub.Testing;

/// <summary>
/// The real IdentityHub server started as its own process (<c>dotnet IdentityHub.Server.dll</c>) on a free
/// loopback port (or a given one, for a node restarted behind a proxy), with configuration passed as environment variables.
/// Stopped like an orchestrator stops it with <see cref="StopAsync"/> (SIGTERM); killed when disposed.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>
    /// How long a test waits for a server process to start (or to fail starting): a start takes seconds on a quiet machine
    /// and has been seen to take over a minute while other suites load both cores; a deadline, not a speed.
    /// </summary>
    public static readonly TimeSpan StartPatience = TimeSpan.FromMinutes(3);

    /// <summary>Browse here, not to 127.0.0.1: WebAuthn needs a host name and localhost is a secure context.</summary>
    public Uri BaseAddress => new($"http://localhost:{Port}/");

    public string Output => string.Join('\n', _output);

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static string ServerAssembly => Path.Combine(
        TestEnvironment.SolutionRoot, "src", "IdentityHub.Server", "bin", TestEnvironment.Configuration, "net10.0", "IdentityHub.Server.dll");

    /// <summary>
    /// Starts the server on <paramref name="port"/> (a free one when null), with command-line arguments of its own (e.g.
    /// <c>migrate</c>) before <c>--urls</c>; call <see cref="WaitUntilReadyAsync"/> or <see cref="WaitForExitAsync"/> next.
    /// </summary>
    public static ServerProcess Start(
        IReadOnlyDictionary<string, string> settings, string workingDirectory, int? port = null, IReadOnlyList<string>? arguments = null)
    {
        if (!File.Exists(ServerAssembly))
        {
            throw new InvalidOperationException($"{ServerAssembly} is missing: build the solution first.");
        }

        port ??= FreePort();
        var info = new ProcessStartInfo("dotnet", [ServerAssembly, .. arguments ?? [], "--urls", $"http://127.0.0.1:{port}"])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        info.Environment["DOTNET_NOLOGO"] = "1";
        // Stand-in targets listen on 127.0.0.1 (settings below may turn this off again).
        info.Environment["Outbound__AllowPrivateNetworks"] = "true";
        // The bootstrap admin signs in with a password only; a test that wants MFA passes the setting back on.
        info.Environment["Account__Mfa__RequireForAdministrators"] = "false";
        foreach (var (key, value) in TestRateLimits.Settings.Concat(settings))
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var server = new ServerProcess(process, port.Value);
        process.OutputDataReceived += (_, e) => server.Record(e.Data);
        process.ErrorDataReceived += (_, e) => server.Record(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    public async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The server exited with code {_process.ExitCode}:\n{Output}");
            }

            try
            {
                if ((await http.GetAsync("health/ready")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Not answering yet.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The server was not ready after {timeout}:\n{Output}");
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancellation.Token);
        // The asynchronous readers may still be draining the last lines.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Sends SIGTERM, as Kubernetes, systemd and <c>docker stop</c> do; the server then drains and stops by itself.</summary>
    public void SignalTerminate()
    {
        // `dotnet IdentityHub.Server.dll` runs the application in this very process, so the signal reaches the host.
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            UseShellExecute = false,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("kill could not be started.");
        kill.WaitForExit();
        if (kill.ExitCode != 0 && !_process.HasExited)
        {
            throw new InvalidOperationException($"kill -TERM {_process.Id} failed: {kill.StandardError.ReadToEnd()}");
        }
    }

    /// <summary>
    /// A graceful stop: SIGTERM, then waits for the process to exit by itself within <paramref name="timeout"/> (killed and
    /// reported if it does not). Returns the exit code.
    /// </summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            SignalTerminate();
        }

        try
        {
            return await WaitForExitAsync(timeout);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            throw new TimeoutException($"The server did not stop within {timeout} of SIGTERM:\n{Output}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Record(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }
}
