using IdentityHub.Data.Cluster;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Data.Sqlite;

/// <summary>
/// The start-up lock on SQLite: an exclusive OS lock on <c>&lt;database file&gt;.startup.lock</c> (<see cref="FileShare.None"/>,
/// which .NET takes with <c>flock</c> on Unix and a share mode on Windows), so server processes on one file take turns.
/// The lock file stays after release: deleting it would let a waiting process lock a file no one else sees.
/// </summary>
public sealed class SqliteStartupLock : IStartupLock
{
    // Another process holds the file: on Windows ERROR_SHARING_VIOLATION or ERROR_LOCK_VIOLATION as HRESULTs; on Unix the
    // exception carries flock's errno, EWOULDBLOCK (11 on Linux, 35 on macOS and the BSDs).
    private static readonly int[] HeldElsewhere = [unchecked((int)0x80070020), unchecked((int)0x80070021), OperatingSystem.IsLinux() ? 11 : 35];

    /// <summary>Opening a SQLite connection creates the file: nothing to do.</summary>
    public Task<bool> CreateDatabaseAsync(IdentityHubDbContext db, CancellationToken cancellationToken) => Task.FromResult(false);

    public Task<IAsyncDisposable?> TryAcquireAsync(IdentityHubDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (LockFile(db) is not { } path)
        {
            // An in-memory database belongs to one process: no one to take turns with.
            return Task.FromResult<IAsyncDisposable?>(new HeldLock(null));
        }

        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return Task.FromResult<IAsyncDisposable?>(new HeldLock(stream));
        }
        catch (IOException ex) when (HeldElsewhere.Contains(ex.HResult))
        {
            return Task.FromResult<IAsyncDisposable?>(null);
        }
    }

    public string Describe(IdentityHubDbContext db)
    {
        ArgumentNullException.ThrowIfNull(db);
        return $"the exclusive file lock on {LockFile(db)}; its holder is the IdentityHub process that has it open (e.g. `fuser` or `lsof` on it)";
    }

    /// <summary>The lock file next to the database file, or null for an in-memory database.</summary>
    public static string? LockFile(IdentityHubDbContext db)
    {
        ArgumentNullException.ThrowIfNull(db);
        var builder = new SqliteConnectionStringBuilder(db.Database.GetConnectionString());
        var file = builder.DataSource;
        if (file.StartsWith("file:", StringComparison.Ordinal))
        {
            file = file["file:".Length..].Split('?')[0];
        }

        return builder.Mode == SqliteOpenMode.Memory || file is "" or ":memory:" ? null : Path.GetFullPath(file) + ".startup.lock";
    }

    private sealed class HeldLock(FileStream? stream) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => stream?.DisposeAsync() ?? ValueTask.CompletedTask;
    }
}
