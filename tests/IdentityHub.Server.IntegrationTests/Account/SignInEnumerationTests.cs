using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Server.Account;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Account;

/// <summary>A lockout after 3 failures, 3 failures per address and name; addresses come through a trusted proxy.</summary>
public sealed class QuickLockout : IServerSettings
{
    public const int MaxFailedAttempts = 3;

    public static void Apply(IWebHostBuilder builder)
    {
        builder.UseSetting("Hosting:ForwardedHeaders:KnownProxies:0", "127.0.0.1");
        builder.UseSetting("Account:Lockout:MaxFailedAttempts", "3");
        builder.UseSetting("Account:Lockout:Duration", "00:01:00");
        builder.UseSetting("Account:Lockout:MaxDuration", "01:00:00");
        builder.UseSetting("RateLimits:SignInFailuresPerAccountAndIp:PermitLimit", "3");
        builder.UseSetting("RateLimits:SignInFailuresPerAccountAndIp:Window", "01:00:00");
    }
}

/// <summary>
/// Sign-in answers tell nothing about which accounts exist or what state they are in, and the lockout grows but cannot
/// be held on an account from one address.
/// </summary>
public sealed partial class SignInEnumerationTests(SqliteFactory<QuickLockout> factory) : IClassFixture<SqliteFactory<QuickLockout>>
{
    private const string Password = "Enumeration-Password-1";

    [PrerequisiteTheory]
    [InlineData("wrong password")]
    [InlineData("locked")]
    [InlineData("suspended")]
    public async Task SignIn_RealAccountInAnyState_AnswersLikeAnUnknownName(string state)
    {
        var name = "enum-" + Guid.NewGuid().ToString("N")[..8];
        var id = await TestUsers.CreateAsync(factory, name, Password, state == "suspended" ? UserStatus.Suspended : UserStatus.Active);
        if (state == "locked")
        {
            await UpdateUserAsync(id, user => user.LockoutEnd = DateTimeOffset.UtcNow.AddHours(1));
        }

        var unknown = await AnswerAsync("10.5.0.1", "nobody-" + Guid.NewGuid().ToString("N")[..8], Password);
        var real = await AnswerAsync("10.5.0.2", name, state == "wrong password" ? "Not-The-Password-1" : Password);

        Assert.Equal(HttpStatusCode.OK, real.Status);
        Assert.Equal(unknown.Status, real.Status);
        Assert.Equal(unknown.Page, real.Page);
        Assert.Contains(LoginModel.InvalidCredentials, real.Page, StringComparison.Ordinal);
    }

    /// <summary>
    /// The issue measured ~24 ms for unknown names against ~195 ms for real ones. Samples alternate, so load on the machine
    /// weighs on both alike; every sample comes from an address of its own, so no limit or lockout interferes.
    /// </summary>
    [PrerequisiteFact]
    public async Task SignIn_UnknownNameAndWrongPassword_TakeAlikeTime()
    {
        const int samples = 30;
        var name = "timing-" + Guid.NewGuid().ToString("N")[..8];
        var id = await TestUsers.CreateAsync(factory, name, Password);
        await AnswerAsync("10.6.255.1", "warm-up", Password);
        var unknown = new List<double>();
        var wrong = new List<double>();
        for (var sample = 0; sample < samples; sample++)
        {
            unknown.Add(await TimedFailureAsync($"10.6.{sample}.1", "nobody-" + Guid.NewGuid().ToString("N")[..8]));
            wrong.Add(await TimedFailureAsync($"10.6.{sample}.2", name));
            // Keeps the account below its lockout, outside the measured time: every sample is a plain wrong password.
            await UpdateUserAsync(id, user => user.AccessFailedCount = 0);
        }

        var ratio = Median(wrong) / Median(unknown);
        Assert.True(ratio is > 1 / 1.5 and < 1.5,
            $"Median unknown {Median(unknown):F1} ms, wrong password {Median(wrong):F1} ms (ratio {ratio:F2}); unknown: [{string.Join(", ", unknown.Select(t => t.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}], wrong: [{string.Join(", ", wrong.Select(t => t.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}]");
    }

    [PrerequisiteFact]
    public async Task Lockout_SecondLockout_LastsTwiceAsLongAsTheFirst()
    {
        var name = "growing-" + Guid.NewGuid().ToString("N")[..8];
        var id = await TestUsers.CreateAsync(factory, name, Password);

        var first = await LockFromAsync("10.7.0.1", id, name);
        // The first lockout runs out (moved into the past rather than waited for); the failure count stays.
        await UpdateUserAsync(id, user => user.LockoutEnd = DateTimeOffset.UtcNow.AddSeconds(-1));
        var second = await LockFromAsync("10.7.0.2", id, name);

        // From the start of the locking attempt: the lockout begins during that request, which a loaded machine may take long over.
        Assert.InRange(first.TotalSeconds, 59, 90);
        Assert.InRange(second.TotalSeconds, 119, 150);
    }

