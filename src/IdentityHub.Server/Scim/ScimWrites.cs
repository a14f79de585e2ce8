using IdentityHub.Core;
using IdentityHub.Core.Inbound;
using IdentityHub.Data;

namespace IdentityHub.Server.Scim;

/// <summary>
/// Every SCIM write goes through <see cref="OrganisationIntake"/> and counts into the source's push run of the day:
/// what it did when it succeeded, the refusal's text when it did not.
/// </summary>
public sealed class ScimWrites(OrganisationIntake intake, InboundRuns runs, IdentityHubDbContext db, ScimCaller caller)
{
    public OrganisationIntake Intake => intake;

    public async Task<IntakeResult<T>> CountedAsync<T>(Func<OrganisationIntake, Task<IntakeResult<T>>> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        IntakeResult<T> result;
        try
        {
            result = await write(intake);
        }
        catch (RuleViolation violation)
        {
            await CountRefusalAsync(ScimErrors.DetailOf(violation), violation.Kind == ViolationKind.Conflict, cancellationToken);
            throw;
        }
        catch (ScimException refusal)
        {
            await CountRefusalAsync(refusal.Message, refusal.Status == StatusCodes.Status409Conflict, cancellationToken);
            throw;
        }

        await runs.CountPushAsync(caller.Source.Id, IntakeTally.Of(result.Outcome), cancellationToken);
        return result;
    }

    private async Task CountRefusalAsync(string message, bool conflict, CancellationToken cancellationToken)
    {
        // The refused write left nothing behind, but its entities may still be tracked: the count must not save them.
        db.ChangeTracker.Clear();
        await runs.CountPushAsync(caller.Source.Id, IntakeTally.Failed(message, conflict), cancellationToken);
    }
}
