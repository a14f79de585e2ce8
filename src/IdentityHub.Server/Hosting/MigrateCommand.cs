namespace IdentityHub.Server.Hosting;

/// <summary>
/// <c>dotnet IdentityHub.Server.dll migrate</c> (or <c>--migrate</c>), for deployments that migrate as a separate step:
/// applies the migrations and the start-up seeds under the start-up lock, prints what it did and exits without
/// starting the web server. A failure is the usual one-line <see cref="StartupException"/> and a non-zero exit code.
/// </summary>
public static class MigrateCommand
{
    private static readonly string[] Names = ["migrate", "--migrate"];

    public static bool IsRequested(string[] args) => args.Any(a => Names.Contains(a, StringComparer.OrdinalIgnoreCase));

    /// <summary>The arguments without the command, for the host's configuration (it would read <c>--migrate x</c> as a setting).</summary>
    public static string[] HostArguments(string[] args) => args.Where(a => !Names.Contains(a, StringComparer.OrdinalIgnoreCase)).ToArray();

    public static async Task<int> RunMigrateCommandAsync(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var settings = app.Services.GetRequiredService<DatabaseSettings>();
        var report = await app.PrepareDatabaseAsync(applyMigrations: true);
        var output = Console.Out;
        await output.WriteLineAsync($"IdentityHub migrate ({settings.Provider}):");
        if (report.DatabaseCreated)
        {
            await output.WriteLineAsync("  created the database");
        }

        await output.WriteLineAsync(report.AppliedMigrations.Count == 0
            ? $"  schema already up to date ({report.KnownMigrations} migrations)"
            : $"  applied {report.AppliedMigrations.Count} of {report.KnownMigrations} migrations: {string.Join(", ", report.AppliedMigrations)}");
        await output.WriteLineAsync("  signing and encryption keys in place");
        await output.WriteLineAsync(report.AdministratorCreated ? "  created the first administrator 'admin'" : "  an administrator already exists");
        if (report.BootstrapClientCreated is { } clientId)
        {
            await output.WriteLineAsync($"  created the bootstrap admin API client '{clientId}'");
        }

        await output.WriteLineAsync("Done; nodes may now start with Database:ApplyMigrations=false.");
        return 0;
    }
}
