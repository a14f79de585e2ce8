using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace IdentityHub.Testing;

/// <summary>
/// Debian's nginx as the load balancer in front of several server processes, started by the test
/// (<c>nginx -p &lt;dir&gt; -c &lt;conf&gt; -g 'daemon off;'</c>, its pid, logs and temp files in a directory of its own),
/// round-robin over the nodes with the settings the README recommends (<see cref="Configuration"/>). Stopped when disposed.
/// </summary>
public sealed class NginxProxy : IAsyncDisposable
{
    /// <summary>
    /// Idle upstream connections are closed by nginx after this long: shorter than the nodes' Hosting:DrainDelay (5 s),
    /// so when a node stops listening no connection the proxy might still send on is left open to it.
    /// </summary>
    public static readonly TimeSpan UpstreamKeepAliveTimeout = TimeSpan.FromSeconds(2);

    private readonly Process _process;
    private readonly string _directory;
    private readonly IReadOnlyCollection<int> _nodePorts;
    private readonly HashSet<int> _down = [];
    private readonly ConcurrentQueue<string> _output = new();

    private NginxProxy(Process process, string directory, int port, IReadOnlyCollection<int> nodePorts)
    {
        _process = process;
        _directory = directory;
        _nodePorts = nodePorts;
        Port = port;
    }

    public int Port { get; }

    /// <summary>An IP, not localhost: nginx listens on 127.0.0.1 only, and a client trying ::1 first would pay for it on every connection.</summary>
    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    /// <summary>One line per request: status, the node(s) tried and their answers (a retry shows as "502, 200").</summary>
    public string AccessLog => ReadShared(Path.Combine(_directory, "access.log"));

    public string ErrorLog => ReadShared(Path.Combine(_directory, "error.log"));

    /// <summary>The configuration for the given nodes: what an operator would put in front of IdentityHub.</summary>
    public static string Configuration(int listenPort, IEnumerable<int> nodePorts, string directory, IReadOnlySet<int>? down = null)
    {
        ArgumentNullException.ThrowIfNull(nodePorts);
        var servers = string.Concat(nodePorts.Select(p =>
            $"        server 127.0.0.1:{p.ToString(CultureInfo.InvariantCulture)} max_fails=1 fail_timeout=5s{(down?.Contains(p) == true ? " down" : string.Empty)};\n"));
        var keepAlive = ((int)UpstreamKeepAliveTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        // The master runs as whoever starts the test; as root its workers would be "nobody", who cannot write the temp dirs.
        var user = Environment.UserName == "root" ? "user root;\n" : string.Empty;
        return $$"""
            {{user}}worker_processes 1;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log notice;
            events { worker_connections 1024; }
            http {
                log_format upstreams '$request_method $uri $status upstream=$upstream_addr answered=$upstream_status time=$request_time';
                access_log {{directory}}/access.log upstreams;
                client_body_temp_path {{directory}}/client_body;
                proxy_temp_path {{directory}}/proxy;
                fastcgi_temp_path {{directory}}/fastcgi;
                uwsgi_temp_path {{directory}}/uwsgi;
                scgi_temp_path {{directory}}/scgi;
                upstream identityhub {
            {{servers}}        # Reused connections to the nodes, closed when idle for less than the nodes' drain delay.
                    keepalive 32;
                    keepalive_timeout {{keepAlive}}s;
                }
                server {
                    listen 127.0.0.1:{{listenPort.ToString(CultureInfo.InvariantCulture)}};
                    location / {
                        proxy_pass http://identityhub;
                        # Keep-alive to the nodes needs HTTP/1.1 and no "Connection: close" passed on from the client.
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_set_header Host $http_host;
                        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                        proxy_set_header X-Forwarded-Proto $scheme;
                        proxy_set_header X-Forwarded-Host $http_host;
                        # A refused or timed-out connect goes to the next node. nginx retries a POST only when it was never sent;
                        # never add non_idempotent: a retried code or refresh-token redemption trips reuse detection.
                        proxy_next_upstream error timeout;
                        proxy_connect_timeout 2s;
                        proxy_buffer_size 32k;
                        proxy_buffers 8 32k;
                    }
                }
            }

            """;
    }

    /// <summary>Starts nginx on <paramref name="port"/> (a free one when null) in front of the nodes listening on <paramref name="nodePorts"/>.</summary>
    public static async Task<NginxProxy> StartAsync(IReadOnlyCollection<int> nodePorts, int? port = null)
    {
        var nginx = TestEnvironment.Require(Prerequisite.Nginx, TestEnvironment.Nginx);
        var directory = Directory.CreateTempSubdirectory("identityhub-nginx-").FullName;
        var listen = port ?? ServerProcess.FreePort();
        var conf = Path.Combine(directory, "nginx.conf");
        await File.WriteAllTextAsync(conf, Configuration(listen, nodePorts, directory), new UTF8Encoding(false));
        var info = new ProcessStartInfo(nginx, [.. Arguments(directory), "-g", "daemon off;"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = new Process { StartInfo = info };
        var proxy = new NginxProxy(process, directory, listen, nodePorts);
        process.OutputDataReceived += (_, e) => proxy.Record(e.Data);
        process.ErrorDataReceived += (_, e) => proxy.Record(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await proxy.WaitUntilListeningAsync(TimeSpan.FromSeconds(30));
        return proxy;
    }

    /// <summary>
    /// Takes a node out of the rotation (<c>down</c>) or puts it back, and reloads nginx gracefully: what a controller does
    /// when the node's readiness turns 503 (nginx itself does not probe /health/ready), so no new connection reaches a node
    /// about to stop listening. Returns once the new workers run.
    /// </summary>
    public async Task SetDownAsync(int nodePort, bool down)
    {
        if (down)
        {
            _down.Add(nodePort);
        }
        else
        {
            _down.Remove(nodePort);
        }

        var started = Occurrences(ErrorLog, "start worker process");
        await File.WriteAllTextAsync(Path.Combine(_directory, "nginx.conf"), Configuration(Port, _nodePorts, _directory, _down), new UTF8Encoding(false));
        using var reload = Process.Start(new ProcessStartInfo(TestEnvironment.Nginx!, [.. Arguments(_directory), "-s", "reload"])
        {
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("nginx -s reload did not start.");
        var errors = await reload.StandardError.ReadToEndAsync();
        await reload.WaitForExitAsync();
        if (reload.ExitCode != 0)
        {
            throw new InvalidOperationException($"nginx -s reload failed: {errors}");
        }

        var clock = Stopwatch.StartNew();
        while (Occurrences(ErrorLog, "start worker process") <= started)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"nginx did not start new workers after the reload:\n{ErrorLog}");
            }

            await Task.Delay(50);
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
        Directory.Delete(_directory, recursive: true);
    }

    private async Task WaitUntilListeningAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"nginx exited with code {_process.ExitCode}: {string.Join('\n', _output)}\n{ErrorLog}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException) when (clock.Elapsed < timeout)
            {
                await Task.Delay(100);
            }
        }
    }

    private static string[] Arguments(string directory) =>
        ["-p", directory + "/", "-e", Path.Combine(directory, "error.log"), "-c", Path.Combine(directory, "nginx.conf")];

    private static int Occurrences(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static string ReadShared(string path)
    {
        if (!File.Exists(path))
        {
            return string.Empty;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private void Record(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }
}
