using IdentityHub.Core.Inbound;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Scim;

/// <summary>
/// RFC 7644 §3 on /Users: a source creates, reads, replaces, patches and ends the people in its subtrees. Every write
/// is the organisation intake's; DELETE marks the person as left (never a hard delete: IdentityHub keeps them as left,
/// and SCIM answers 404 for them from then on, RFC 7644 §3.6).
/// </summary>
public static class ScimUsersApi
{
    public static void MapScimUsersApi(this IEndpointRouteBuilder endpoints)
    {
        var users = endpoints.MapGroup("/Users");
        users.MapGet("", ListAsync);
        users.MapPost("/.search", SearchAsync);
        users.MapGet("/{id}", GetAsync);
        users.MapPost("", CreateAsync);
        users.MapPut("/{id}", ReplaceAsync);
        users.MapPatch("/{id}", PatchAsync);
        users.MapDelete("/{id}", DeleteAsync);
    }

    private static Task<IResult> ListAsync(HttpContext http, IdentityHubDbContext db, ScimCaller caller, CancellationToken cancellationToken) =>
        RespondListAsync(ScimRequests.ListOf(http), http, db, caller, cancellationToken);

    private static async Task<IResult> SearchAsync(HttpContext http, IdentityHubDbContext db, ScimCaller caller, CancellationToken cancellationToken) =>
        await RespondListAsync(ScimRequests.ListOf(await ScimRequests.ReadBodyAsync(http)), http, db, caller, cancellationToken);

    private static async Task<IResult> RespondListAsync(ScimListRequest list, HttpContext http, IdentityHubDbContext db, ScimCaller caller, CancellationToken cancellationToken)
    {
        var query = Visible(db, caller);
        if (!string.IsNullOrWhiteSpace(list.Filter))
        {
            query = query.Where(ScimFilter.ToExpression<UserAccount>(ScimFilter.Parse(list.Filter), ScimUserMapping.Attributes.Find));
        }

        var sortBy = list.SortBy is null ? null
            : ScimUserMapping.Attributes.Find(list.SortBy) ?? throw ScimException.InvalidValue($"Users cannot be sorted by '{list.SortBy}'.");
        var total = await query.CountAsync(cancellationToken);
        var page = await Views(db, ScimSorting.OrderBy(query, sortBy, list.Descending, u => u.Id).Skip(list.StartIndex - 1).Take(list.Count))
            .ToListAsync(cancellationToken);
        var baseUrl = ScimRequests.BaseUrl(http);
        return new ScimJsonResult(ScimRequests.ListResponse(total, list.StartIndex,
            page.Select(v => ScimRequests.Project(ScimUserMapping.ToScim(v, baseUrl), list))));
    }

    private static async Task<IResult> GetAsync(string id, HttpContext http, IdentityHubDbContext db, ScimCaller caller, CancellationToken cancellationToken)
    {
        var view = await FindAsync(db, caller, id, cancellationToken);
        var etag = ScimUserMapping.ETagOf(view.User.UpdatedAt);
        if (ScimRequests.NotModified(http, view.User.UpdatedAt))
        {
            return new ScimJsonResult(null, StatusCodes.Status304NotModified, etag);
        }

        return new ScimJsonResult(ScimRequests.Project(ScimUserMapping.ToScim(view, ScimRequests.BaseUrl(http)), ScimRequests.ListOf(http)), etag: etag);
    }

    private static async Task<IResult> CreateAsync(HttpContext http, IdentityHubDbContext db, ScimCaller caller, ScimWrites writes, CancellationToken cancellationToken)
    {
        var body = await ScimRequests.ReadBodyAsync(http);
        var person = ScimUserMapping.ToPerson(body, current: null);
        if (person.DepartmentRef is null && caller.DefaultDepartmentRef is { } department)
        {
            person = person with { DepartmentRef = department };
        }
        var result = await writes.CountedAsync(async intake =>
        {
            await EnsureNewAsync(db, caller, person, cancellationToken);
            return await intake.ApplyPersonAsync(caller.Source, person, userId: null, cancellationToken);
        }, cancellationToken);
        return await RespondAsync(db, caller, http, result.Value.Id, StatusCodes.Status201Created, cancellationToken);
    }

