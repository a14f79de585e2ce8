using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IdentityHub.Testing;

/// <summary>
/// A fault the next API request meets: a delay (past the caller's timeout, it hangs), then an HTTP status with an optional
/// Retry-After; or, with <see cref="AnswerDelayMilliseconds"/>, the request is applied and only its answer held back (lost to a caller that gave up).
/// </summary>
public sealed record VendorFault(int? Status = null, int? RetryAfterSeconds = null, int DelayMilliseconds = 0, int AnswerDelayMilliseconds = 0);

/// <summary>One request a stand-in received, as the wire carried it.</summary>
public sealed record VendorRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body, DateTimeOffset At);

/// <summary>
/// A vendor-like service on real Kestrel (127.0.0.1, a free port) started by the tests: the base of the expense and
/// attendance stand-ins. It logs every request, and its control surface (plain C# methods) reads what it holds and
/// queues faults for the next API requests.
/// </summary>
public abstract class VendorStandIn : IAsyncDisposable
{
    private readonly ConcurrentQueue<VendorFault> _faults = new();
    private readonly ConcurrentQueue<VendorRequest> _requests = new();
    private WebApplication? _app;

    public Uri BaseUrl { get; private set; } = new("http://127.0.0.1:9/");

    /// <summary>Every request received, oldest first.</summary>
    public IReadOnlyList<VendorRequest> Requests => [.. _requests];

    /// <summary>Serialises changes to the stand-in's data, as a vendor's database would.</summary>
    protected Lock Gate { get; } = new();

    /// <summary>The next API requests fail or stall, one fault each, in order.</summary>
    public void InjectFaults(params VendorFault[] faults)
    {
        foreach (var fault in faults)
        {
            _faults.Enqueue(fault);
        }
    }

    public int PendingFaults => _faults.Count;

    /// <summary>Drops the faults not met yet.</summary>
    public void ClearFaults() => _faults.Clear();

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted);
            context.Request.Body.Position = 0;
            _requests.Enqueue(new VendorRequest(
                context.Request.Method, context.Request.Path + context.Request.QueryString,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body, DateTimeOffset.UtcNow));
            VendorFault? fault = null;
            if (IsApi(context.Request.Path) && _faults.TryDequeue(out fault))
            {
                if (fault.DelayMilliseconds > 0)
                {
                    try
                    {
                        await Task.Delay(fault.DelayMilliseconds, context.RequestAborted);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }

                if (fault.Status is { } status)
                {
                    context.Response.StatusCode = status;
                    if (fault.RetryAfterSeconds is { } seconds)
                    {
                        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                    }

                    await context.Response.WriteAsync($"{{\"error\":\"injected\",\"status\":{status}}}", context.RequestAborted);
                    return;
                }
            }

            if (fault is { AnswerDelayMilliseconds: > 0 })
            {
                // Applied now, answered late: the answer is held in memory while the caller times out.
                var wire = context.Response.Body;
                using var held = new MemoryStream();
                context.Response.Body = held;
                await next(context);
                try
                {
                    await Task.Delay(fault.AnswerDelayMilliseconds, context.RequestAborted);
                    held.Position = 0;
                    await held.CopyToAsync(wire, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                }
                finally
                {
                    context.Response.Body = wire;
                }

                return;
            }

            await next(context);
        });
        Map(_app);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUrl = new Uri(address.TrimEnd('/') + "/");
    }

    /// <summary>Requests that meet injected faults (the control surface and token endpoints never do).</summary>
    protected abstract bool IsApi(PathString path);

    protected abstract void Map(WebApplication app);

    protected static async Task<JsonObject> ReadJsonAsync(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Body.Position = 0;
        var text = await new StreamReader(request.Body).ReadToEndAsync();
        return JsonNode.Parse(string.IsNullOrWhiteSpace(text) ? "{}" : text) as JsonObject ?? [];
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
