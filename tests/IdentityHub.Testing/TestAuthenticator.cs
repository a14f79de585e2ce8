using OtpNet;
using Xunit;

namespace IdentityHub.Testing;

/// <summary>An authenticator app in the test: codes from the key the page shows, each time step used once, as a phone would.</summary>
public sealed class TestAuthenticator(string key)
{
    private readonly Totp _totp = new(Base32Encoding.ToBytes(key));
    private long _lastStep = -1;

    public string Key => key;

    /// <summary>The code the app showed last (what a replay would send).</summary>
    public string LastCode { get; private set; } = "";

    /// <summary>A code of a time step not used yet: the current one, or the next (the server accepts one step ahead); waits for time to move on after that.</summary>
    public async Task<string> NextCodeAsync()
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(90);
        while (true)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 30;
            var step = Math.Max(_lastStep + 1, now);
            if (step <= now + 1)
            {
                _lastStep = step;
                LastCode = _totp.ComputeTotp(DateTimeOffset.FromUnixTimeSeconds(step * 30).UtcDateTime);
                return LastCode;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, "The time step never moved on.");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }
}
