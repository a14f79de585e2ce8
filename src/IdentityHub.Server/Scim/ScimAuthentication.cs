using System.Diagnostics;
using System.Linq.Expressions;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Inbound;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Data.Inbound;
using IdentityHub.Provisioning.Inbound;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;

namespace IdentityHub.Server.Scim;

/// <summary>
/// The source a SCIM request comes from, and what it may see: people and departments in its subtrees, and whatever
/// it brought in itself. Set once per request by <see cref="ScimAuthentication"/>.
/// </summary>
public sealed class ScimCaller
{
    private InboundSource? _source;

    public InboundSource Source => _source ?? throw new InvalidOperationException("The SCIM request is not authenticated.");

    public IReadOnlyList<string> SubtreePaths { get; private set; } = [];

    public void Set(InboundSource source, IReadOnlyList<string> subtreePaths)
    {
        _source = source;
        SubtreePaths = subtreePaths;
    }

    /// <summary>Where someone the source creates without a department goes: its subtree's root, when it has exactly one.</summary>
    public string? DefaultDepartmentRef => SubtreePaths.Count == 1 ? SubtreePaths[0].TrimEnd('/').Split('/')[^1] : null;

    /// <summary>
    /// People this source may see: those it brought in, and those in its subtrees; never someone who left. RFC 7644 §3.6:
    /// a deleted resource answers 404 to every operation afterwards — IdentityHub keeps the person, marked as left, but
    /// not for SCIM.
    /// </summary>
    public Expression<Func<UserAccount, bool>> VisibleUsers()
    {
        var sourceId = (Guid?)Source.Id;
        var user = Expression.Parameter(typeof(UserAccount), "u");
        Expression visible = Expression.Equal(Expression.Property(user, nameof(UserAccount.SourceId)), Expression.Constant(sourceId, typeof(Guid?)));
        var path = Expression.Property(Expression.Property(user, nameof(UserAccount.Department)), nameof(Department.Path));
        foreach (var subtree in SubtreePaths)
        {
            visible = Expression.OrElse(visible, Expression.Call(path, StartsWith, Expression.Constant(subtree)));
        }

        var present = Expression.NotEqual(Expression.Property(user, nameof(UserAccount.Status)), Expression.Constant(UserStatus.Left));
        return Expression.Lambda<Func<UserAccount, bool>>(Expression.AndAlso(present, visible), user);
    }

    /// <summary>Departments this source may see: those it brought in, and those in its subtrees.</summary>
    public Expression<Func<Department, bool>> VisibleDepartments()
    {
        var sourceId = (Guid?)Source.Id;
        var department = Expression.Parameter(typeof(Department), "d");
        Expression visible = Expression.Equal(Expression.Property(department, nameof(Department.SourceId)), Expression.Constant(sourceId, typeof(Guid?)));
        var path = Expression.Property(department, nameof(Department.Path));
        foreach (var subtree in SubtreePaths)
        {
            visible = Expression.OrElse(visible, Expression.Call(path, StartsWith, Expression.Constant(subtree)));
        }

        return Expression.Lambda<Func<Department, bool>>(visible, department);
    }

    private static readonly System.Reflection.MethodInfo StartsWith = typeof(string).GetMethod(nameof(string.StartsWith), [typeof(string)])!;
}

/// <summary>
/// RFC 7644 §2: a SCIM client authenticates with the bearer token its source was issued (RFC 6750); without a
/// valid one the answer is 401 with <c>WWW-Authenticate: Bearer</c> in the SCIM error schema. The request then acts
/// as the source (an HR administrator of its subtrees), so the audit trail names it.
/// </summary>
public static class ScimAuthentication
{
    public static async ValueTask<object?> RequireSourceAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        var services = http.RequestServices;
        var header = http.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
        var source = await services.GetRequiredService<InboundSources>().AuthenticateAsync(token, http.RequestAborted);
        if (source is null)
        {
            return ScimErrors.Result(StatusCodes.Status401Unauthorized, null, "A SCIM source's bearer token is required (Authorization: Bearer <token>).");
        }

        var db = services.GetRequiredService<IdentityHubDbContext>();
        var actor = await SourceActor.ForAsync(db, source, http.RequestAborted);
        services.GetRequiredService<CurrentActor>().Value = actor with
        {
            IpAddress = http.Connection.RemoteIpAddress?.ToString(),
            UserAgent = http.Request.Headers[HeaderNames.UserAgent].ToString(),
            CorrelationId = Activity.Current?.TraceId.ToString() ?? http.TraceIdentifier,
        };
        services.GetRequiredService<ScimCaller>().Set(source, actor.SubtreePaths ?? []);
        return await next(context);
    }
}
