using IdentityHub.Core.Inbound;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Scim;

/// <summary>
/// RFC 7644 §3 on /Groups: a source's departments. Members are the people whose department it is: adding a member
/// moves that person into the department, removing one moves them up to its parent department (out of the tree
/// when it has none). DELETE removes the department, refused (409) while people are still in it.
/// </summary>
public static class ScimGroupsApi
{
    public static void MapScimGroupsApi(this IEndpointRouteBuilder endpoints)
    {
        var groups = endpoints.MapGroup("/Groups");
        groups.MapGet("", ListAsync);
        groups.MapPost("/.search", SearchAsync);
        groups.MapGet("/{id}", GetAsync);
        groups.MapPost("", CreateAsync);
        groups.MapPut("/{id}", ReplaceAsync);
        groups.MapPatch("/{id}", PatchAsync);
        groups.MapDelete("/{id}", DeleteAsync);
    }

    private static Task<IResult> ListAsync(HttpContext http, IdentityHubDbContext db, ScimCaller caller, CancellationToken cancellationToken) =>
        RespondListAsync(ScimRequests.ListOf(http), http, db, caller, cancellationToken);

    private static async Task<IResult> SearchAsync(HttpContext http, IdentityHubDbContext db, ScimCaller caller, CancellationToken cancellationToken) =>
        await RespondListAsync(ScimRequests.ListOf(await ScimRequests.ReadBodyAsync(http)), http, db, caller, cancellationToken);

    private static async Task<IResult> RespondListAsync(ScimListRequest list, HttpContext http, IdentityHubDbContext db, ScimCaller caller, CancellationToken cancellationToken)
    {
        var query = db.Departments.AsNoTracking().Where(caller.VisibleDepartments());
        if (!string.IsNullOrWhiteSpace(list.Filter))
        {
            query = query.Where(ScimFilter.ToExpression<Department>(ScimFilter.Parse(list.Filter), ScimGroupMapping.Attributes.Find));
        }

        var sortBy = list.SortBy is null ? null
            : ScimGroupMapping.Attributes.Find(list.SortBy) ?? throw ScimException.InvalidValue($"Groups cannot be sorted by '{list.SortBy}'.");
        var total = await query.CountAsync(cancellationToken);
        var page = await ScimSorting.OrderBy(query, sortBy, list.Descending, d => d.Code).Skip(list.StartIndex - 1).Take(list.Count)
            .Select(d => new { Department = d, ParentName = d.Parent != null ? d.Parent.Name : null })
            .ToListAsync(cancellationToken);
        var withMembers = !list.ExcludedAttributes.Contains("members", StringComparer.OrdinalIgnoreCase);
        var ids = page.Select(p => (Guid?)p.Department.Id).ToList();
        var members = withMembers
            ? (await db.Users.AsNoTracking().Where(caller.VisibleUsers()).Where(u => ids.Contains(u.DepartmentId))
                .Select(u => new { u.DepartmentId, u.Id, u.DisplayName }).ToListAsync(cancellationToken)).ToLookup(m => m.DepartmentId)
            : null;
        var baseUrl = ScimRequests.BaseUrl(http);
        return new ScimJsonResult(ScimRequests.ListResponse(total, list.StartIndex, page.Select(p => ScimRequests.Project(ScimGroupMapping.ToScim(
            new ScimGroupView(p.Department, p.ParentName, members is null ? [] : [.. members[p.Department.Id].OrderBy(m => m.Id, StringComparer.Ordinal).Select(m => (m.Id, m.DisplayName))]),
            baseUrl, withMembers), list))));
    }

    private static async Task<IResult> GetAsync(string id, HttpContext http, IdentityHubDbContext db, ScimCaller caller, CancellationToken cancellationToken)
    {
        var view = await FindAsync(db, caller, id, cancellationToken);
        var etag = ScimUserMapping.ETagOf(view.Department.UpdatedAt);
        if (ScimRequests.NotModified(http, view.Department.UpdatedAt))
        {
            return new ScimJsonResult(null, StatusCodes.Status304NotModified, etag);
        }

        return new ScimJsonResult(ScimRequests.Project(ScimGroupMapping.ToScim(view, ScimRequests.BaseUrl(http)), ScimRequests.ListOf(http)), etag: etag);
    }

