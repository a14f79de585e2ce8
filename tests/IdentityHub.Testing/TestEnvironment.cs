namespace IdentityHub.Testing;

/// <summary>
/// What the machine offers the tests, read from the variables <c>./test.sh</c> sets. Under test.sh
/// (<c>IDENTITYHUB_TEST_STRICT=1</c>) a missing prerequisite fails the test; under a plain
/// <c>dotnet test</c> the test is skipped with the reason.
/// </summary>
public static class TestEnvironment
{
    public static bool Strict => Environment.GetEnvironmentVariable("IDENTITYHUB_TEST_STRICT") == "1";

    /// <summary>Server-level connection string (no database); tests create and drop their own databases.</summary>
    public static string? PostgresServer => Environment.GetEnvironmentVariable("IDENTITYHUB_TEST_POSTGRES") is { Length: > 0 } s ? s : null;

    public static string? Chromium =>
        Environment.GetEnvironmentVariable("IDENTITYHUB_TEST_CHROMIUM") is { Length: > 0 } configured ? configured
        : DebianChromium.FirstOrDefault(File.Exists);

    // The first avoids the /usr/bin wrapper script and its harmless shell warning.
    private static readonly string[] DebianChromium = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"];

    /// <summary>The folder of the Node.js protocol peers (openid-client, ...).</summary>
    public static string InteropDirectory => Path.Combine(SolutionRoot, "tests", "interop");

    private static bool NodeReady => Directory.Exists(Path.Combine(InteropDirectory, "node_modules"))
        && (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, "node")));

    /// <summary>The xmlsec1 command line tool (Debian package xmlsec1), used as an independent signature checker.</summary>
    public static string? Xmlsec1 =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(dir => Path.Combine(dir, "xmlsec1")).FirstOrDefault(File.Exists);

    /// <summary>The openssl command line tool (Debian package openssl), the independent checker of Redirect-binding signatures.</summary>
    public static string? OpenSsl =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(dir => Path.Combine(dir, "openssl")).FirstOrDefault(File.Exists);

    /// <summary>Debian's redis-server, which a test starts on a free port of its own (optional Redis backplane).</summary>
    public static string? RedisServer =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(dir => Path.Combine(dir, "redis-server")).FirstOrDefault(File.Exists);
    /// <summary>nginx (Debian package nginx), the reverse proxy the multi-node tests put in front of the server processes.</summary>
    public static string? Nginx =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/sbin").Select(dir => Path.Combine(dir, "nginx")).FirstOrDefault(File.Exists);

    public static string ArtifactsDirectory
    {
        get
        {
            var path = Environment.GetEnvironmentVariable("IDENTITYHUB_TEST_ARTIFACTS") is { Length: > 0 } configured
                ? configured
                : Path.Combine(SolutionRoot, "test-artifacts");
            Directory.CreateDirectory(path);
            return path;
        }
    }

    public static string SolutionRoot { get; } = FindSolutionRoot();

    /// <summary>The build configuration this test assembly was built in (Debug or Release).</summary>
    public static string Configuration { get; } =
        new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent?.Name ?? "Debug";

    public static string? MissingReason(Prerequisite prerequisite) => prerequisite switch
    {
        Prerequisite.PostgreSql when PostgresServer is null =>
            "PostgreSQL is not configured: set IDENTITYHUB_TEST_POSTGRES to a server connection string, or run ./test.sh, which starts one.",
        Prerequisite.Node when !NodeReady =>
            "The interop packages are not installed: run npm ci in tests/interop (needs node and npm), or run ./test.sh, which does.",
        Prerequisite.Browser when Chromium is null =>
            "Chromium is not installed: apt-get install chromium, set IDENTITYHUB_TEST_CHROMIUM, or run ./test.sh, which installs it.",
        Prerequisite.Xmlsec1 when Xmlsec1 is null =>
            "xmlsec1 is not installed: apt-get install xmlsec1, or run ./test.sh, which installs it.",
        Prerequisite.OpenSsl when OpenSsl is null =>
            "openssl is not installed: apt-get install openssl, or run ./test.sh, which installs it.",
        Prerequisite.Redis when RedisServer is null =>
            "redis-server is not installed: apt-get install redis-server, or run ./test.sh, which installs it.",
        Prerequisite.Nginx when Nginx is null =>
            "nginx is not installed: apt-get install nginx, or run ./test.sh, which installs it.",
        _ => null,
    };

    /// <summary>Throws with the reason when a prerequisite is missing; used where a test runs anyway (strict mode).</summary>
    public static string Require(Prerequisite prerequisite, string? value) =>
        value ?? throw new InvalidOperationException(MissingReason(prerequisite));

    private static string FindSolutionRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "IdentityHub.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"IdentityHub.sln not found above {AppContext.BaseDirectory}.");
    }
}

public enum Prerequisite
{
    PostgreSql,
    Browser,
    Node,
    Xmlsec1,
    OpenSsl,
    Redis,
    Nginx,
}
