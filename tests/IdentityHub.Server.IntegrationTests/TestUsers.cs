using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests;

/// <summary>People with a password, created straight through Identity on the factory's server.</summary>
internal static class TestUsers
{
    public static async Task<string> CreateAsync(IdentityHubFactory factory, string userName, string password, UserStatus status = UserStatus.Active)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<UserAccount>>();
        var user = new UserAccount { UserName = userName, DisplayName = userName, Status = status };
        var result = await users.CreateAsync(user, password);
        Assert.True(result.Succeeded, string.Join(" ", result.Errors.Select(e => e.Description)));
        return user.Id;
    }

    /// <summary>A browser-like client whose requests come, through a trusted proxy, from <paramref name="address"/>.</summary>
    public static HttpClient BrowserFrom(IdentityHubFactory factory, string address)
    {
        var client = factory.CreateBrowserLikeClient();
        client.DefaultRequestHeaders.Add("X-Forwarded-For", address);
        return client;
    }
}