    private static async Task<IResult> CreateAsync(HttpContext http, IdentityHubDbContext db, ScimCaller caller, ScimWrites writes, CancellationToken cancellationToken)
    {
        var body = await ScimRequests.ReadBodyAsync(http);
        var department = ScimGroupMapping.ToDepartment(body);
        var members = ScimGroupMapping.MembersOf(body) ?? [];
        var people = await MembersToMoveAsync(db, caller, members, cancellationToken);
        var result = await writes.CountedAsync(async intake =>
        {
            await EnsureNewAsync(db, caller, department, cancellationToken);
            return await intake.ApplyDepartmentAsync(caller.Source, department, departmentId: null, cancellationToken);
        }, cancellationToken);
        await MoveAsync(writes, caller, people, result.Value.Id.ToString(), cancellationToken);
        return await RespondAsync(db, caller, http, result.Value.Id, StatusCodes.Status201Created, cancellationToken);
    }

    private static async Task<IResult> ReplaceAsync(string id, HttpContext http, IdentityHubDbContext db, ScimCaller caller, ScimWrites writes, CancellationToken cancellationToken)
    {
        var body = await ScimRequests.ReadBodyAsync(http);
        var current = await FindAsync(db, caller, id, cancellationToken);
        ScimRequests.CheckIfMatch(http, current.Department.UpdatedAt);
        var department = ScimGroupMapping.ToDepartment(body);
        // RFC 7644 §3.5.1: PUT replaces; a body without members leaves membership alone, as the people's own records own it.
        await ApplyAsync(db, caller, writes, current, department, ScimGroupMapping.MembersOf(body), cancellationToken);
        return await RespondAsync(db, caller, http, current.Department.Id, StatusCodes.Status200OK, cancellationToken);
    }

    private static async Task<IResult> PatchAsync(string id, HttpContext http, IdentityHubDbContext db, ScimCaller caller, ScimWrites writes, CancellationToken cancellationToken)
    {
        var body = await ScimRequests.ReadBodyAsync(http);
        var current = await FindAsync(db, caller, id, cancellationToken);
        ScimRequests.CheckIfMatch(http, current.Department.UpdatedAt);
        var resource = ScimGroupMapping.ToScim(current, ScimRequests.BaseUrl(http));
        ScimPatch.Apply(resource, body, [ScimSchemas.HubGroup]);
        var department = ScimGroupMapping.ToDepartment(resource);
        await ApplyAsync(db, caller, writes, current, department, ScimGroupMapping.MembersOf(resource) ?? [], cancellationToken);
        return await RespondAsync(db, caller, http, current.Department.Id, StatusCodes.Status200OK, cancellationToken);
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext http, IdentityHubDbContext db, ScimCaller caller, ScimWrites writes, CancellationToken cancellationToken)
    {
        var current = await FindAsync(db, caller, id, cancellationToken);
        ScimRequests.CheckIfMatch(http, current.Department.UpdatedAt);
        await writes.CountedAsync(async intake =>
        {
            await intake.RemoveDepartmentAsync(caller.Source, current.Department.Id, cancellationToken);
            // A removed department counts with what left the organisation.
            return new IntakeResult<Guid>(current.Department.Id, IntakeOutcome.Left);
        }, cancellationToken);
        return new ScimJsonResult(null, StatusCodes.Status204NoContent);
    }