    [PrerequisiteFact]
    public async Task Lockout_AddressThatLockedTheAccount_IsRefusedWithoutExtendingIt()
    {
        var name = "target-" + Guid.NewGuid().ToString("N")[..8];
        var id = await TestUsers.CreateAsync(factory, name, Password);
        await LockFromAsync("10.8.0.1", id, name);
        var locked = await LockoutStateAsync(id);

        using var attacker = TestUsers.BrowserFrom(factory, "10.8.0.1");
        var refused = await BrowserSession.SignInAsync(attacker, name, "Another-Guess-1");
        // An unknown name that used up its failures from this address is refused alike: the refusal reveals no account.
        var unknownName = "ghost-" + Guid.NewGuid().ToString("N")[..8];
        for (var attempt = 0; attempt < QuickLockout.MaxFailedAttempts; attempt++)
        {
            await BrowserSession.SignInAsync(attacker, unknownName, "Guess-" + attempt);
        }

        var refusedUnknown = await BrowserSession.SignInAsync(attacker, unknownName, "Guess-last");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, refusedUnknown.StatusCode);
        Assert.Equal(locked, await LockoutStateAsync(id));
        // Once the lockout has run out, the owner signs in from elsewhere while the attacker's address is still refused.
        await UpdateUserAsync(id, user => user.LockoutEnd = DateTimeOffset.UtcNow.AddSeconds(-1));
        Assert.Equal(HttpStatusCode.TooManyRequests, (await BrowserSession.SignInAsync(attacker, name, "Another-Guess-2")).StatusCode);
        using var owner = TestUsers.BrowserFrom(factory, "10.8.0.2");
        Assert.Equal(HttpStatusCode.Redirect, (await BrowserSession.SignInAsync(owner, name, Password)).StatusCode);
    }

    /// <summary>Fails <see cref="QuickLockout.MaxFailedAttempts"/> times from <paramref name="address"/>; returns how long the lockout it caused lasts.</summary>
    private async Task<TimeSpan> LockFromAsync(string address, string id, string name)
    {
        using var client = TestUsers.BrowserFrom(factory, address);
        DateTimeOffset before = default;
        for (var attempt = 0; attempt < QuickLockout.MaxFailedAttempts; attempt++)
        {
            before = DateTimeOffset.UtcNow;
            Assert.Equal(HttpStatusCode.OK, (await BrowserSession.SignInAsync(client, name, "Wrong-Password-" + attempt)).StatusCode);
        }

        var (_, end) = await LockoutStateAsync(id);
        Assert.NotNull(end);
        return end.Value - before;
    }

    private async Task<double> TimedFailureAsync(string address, string name)
    {
        using var client = TestUsers.BrowserFrom(factory, address);
        var form = await client.GetStringAsync("/account/login");
        using var content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.UserName"] = name,
            ["Input.Password"] = "Not-The-Password-1",
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(form),
        });
        var watch = Stopwatch.StartNew();
        using var response = await client.PostAsync("/account/login", content);
        watch.Stop();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return watch.Elapsed.TotalMilliseconds;
    }

    /// <summary>The status and page of a failed sign-in, with what differs by request alone (typed name, antiforgery token) blanked.</summary>
    private async Task<(HttpStatusCode Status, string Page)> AnswerAsync(string address, string name, string password)
    {
        using var client = TestUsers.BrowserFrom(factory, address);
        using var response = await BrowserSession.SignInAsync(client, name, password);
        var page = (await response.Content.ReadAsStringAsync()).Replace(name, "NAME", StringComparison.Ordinal);
        return (response.StatusCode, AntiforgeryValue().Replace(page, "TOKEN"));
    }

    private async Task<(int Failures, DateTimeOffset? End)> LockoutStateAsync(string id)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var user = await scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>().Users.AsNoTracking().SingleAsync(u => u.Id == id);
        return (user.AccessFailedCount, user.LockoutEnd);
    }

    private async Task UpdateUserAsync(string id, Action<UserAccount> change)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        change(await db.Users.SingleAsync(u => u.Id == id));
        await db.SaveChangesAsync();
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    [GeneratedRegex("value=\"CfDJ[^\"]+\"")]
    private static partial Regex AntiforgeryValue();
}
