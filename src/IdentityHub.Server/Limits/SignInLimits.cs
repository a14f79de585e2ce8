using System.Threading.RateLimiting;

namespace IdentityHub.Server.Limits;

/// <summary>
/// Who may try a password now. Checked before the password is verified, so a refused attempt costs no hash, counts
/// toward no lockout and answers the same for every user name, known or not.
/// </summary>
public sealed class SignInLimits(RateLimitSettings settings) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _perIp = RequestLimits.PerKey(settings.SignInPerIp);
    private readonly PartitionedRateLimiter<string> _perAccount = RequestLimits.PerKey(settings.SignInPerAccount);
    private readonly PartitionedRateLimiter<string> _failuresPerAccountAndIp = RequestLimits.PerKey(settings.SignInFailuresPerAccountAndIp);
    private readonly PartitionedRateLimiter<string> _mfaPerIp = RequestLimits.PerKey(settings.MfaPerIp);
    private readonly PartitionedRateLimiter<string> _mfaPerAccount = RequestLimits.PerKey(settings.MfaPerAccount);

    /// <summary>
    /// Null when the attempt may go ahead, else how long to wait. The address is throttled first; an address that has
    /// used up its failures for this name is refused without touching the account, so it cannot keep the account locked.
    /// </summary>
    public TimeSpan? Admit(string address, string normalizedName)
    {
        using var byIp = _perIp.AttemptAcquire(address);
        if (!byIp.IsAcquired)
        {
            return RequestLimits.WaitOf(byIp);
        }

        // Zero permits: asks whether failures are left without spending one.
        using var failuresLeft = _failuresPerAccountAndIp.AttemptAcquire(Pair(address, normalizedName), 0);
        if (!failuresLeft.IsAcquired)
        {
            return RequestLimits.WaitOf(failuresLeft);
        }

        using var byAccount = _perAccount.AttemptAcquire(normalizedName);
        return byAccount.IsAcquired ? null : RequestLimits.WaitOf(byAccount);
    }

    /// <summary>A wrong password (or unknown name) from this address for this name spends one of its failures.</summary>
    public void RecordFailure(string address, string normalizedName)
    {
        using var _ = _failuresPerAccountAndIp.AttemptAcquire(Pair(address, normalizedName));
    }

    /// <summary>Null when a second-factor attempt for <paramref name="userId"/> may go ahead, else how long to wait.</summary>
    public TimeSpan? AdmitSecondFactor(string address, string userId)
    {
        using var byIp = _mfaPerIp.AttemptAcquire(address);
        if (!byIp.IsAcquired)
        {
            return RequestLimits.WaitOf(byIp);
        }

        using var byAccount = _mfaPerAccount.AttemptAcquire(userId);
        return byAccount.IsAcquired ? null : RequestLimits.WaitOf(byAccount);
    }

    /// <summary>
    /// A passkey sign-in names no account until its assertion is checked: the address's sign-in limit applies, and its
    /// failed assertions count among its failures as if for one more account name.
    /// </summary>
    public TimeSpan? AdmitPasskey(string address)
    {
        using var byIp = _perIp.AttemptAcquire(address);
        if (!byIp.IsAcquired)
        {
            return RequestLimits.WaitOf(byIp);
        }

        using var failuresLeft = _failuresPerAccountAndIp.AttemptAcquire(Pair(address, PasskeyAttempts), 0);
        return failuresLeft.IsAcquired ? null : RequestLimits.WaitOf(failuresLeft);
    }

    /// <summary>A refused passkey assertion from this address spends one of its passkey failures.</summary>
    public void RecordPasskeyFailure(string address) => RecordFailure(address, PasskeyAttempts);

    public void Dispose()
    {
        _mfaPerIp.Dispose();
        _mfaPerAccount.Dispose();
        _perIp.Dispose();
        _perAccount.Dispose();
        _failuresPerAccountAndIp.Dispose();
    }

    /// <summary>Lower case: Identity's normalized user names are upper case, so this names no real account.</summary>
    private const string PasskeyAttempts = "(passkey)";

    private static string Pair(string address, string normalizedName) => $"{address}\n{normalizedName}";
}