    private static async Task<IResult> ReplaceAsync(string id, HttpContext http, IdentityHubDbContext db, ScimCaller caller, ScimWrites writes, CancellationToken cancellationToken)
    {
        var body = await ScimRequests.ReadBodyAsync(http);
        var current = await FindAsync(db, caller, id, cancellationToken);
        ScimRequests.CheckIfMatch(http, current.User.UpdatedAt);
        var person = ScimUserMapping.ToPerson(body, current);
        await writes.CountedAsync(intake => intake.ApplyPersonAsync(caller.Source, person, id, cancellationToken), cancellationToken);
        return await RespondAsync(db, caller, http, id, StatusCodes.Status200OK, cancellationToken);
    }

    private static async Task<IResult> PatchAsync(string id, HttpContext http, IdentityHubDbContext db, ScimCaller caller, ScimWrites writes, CancellationToken cancellationToken)
    {
        var body = await ScimRequests.ReadBodyAsync(http);
        var current = await FindAsync(db, caller, id, cancellationToken);
        ScimRequests.CheckIfMatch(http, current.User.UpdatedAt);
        var resource = ScimUserMapping.ToScim(current, ScimRequests.BaseUrl(http));
        ScimPatch.Apply(resource, body, [ScimSchemas.EnterpriseUser, ScimSchemas.HubUser]);
        var person = ScimUserMapping.ToPerson(resource, current);
        await writes.CountedAsync(intake => intake.ApplyPersonAsync(caller.Source, person, id, cancellationToken), cancellationToken);
        return await RespondAsync(db, caller, http, id, StatusCodes.Status200OK, cancellationToken);
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext http, IdentityHubDbContext db, ScimCaller caller, ScimWrites writes, CancellationToken cancellationToken)
    {
        var current = await FindAsync(db, caller, id, cancellationToken);
        ScimRequests.CheckIfMatch(http, current.User.UpdatedAt);
        await writes.CountedAsync(intake => intake.MarkLeftAsync(caller.Source, id, cancellationToken), cancellationToken);
        return new ScimJsonResult(null, StatusCodes.Status204NoContent);
    }

    private static async Task<IResult> RespondAsync(IdentityHubDbContext db, ScimCaller caller, HttpContext http, string id, int status, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var view = await FindAsync(db, caller, id, cancellationToken);
        var resource = ScimUserMapping.ToScim(view, ScimRequests.BaseUrl(http));
        return new ScimJsonResult(resource, status, ScimUserMapping.ETagOf(view.User.UpdatedAt),
            status == StatusCodes.Status201Created ? resource["meta"]!["location"]!.GetValue<string>() : null);
    }

    /// <summary>RFC 7644 §3.3: creating someone who exists (same userName, employee number, or this source's id) is 409 uniqueness.</summary>
    private static async Task EnsureNewAsync(IdentityHubDbContext db, ScimCaller caller, SourcePerson person, CancellationToken cancellationToken)
    {
        var sourceId = caller.Source.Id;
        var userName = person.UserName ?? person.EmployeeNumber ?? person.ExternalId;
        var normalized = userName?.ToUpperInvariant();
        if (userName is not null && await db.Users.AnyAsync(u => u.NormalizedUserName == normalized, cancellationToken))
        {
            throw ScimException.Uniqueness($"A user with the userName '{userName}' already exists.");
        }

        if (person.EmployeeNumber is { } employeeNumber && await db.Users.AnyAsync(u => u.EmployeeNumber == employeeNumber, cancellationToken))
        {
            throw ScimException.Uniqueness($"A user with the employeeNumber '{employeeNumber}' already exists.");
        }

        if (person.ExternalId is { } externalId && await db.Users.AnyAsync(u => u.SourceId == sourceId && u.ExternalId == externalId, cancellationToken))
        {
            throw ScimException.Uniqueness($"A user with the externalId '{externalId}' already exists.");
        }
    }

    private static IQueryable<UserAccount> Visible(IdentityHubDbContext db, ScimCaller caller) => db.Users.AsNoTracking().Where(caller.VisibleUsers());

    private static IQueryable<ScimUserView> Views(IdentityHubDbContext db, IQueryable<UserAccount> users) =>
        users.Select(u => new ScimUserView(u, u.Department!.Name, db.Users.Where(m => m.Id == u.ManagerId).Select(m => m.DisplayName).FirstOrDefault()));

    /// <summary>The person, when this source may see them; anyone else is 404 (their existence is not this source's business).</summary>
    private static async Task<ScimUserView> FindAsync(IdentityHubDbContext db, ScimCaller caller, string id, CancellationToken cancellationToken) =>
        await Views(db, Visible(db, caller).Where(u => u.Id == id)).SingleOrDefaultAsync(cancellationToken)
        ?? throw ScimException.NotFound("user", id);
}
