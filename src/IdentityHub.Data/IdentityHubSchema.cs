using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Data;

/// <summary>The Identity store settings the model is built with, shared by the server, migrations and tests.</summary>
public static class IdentityHubSchema
{
    /// <summary>Version 3 adds AspNetUserPasskeys (.NET 10 passkeys).</summary>
    public static void ConfigureStores(StoreOptions stores)
    {
        ArgumentNullException.ThrowIfNull(stores);
        stores.SchemaVersion = IdentitySchemaVersions.Version3;
        stores.MaxLengthForKeys = 128;
    }

    /// <summary>
    /// Gives a context created outside the server (dotnet ef, tests) the same Identity options the server
    /// has, so it builds the same model.
    /// </summary>
    public static DbContextOptionsBuilder UseIdentityHubModel(this DbContextOptionsBuilder options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.UseApplicationServiceProvider(ModelServices.Value);
    }

    private static readonly Lazy<IServiceProvider> ModelServices = new(() => new ServiceCollection()
        .Configure<IdentityOptions>(o => ConfigureStores(o.Stores))
        .BuildServiceProvider());
}