    /// <summary>Writes the department, then moves people in (new members) and out to the parent (members no longer listed).</summary>
    private static async Task ApplyAsync(IdentityHubDbContext db, ScimCaller caller, ScimWrites writes, ScimGroupView current, SourceDepartment department,
        HashSet<string>? members, CancellationToken cancellationToken)
    {
        var before = current.Members.Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        var joining = members is null ? [] : await MembersToMoveAsync(db, caller, members.Except(before), cancellationToken);
        var leaving = members is null ? [] : await MembersToMoveAsync(db, caller, before.Except(members), cancellationToken);
        await writes.CountedAsync(intake => intake.ApplyDepartmentAsync(caller.Source, department, current.Department.Id, cancellationToken), cancellationToken);
        await MoveAsync(writes, caller, joining, current.Department.Id.ToString(), cancellationToken);
        var parent = await db.Departments.AsNoTracking().Where(d => d.Id == current.Department.Id).Select(d => d.ParentId).SingleAsync(cancellationToken);
        await MoveAsync(writes, caller, leaving, parent?.ToString(), cancellationToken);
    }

    /// <summary>The people a membership change names, all checked before anything is written: each must be visible to this source.</summary>
    private static async Task<List<UserAccount>> MembersToMoveAsync(IdentityHubDbContext db, ScimCaller caller, IEnumerable<string> ids, CancellationToken cancellationToken)
    {
        var wanted = ids.ToList();
        if (wanted.Count == 0)
        {
            return [];
        }

        var found = await db.Users.AsNoTracking().Where(caller.VisibleUsers()).Where(u => wanted.Contains(u.Id)).ToListAsync(cancellationToken);
        var missing = wanted.Except(found.Select(u => u.Id), StringComparer.Ordinal).FirstOrDefault();
        return missing is null ? found : throw ScimException.InvalidValue($"members: no user with id '{missing}' is known to this source.");
    }

    private static async Task MoveAsync(ScimWrites writes, ScimCaller caller, List<UserAccount> people, string? departmentRef, CancellationToken cancellationToken)
    {
        foreach (var person in people)
        {
            await writes.CountedAsync(intake => intake.ApplyPersonAsync(caller.Source, ScimUserMapping.PersonOf(person, departmentRef), person.Id, cancellationToken), cancellationToken);
        }
    }

    /// <summary>RFC 7644 §3.3: a department this source already has (its id for it, or the code) is 409 uniqueness.</summary>
    private static async Task EnsureNewAsync(IdentityHubDbContext db, ScimCaller caller, SourceDepartment department, CancellationToken cancellationToken)
    {
        var sourceId = caller.Source.Id;
        if (department.ExternalId is { } externalId && await db.Departments.AnyAsync(d => d.SourceId == sourceId && d.ExternalId == externalId, cancellationToken))
        {
            throw ScimException.Uniqueness($"A group with the externalId '{externalId}' already exists.");
        }

        if ((department.Code ?? department.ExternalId) is { } code && await db.Departments.AnyAsync(d => d.Code == code, cancellationToken))
        {
            throw ScimException.Uniqueness($"A group with the code '{code}' already exists.");
        }
    }

    private static async Task<IResult> RespondAsync(IdentityHubDbContext db, ScimCaller caller, HttpContext http, Guid id, int status, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var view = await FindAsync(db, caller, id.ToString(), cancellationToken);
        var resource = ScimGroupMapping.ToScim(view, ScimRequests.BaseUrl(http));
        return new ScimJsonResult(resource, status, ScimUserMapping.ETagOf(view.Department.UpdatedAt),
            status == StatusCodes.Status201Created ? resource["meta"]!["location"]!.GetValue<string>() : null);
    }

    private static async Task<ScimGroupView> FindAsync(IdentityHubDbContext db, ScimCaller caller, string id, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var departmentId))
        {
            throw ScimException.NotFound("group", id);
        }

        var found = await db.Departments.AsNoTracking().Where(caller.VisibleDepartments()).Where(d => d.Id == departmentId)
            .Select(d => new { Department = d, ParentName = d.Parent != null ? d.Parent.Name : null })
            .SingleOrDefaultAsync(cancellationToken) ?? throw ScimException.NotFound("group", id);
        var members = await db.Users.AsNoTracking().Where(caller.VisibleUsers()).Where(u => u.DepartmentId == departmentId)
            .OrderBy(u => u.Id).Select(u => new { u.Id, u.DisplayName }).ToListAsync(cancellationToken);
        return new ScimGroupView(found.Department, found.ParentName, [.. members.Select(m => (m.Id, m.DisplayName))]);
    }

}
