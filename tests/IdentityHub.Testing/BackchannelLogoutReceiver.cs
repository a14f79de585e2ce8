using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace IdentityHub.Testing;

/// <summary>
/// A relying party's back-channel logout endpoint on a local port (OpenID Connect Back-Channel Logout 1.0): records every
/// logout_token, fails the first <c>failures</c> calls with 503.
/// </summary>
public sealed class BackchannelLogoutReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _failuresLeft;
    private int _calls;

    private BackchannelLogoutReceiver(WebApplication app, int failures)
    {
        _app = app;
        _failuresLeft = failures;
    }

    public Channel<string> Tokens { get; } = Channel.CreateUnbounded<string>();

    public int Calls => Volatile.Read(ref _calls);

    public string Url => _app.Urls.First() + "/backchannel-logout";

    public static async Task<BackchannelLogoutReceiver> StartAsync(int failures = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new BackchannelLogoutReceiver(app, failures);
        app.MapPost("/backchannel-logout", async (HttpContext context) =>
        {
            Interlocked.Increment(ref receiver._calls);
            if (Interlocked.Decrement(ref receiver._failuresLeft) >= 0)
            {
                return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
            }

            var form = await context.Request.ReadFormAsync();
            await receiver.Tokens.Writer.WriteAsync(form["logout_token"].ToString());
            return Results.Ok();
        });
        await app.StartAsync();
        return receiver;
    }

    /// <summary>The next logout token received; fails after <paramref name="patience"/> (20 s by default).</summary>
    public async Task<string> NextTokenAsync(TimeSpan? patience = null)
    {
        using var timeout = new CancellationTokenSource(patience ?? TimeSpan.FromSeconds(20));
        return await Tokens.Reader.ReadAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
