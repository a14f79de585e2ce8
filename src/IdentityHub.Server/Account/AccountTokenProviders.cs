using IdentityHub.Core.Directory;
using IdentityHub.Core.Mail;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace IdentityHub.Server.Account;

/// <summary>Invitation links: Data Protection tokens bound to the security stamp, valid for <c>Account:InvitationLifetime</c>.</summary>
public sealed class InvitationTokenProvider(
    IDataProtectionProvider protection, IOptions<InvitationTokenOptions> options, ILogger<DataProtectorTokenProvider<UserAccount>> logger)
    : DataProtectorTokenProvider<UserAccount>(protection, Microsoft.Extensions.Options.Options.Create<DataProtectionTokenProviderOptions>(options.Value), logger);

public sealed class InvitationTokenOptions : DataProtectionTokenProviderOptions;

public sealed class ResetTokenOptions : DataProtectionTokenProviderOptions;

/// <summary>Password reset links: Data Protection tokens bound to the security stamp, valid for <c>Account:ResetLifetime</c>.</summary>
public sealed class ResetTokenProvider(
    IDataProtectionProvider protection, IOptions<ResetTokenOptions> options, ILogger<DataProtectorTokenProvider<UserAccount>> logger)
    : DataProtectorTokenProvider<UserAccount>(protection, Microsoft.Extensions.Options.Options.Create<DataProtectionTokenProviderOptions>(options.Value), logger);

public static class AccountTokenSetup
{
    public static IdentityBuilder AddAccountLinkTokens(this IdentityBuilder identity, IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(identity);
        services.AddHostedService<DataProtectionWarmUp>();
        services.AddOptions<InvitationTokenOptions>().Configure<AccountMailSettings>((o, s) =>
        {
            o.Name = AccountTokens.InvitationProvider;
            o.TokenLifespan = s.InvitationLifetime;
        });
        services.AddOptions<ResetTokenOptions>().Configure<AccountMailSettings>((o, s) =>
        {
            o.Name = AccountTokens.ResetProvider;
            o.TokenLifespan = s.ResetLifetime;
        });
        return identity
            .AddTokenProvider<InvitationTokenProvider>(AccountTokens.InvitationProvider)
            .AddTokenProvider<ResetTokenProvider>(AccountTokens.ResetProvider);
    }
}

/// <summary>
/// Loads (or creates) the Data Protection key ring before requests arrive: the first token would otherwise create a key
/// inside the transaction that issues it (an invitation queued with the user's creation), on the same database.
/// </summary>
public sealed class DataProtectionWarmUp(IDataProtectionProvider protection) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        protection.CreateProtector("IdentityHub.WarmUp").Protect([1]);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
