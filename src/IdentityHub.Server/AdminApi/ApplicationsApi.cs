using IdentityHub.Core;
using IdentityHub.Core.Audit;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Server.Oidc;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;

namespace IdentityHub.Server.AdminApi;

/// <param name="RevokeTokensOnAccessLoss">Losing a role there revokes the user's refresh tokens of its client; default true (on create), unchanged when omitted (on update).</param>
public sealed record ApplicationRequest(string? Name, string? Description, bool? RevokeTokensOnAccessLoss = null);

public sealed record ApplicationDto(
    Guid Id, string Name, string? Description, string? OidcClientId, bool RevokeTokensOnAccessLoss, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record ApplicationPage(IReadOnlyList<ApplicationDto> Items, int Page, int PageSize, int Total);

/// <summary>/applications: the connected systems. Their OIDC client is in <see cref="ApplicationOidcApi"/>.</summary>
public static class ApplicationsApi
{
    private const int MaxPageSize = 100;

    public static void MapApplicationsApi(this IEndpointRouteBuilder api)
    {
        var applications = api.MapGroup("/applications");
        applications.MapGet("/", ListAsync);
        applications.MapGet("/{id:guid}", GetAsync).WithName("GetApplication");
        applications.MapPost("/", CreateAsync).RequireAuthorization(AdminApiPolicies.Security);
        applications.MapPut("/{id:guid}", UpdateAsync).RequireAuthorization(AdminApiPolicies.Security);
        applications.MapDelete("/{id:guid}", DeleteAsync).RequireAuthorization(AdminApiPolicies.Security);
    }

    internal static ApplicationDto ToDto(Application a) => new(a.Id, a.Name, a.Description, a.OidcClientId, a.RevokeTokensOnAccessLoss, a.CreatedAt, a.UpdatedAt);

    private static async Task<Results<Ok<ApplicationPage>, ValidationProblem>> ListAsync(
        IdentityHubDbContext db, CancellationToken cancellationToken, int page = 1, int pageSize = 20)
    {
        if (page < 1)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["page"] = ["page starts at 1."] });
        }

        if (pageSize is < 1 or > MaxPageSize)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["pageSize"] = [$"pageSize must be between 1 and {MaxPageSize}."] });
        }

        var total = await db.Applications.CountAsync(cancellationToken);
        var items = await db.Applications.AsNoTracking().OrderBy(a => a.Name)
            .Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(cancellationToken);
        return TypedResults.Ok(new ApplicationPage([.. items.Select(ToDto)], page, pageSize, total));
    }

    private static async Task<Results<Ok<ApplicationDto>, NotFound>> GetAsync(
        Guid id, IdentityHubDbContext db, HttpContext http, CancellationToken cancellationToken)
    {
        var application = await db.Applications.AsNoTracking().SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (application is null)
        {
            return TypedResults.NotFound();
        }

        http.Response.Headers.ETag = Revision.ETag(application.UpdatedAt);
        return TypedResults.Ok(ToDto(application));
    }

    private static async Task<Results<CreatedAtRoute<ApplicationDto>, ValidationProblem>> CreateAsync(
        ApplicationRequest request, IdentityHubDbContext db, AuditTrail audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var errors = await ValidateAsync(request, db, id: null, cancellationToken);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var now = Revision.Now(clock);
        var application = new Application
        {
            Id = Guid.CreateVersion7(),
            Name = request.Name!.Trim(),
            Description = request.Description,
            RevokeTokensOnAccessLoss = request.RevokeTokensOnAccessLoss ?? true,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Applications.Add(application);
        if (await SaveAuditedAsync(db, audit, application, "application.created", before: null, cancellationToken) is { } taken)
        {
            return TypedResults.ValidationProblem(taken);
        }

        return TypedResults.CreatedAtRoute(ToDto(application), "GetApplication", new { id = application.Id });
    }

    private static async Task<Results<Ok<ApplicationDto>, NotFound, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        Guid id, ApplicationRequest request, IdentityHubDbContext db, AuditTrail audit, TimeProvider clock, HttpContext http, CancellationToken cancellationToken)
    {
        var application = await db.Applications.SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (application is null)
        {
            return TypedResults.NotFound();
        }

        // RFC 9110 §13.1.1: a stale If-Match means someone else changed it since the caller read it.
        if (StaleIfMatch(http, application) is { } stale)
        {
            return stale;
        }

        var errors = await ValidateAsync(request, db, id, cancellationToken);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var before = ToDto(application);
        application.Name = request.Name!.Trim();
        application.Description = request.Description;
        application.RevokeTokensOnAccessLoss = request.RevokeTokensOnAccessLoss ?? application.RevokeTokensOnAccessLoss;
        application.UpdatedAt = Revision.After(application.UpdatedAt, clock);
        if (await SaveAuditedAsync(db, audit, application, "application.updated", before, cancellationToken) is { } taken)
        {
            return TypedResults.ValidationProblem(taken);
        }

        http.Response.Headers.ETag = Revision.ETag(application.UpdatedAt);
        return TypedResults.Ok(ToDto(application));
    }

    /// <summary>
    /// Deletes the application with what is only its own: its OIDC client (with the client's tokens), its SAML
    /// service provider and its permissions. Roles (with their assignments, kept as history), separation-of-duty
    /// rules on its permissions and provisioning connectors (with their delivery history) are decisions of their
    /// own: while any is attached the answer is 409 naming them, and nothing is deleted.
    /// </summary>
    private static async Task<Results<NoContent, NotFound, ProblemHttpResult>> DeleteAsync(
        Guid id, IdentityHubDbContext db, IOpenIddictApplicationManager clients, ClientCache cache, AuditTrail audit, HttpContext http,
        CancellationToken cancellationToken)
    {
        var application = await db.Applications.SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (application is null)
        {
            return TypedResults.NotFound();
        }

        // RFC 9110 §13.1.1: a stale If-Match means the caller decided on a version that is gone.
        if (StaleIfMatch(http, application) is { } stale)
        {
            return stale;
        }

        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            // Roles, rules and connectors are created with an audit row: holding the audit head's lock, the check
            // below sees every one committed before, and none can be attached until this transaction ends (a cascade
            // would otherwise take a connector created in between, with its delivery history).
            await audit.SerializeAsync(cancellationToken);
            if (await AttachedAsync(db, application, cancellationToken) is { } attached)
            {
                return attached;
            }

            if (application.OidcClientId is { } clientId && await clients.FindByClientIdAsync(clientId, cancellationToken) is { } client)
            {
                await clients.DeleteAsync(client, cancellationToken);
            }

            db.Applications.Remove(application);
            await audit.RecordAsync("application.deleted", "application", application.Id.ToString(), ToDto(application), after: null, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Something not audited still refers to the application: the foreign key refused the delete.
            db.ChangeTracker.Clear();
            return await AttachedAsync(db, application, cancellationToken) ?? throw new InvalidOperationException("The application could not be deleted.");
        }

        cache.Invalidate(application.OidcClientId);
        return TypedResults.NoContent();
    }

    /// <summary>409 naming the roles, rules and connectors still attached to the application; null when none is.</summary>
    private static async Task<ProblemHttpResult?> AttachedAsync(IdentityHubDbContext db, Application application, CancellationToken cancellationToken)
    {
        var roles = await db.AccessRoles.AsNoTracking().Where(r => r.ApplicationId == application.Id)
            .Select(r => new { r.Name, Assignments = db.RoleAssignments.Count(a => a.RoleId == r.Id) })
            .OrderBy(r => r.Name).ToListAsync(cancellationToken);
        var permissions = db.Permissions.Where(p => p.ApplicationId == application.Id).Select(p => (Guid?)p.Id);
        var rules = await db.SeparationOfDutyRules.AsNoTracking()
            .Where(r => permissions.Contains(r.FirstPermissionId) || permissions.Contains(r.SecondPermissionId))
            .Select(r => r.Name).OrderBy(n => n).ToListAsync(cancellationToken);
        var connectors = await db.Connectors.AsNoTracking().Where(c => c.ApplicationId == application.Id)
            .Select(c => c.Name).OrderBy(n => n).ToListAsync(cancellationToken);
        if (roles.Count == 0 && rules.Count == 0 && connectors.Count == 0)
        {
            return null;
        }

        var parts = new List<string>();
        if (roles.Count > 0)
        {
            parts.Add($"role(s) {string.Join(", ", roles.Select(r => $"'{r.Name}' ({r.Assignments} assignment(s))"))}");
        }

        if (rules.Count > 0)
        {
            parts.Add($"separation-of-duty rule(s) {string.Join(", ", rules.Select(r => $"'{r}'"))} on its permissions");
        }

        if (connectors.Count > 0)
        {
            parts.Add($"provisioning connector(s) {string.Join(", ", connectors.Select(c => $"'{c}'"))}");
        }

        return TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: $"Application '{application.Name}' still has {string.Join("; ", parts)}.",
            detail: "Delete the roles (a role with assignments is kept as history, so end its use instead of deleting the application), the rules and the connectors first.",
            extensions: new Dictionary<string, object?>
            {
                ["roles"] = roles.Select(r => r.Name).ToList(),
                ["sodRules"] = rules,
                ["connectors"] = connectors,
            });
    }

    private static ProblemHttpResult? StaleIfMatch(HttpContext http, Application application)
    {
        var ifMatch = http.Request.Headers.IfMatch.ToString();
        return ifMatch.Length > 0 && ifMatch != "*" && ifMatch != Revision.ETag(application.UpdatedAt)
            ? TypedResults.Problem(
                statusCode: StatusCodes.Status412PreconditionFailed,
                title: "The application was changed by someone else",
                detail: "Read it again and repeat the change with the new ETag in If-Match.")
            : null;
    }

    private static async Task<Dictionary<string, string[]>> ValidateAsync(
        ApplicationRequest request, IdentityHubDbContext db, Guid? id, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            errors["name"] = ["name is required."];
        }
        else if (name.Length > Application.NameMaxLength)
        {
            errors["name"] = [$"name must be at most {Application.NameMaxLength} characters."];
        }
        else if (await db.Applications.AnyAsync(a => a.Name == name && a.Id != id, cancellationToken))
        {
            errors["name"] = NameTaken(name);
        }

        if (request.Description is { Length: > Application.DescriptionMaxLength })
        {
            errors["description"] = [$"description must be at most {Application.DescriptionMaxLength} characters."];
        }

        return errors;
    }

    private static string[] NameTaken(string name) => [$"An application named \"{name}\" already exists."];

    /// <summary>Saves the change with its audit event in one transaction; answers the name error when another request took the name.</summary>
    internal static async Task<Dictionary<string, string[]>?> SaveAuditedAsync(
        IdentityHubDbContext db, AuditTrail audit, Application application, string type, ApplicationDto? before, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await audit.RecordAsync(type, "application", application.Id.ToString(), before, ToDto(application), cancellationToken);
        if (await SaveUnlessNameTakenAsync(db, application, cancellationToken) is { } taken)
        {
            return taken;
        }

        await transaction.CommitAsync(cancellationToken);
        return null;
    }

    /// <summary>
    /// Saves, and answers like the validation check when another request took the name between the check and
    /// the save (the unique index refuses the second one).
    /// </summary>
    private static async Task<Dictionary<string, string[]>?> SaveUnlessNameTakenAsync(
        IdentityHubDbContext db, Application application, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return null;
        }
        catch (DbUpdateException)
        {
            if (await db.Applications.AsNoTracking().AnyAsync(a => a.Name == application.Name && a.Id != application.Id, cancellationToken))
            {
                return new Dictionary<string, string[]> { ["name"] = NameTaken(application.Name) };
            }

            throw;
        }
    }
}
