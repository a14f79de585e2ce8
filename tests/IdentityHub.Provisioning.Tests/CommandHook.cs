using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace IdentityHub.Provisioning.Tests;

/// <summary>
/// Runs an action once, just before the first database command whose text matches, on whichever context sends it: a test
/// arranges a commit to land between two reads of a delivery instead of hoping one does.
/// </summary>
public sealed class CommandHook : DbCommandInterceptor
{
    private Armed? _armed;

    public bool Fired { get; private set; }

    public void Arm(Func<string, bool> matches, Func<Task> action)
    {
        Fired = false;
        _armed = new Armed(matches, action);
    }

    public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        var armed = _armed;
        // Disarmed before the action runs: the action's own commands pass straight through.
        if (armed is not null && armed.Matches(command.CommandText) && Interlocked.CompareExchange(ref _armed, null, armed) == armed)
        {
            await armed.Action();
            Fired = true;
        }

        return result;
    }

    private sealed record Armed(Func<string, bool> Matches, Func<Task> Action);
}
