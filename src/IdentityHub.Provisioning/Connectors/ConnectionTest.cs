using IdentityHub.Data.Provisioning;

namespace IdentityHub.Provisioning.Connectors;

/// <summary>
/// What "test connection" found: <see cref="Outcome"/> is <c>succeeded</c>, <c>failed</c> (with the target's answer or the
/// transport error in <see cref="Message"/>), or <c>not-available</c> (the kind has nothing harmless to read);
/// <see cref="Operation"/> names the call made when the kind has several to choose from (a REST connector's listUsers or getUser).
/// </summary>
public sealed record ConnectionTestResult(string Outcome, string Message, int? StatusCode, int DurationMilliseconds, string? Operation = null)
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string NotAvailable = "not-available";

    public bool Passed => Outcome == Succeeded;

    /// <summary>
    /// What a failed test says of <paramref name="failure"/>: the target's answer, or for no answer at all only that it could not
    /// be fetched — refused, timed out and blocked alike, so a test cannot be used to map which hosts and ports answer (SSRF).
    /// </summary>
    public static string Describe(ConnectorCallException failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return failure.Unreachable ? Unreachable : failure.Message;
    }

    /// <summary>The one message of a test whose target gave no answer.</summary>
    public static string Unreachable => $"The target {IdentityHub.Core.Outbound.OutboundAddressGuard.CouldNotBeFetched}.";
}

/// <summary>A kind's "test connection": authenticate to the target and read something harmless, changing nothing there.</summary>
public interface IConnectionTest
{
    ConnectorKind Kind { get; }

    /// <param name="secret">The unprotected secret, or null.</param>
    /// <returns>Succeeded or failed; a refusal or an unreachable target is a failed result, not an exception.</returns>
    Task<ConnectionTestResult> TestAsync(Connector connector, string? secret, CancellationToken cancellationToken);
}
