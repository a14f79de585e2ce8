using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.AdminApi;

public sealed record SodRuleRequest(
    string? Name, string? Description, Guid? FirstRoleId, Guid? SecondRoleId, Guid? FirstPermissionId, Guid? SecondPermissionId);

public sealed record SodRuleDto(
    Guid Id, string Name, string? Description, Guid? FirstRoleId, Guid? SecondRoleId, Guid? FirstPermissionId, Guid? SecondPermissionId,
    DateTimeOffset CreatedAt);

public sealed record SodViolationDto(Guid RuleId, string RuleName, string UserId, string UserName, Guid FirstAssignmentId, Guid SecondAssignmentId, string Message);

/// <summary>/sod-rules: pairs of roles or permissions no one may hold together, and who holds such a pair today.</summary>
public static class SodRulesApi
{
    private static readonly SortFields<SeparationOfDutyRule> Sort = new SortFields<SeparationOfDutyRule>("name")
        .Add("name", r => r.Name)
        .Add("createdAt", r => r.CreatedAt);

    public static void MapSodRulesApi(this IEndpointRouteBuilder api)
    {
        var rules = api.MapGroup("/sod-rules");
        rules.MapGet("/", ListAsync).WithSummary("List separation-of-duty rules");
        rules.MapGet("/violations", ViolationsAsync).WithSummary("List who breaks a separation-of-duty rule today");
        rules.MapGet("/{id:guid}", GetAsync).WithName("GetSodRule").WithSummary("Get a separation-of-duty rule");
        rules.MapPost("/", CreateAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Create a separation-of-duty rule");
        rules.MapDelete("/{id:guid}", DeleteAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Delete a separation-of-duty rule");
    }

    private static SodRuleDto ToDto(SeparationOfDutyRule r) => new(
        r.Id, r.Name, r.Description, r.FirstRoleId, r.SecondRoleId, r.FirstPermissionId, r.SecondPermissionId, r.CreatedAt);

    private static async Task<Results<Ok<Paged<SodRuleDto>>, ValidationProblem>> ListAsync(
        [AsParameters] ListQuery list, IdentityHubDbContext db, CancellationToken cancellationToken)
    {
        var query = db.SeparationOfDutyRules.AsNoTracking().WhereAnyContains(list.Search, r => r.Name, r => r.Description);

        return await Listing.PageAsync(query, list, Sort, ToDto, cancellationToken);
    }

    private static async Task<Results<Ok<SodRuleDto>, NotFound>> GetAsync(Guid id, IdentityHubDbContext db, CancellationToken cancellationToken)
    {
        var rule = await db.SeparationOfDutyRules.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
        return rule is null ? TypedResults.NotFound() : TypedResults.Ok(ToDto(rule));
    }

    private static async Task<CreatedAtRoute<SodRuleDto>> CreateAsync(
        SodRuleRequest request, SeparationOfDuty separation, CancellationToken cancellationToken)
    {
        var rule = await separation.CreateRuleAsync(
            new SodRuleInput(request.Name, request.Description, request.FirstRoleId, request.SecondRoleId, request.FirstPermissionId, request.SecondPermissionId),
            cancellationToken);
        return TypedResults.CreatedAtRoute(ToDto(rule), "GetSodRule", new { id = rule.Id });
    }

    private static async Task<NoContent> DeleteAsync(Guid id, SeparationOfDuty separation, CancellationToken cancellationToken)
    {
        await separation.DeleteRuleAsync(id, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>Users who hold both sides of a rule now (assignments granted before the rule existed, for instance).</summary>
    private static async Task<Ok<IReadOnlyList<SodViolationDto>>> ViolationsAsync(SeparationOfDuty separation, CancellationToken cancellationToken)
    {
        var violations = await separation.ViolationsAsync(cancellationToken);
        return TypedResults.Ok<IReadOnlyList<SodViolationDto>>([.. violations.Select(v => new SodViolationDto(
            v.RuleId, v.RuleName, v.UserId, v.UserName, v.FirstAssignmentId, v.SecondAssignmentId, v.Message))]);
    }
}
