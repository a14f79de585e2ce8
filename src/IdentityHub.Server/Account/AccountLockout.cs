using System.Globalization;
using IdentityHub.Data.Directory;
using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore.Identity;

namespace IdentityHub.Server.Account;

/// <summary>
/// The growing lockout (<c>Account:Lockout</c>): every <see cref="MaxFailedAttempts"/>-th failed password locks the
/// account for <see cref="Duration"/>, doubled for each further lockout, at most <see cref="MaxDuration"/>. The failure
/// count runs on across lockouts (it tells which lockout comes next): a successful sign-in clears it, and so does a
/// failure more than <see cref="MaxDuration"/> after the last lockout began. Attempts refused by <see cref="Limits.SignInLimits"/> never get here.
/// </summary>
public sealed class AccountLockout(AccountLockout.Settings settings, TimeProvider time)
{
    public int MaxFailedAttempts => settings.MaxFailedAttempts;

    public TimeSpan Duration => settings.Duration;

    public TimeSpan MaxDuration => settings.MaxDuration;

    /// <summary>How long the <paramref name="lockout"/>-th lockout in a row lasts (1 for the first).</summary>
    public TimeSpan DurationOf(int lockout) =>
        TimeSpan.FromTicks((long)Math.Min(settings.MaxDuration.Ticks, settings.Duration.Ticks * Math.Pow(2, Math.Clamp(lockout, 1, 40) - 1)));

    /// <summary>Counts one failed password on <paramref name="user"/>; true when it locked the account.</summary>
    public async Task<bool> RecordFailureAsync(UserManager<UserAccount> users, UserAccount user)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(user);
        if (!await users.GetLockoutEnabledAsync(user))
        {
            return false;
        }

        var now = time.GetUtcNow();
        if (user.LockoutEnd is { } end && user.AccessFailedCount >= settings.MaxFailedAttempts
            && now - (end - DurationOf(user.AccessFailedCount / settings.MaxFailedAttempts)) >= settings.MaxDuration)
        {
            user.AccessFailedCount = 0;
        }

        user.AccessFailedCount++;
        var locks = user.AccessFailedCount % settings.MaxFailedAttempts == 0;
        if (locks)
        {
            user.LockoutEnd = now + DurationOf(user.AccessFailedCount / settings.MaxFailedAttempts);
        }

        // A concurrent failure on another request may win the row; the attempt is refused either way.
        var saved = await users.UpdateAsync(user);
        return locks && saved.Succeeded;
    }

    /// <summary>Reads <c>Account:Lockout</c>; a wrong value stops the start with one line naming the key.</summary>
    public static Settings Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        const string section = "Account:Lockout";
        var attempts = configuration[$"{section}:MaxFailedAttempts"];
        var result = new Settings
        {
            MaxFailedAttempts = attempts is null ? 5
                : int.TryParse(attempts, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count >= 1
                    ? count
                    : throw new StartupException($"{section}:MaxFailedAttempts '{attempts}' is not a whole number of at least 1."),
            Duration = ReadSpan(configuration, $"{section}:Duration", TimeSpan.FromMinutes(1)),
            MaxDuration = ReadSpan(configuration, $"{section}:MaxDuration", TimeSpan.FromHours(1)),
        };
        return result.MaxDuration >= result.Duration
            ? result
            : throw new StartupException($"{section}:MaxDuration '{result.MaxDuration}' is shorter than {section}:Duration '{result.Duration}'.");
    }

    private static TimeSpan ReadSpan(IConfiguration configuration, string key, TimeSpan fallback)
    {
        var text = configuration[key];
        return text is null ? fallback
            : TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero
                ? span
                : throw new StartupException($"{key} '{text}' is not a positive time span such as 00:01:00.");
    }

    public sealed record Settings
    {
        public int MaxFailedAttempts { get; init; }

        public TimeSpan Duration { get; init; }

        public TimeSpan MaxDuration { get; init; }
    }
}
