using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Access;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IdentityHub.Server.AdminApi;

public sealed record SodRuleRequest(
    string? Name, string? Description, Guid? FirstRoleId, Guid? SecondRoleId, Guid? FirstPermissionId, Guid? SecondPermissionId);

/// <summary>A rule; <see cref="First"/> and <see cref="Second"/> name its two sides (a role or a permission, with its application).</summary>
public sealed record SodRuleDto(
    Guid Id, string Name, string? Description, Guid? FirstRoleId, Guid? SecondRoleId, Guid? FirstPermissionId, Guid? SecondPermissionId,
    DateTimeOffset CreatedAt, SodRuleSide? First, SodRuleSide? Second);

/// <summary>Someone holding both sides of a rule; <see cref="Message"/> names the two assignments by role, scope and dates.</summary>
public sealed record SodViolationDto(
    Guid RuleId, string RuleName, string UserId, string UserName, Guid FirstAssignmentId, Guid SecondAssignmentId, string Message, string UserDisplayName);

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

    private static SodRuleDto ToDto(SodRuleView v) => new(
        v.Rule.Id, v.Rule.Name, v.Rule.Description, v.Rule.FirstRoleId, v.Rule.SecondRoleId, v.Rule.FirstPermissionId, v.Rule.SecondPermissionId,
        v.Rule.CreatedAt, v.First, v.Second);

    private static async Task<Results<Ok<Paged<SodRuleDto>>, ValidationProblem>> ListAsync(
        [AsParameters] ListQuery list, SodRuleQueries queries, CancellationToken cancellationToken) =>
        await Listing.PageAsync(queries.Find(list.Search), list, Sort,
            async (rules, ct) => (IReadOnlyList<SodRuleDto>)[.. (await queries.NameAsync(rules, ct)).Select(ToDto)], cancellationToken);

    private static async Task<Results<Ok<SodRuleDto>, NotFound>> GetAsync(Guid id, SodRuleQueries queries, CancellationToken cancellationToken) =>
        await queries.GetAsync(id, cancellationToken) is { } rule ? TypedResults.Ok(ToDto(rule)) : TypedResults.NotFound();

    private static async Task<CreatedAtRoute<SodRuleDto>> CreateAsync(
        SodRuleRequest request, SeparationOfDuty separation, SodRuleQueries queries, CancellationToken cancellationToken)
    {
        var rule = await separation.CreateRuleAsync(
            new SodRuleInput(request.Name, request.Description, request.FirstRoleId, request.SecondRoleId, request.FirstPermissionId, request.SecondPermissionId),
            cancellationToken);
        var named = (await queries.NameAsync([rule], cancellationToken))[0];
        return TypedResults.CreatedAtRoute(ToDto(named), "GetSodRule", new { id = rule.Id });
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
            v.RuleId, v.RuleName, v.UserId, v.UserName, v.FirstAssignmentId, v.SecondAssignmentId, v.Message, v.UserDisplayName))]);
    }
}
