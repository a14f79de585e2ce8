using IdentityHub.Core.Queries;
using IdentityHub.Data.Directory;
using IdentityHub.Provisioning.Monitoring;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Provisioning;

/// <summary>One person's deliveries, per connector: what was sent (version), when, and how it went. The person is found by name or id.</summary>
public sealed class HistoryModel(UserQueries users, ConnectorOperations operations) : ConsolePageModel
{
    private const int PerConnector = 50;

    /// <summary>What was typed: a user name, employee number, display name or id.</summary>
    public string Lookup { get; private set; } = "";

    /// <summary>The id the history is read for: the person found, or what was typed (someone no longer in the directory).</summary>
    public string UserId { get; private set; } = "";

    public UserAccount? Account { get; private set; }

    public IReadOnlyList<ConnectorUserHistory> Connectors { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync([FromQuery] string? user, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(user))
        {
            return Page();
        }

        Lookup = user.Trim();
        Account = await users.FindOneAsync(Lookup, cancellationToken);
        UserId = Account?.Id ?? Lookup;
        Connectors = await operations.UserHistoryAsync(UserId, PerConnector, cancellationToken);
        return Page();
    }
}
