using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Inbound;
using IdentityHub.Data;
using IdentityHub.Provisioning.Inbound;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Scim;

/// <summary>What a SCIM call answered: status, headers and the JSON body (null when empty).</summary>
internal sealed record ScimReply(HttpStatusCode Status, JsonObject? Body, HttpResponseHeaders Headers, string? ContentType)
{
    public string Text(string name) => Body?[name]?.GetValue<string>() ?? throw new InvalidOperationException($"No '{name}' in {Body?.ToJsonString()}");
}

/// <summary>How many people, departments and audit events there are: a refused request changes none of them.</summary>
internal sealed record WorldCounts(int Users, int Departments, int AuditEvents);

/// <summary>
/// One source's world: a root department the source writes into (its subtree), an outside department with a person
/// the source may not see, the source with every attribute owned, and a client carrying its bearer token.
/// </summary>
internal sealed class ScimWorld(IdentityHubFactory factory, string prefix, Guid sourceId, string token, Guid rootId, Guid outsideId, string outsiderId)
{
    public const string UserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
    public const string EnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    public const string GroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group";
    public const string HubGroupSchema = "urn:ietf:params:scim:schemas:extension:identityhub:2.0:Group";
    public const string PatchSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

    public string Prefix => prefix;

    public Guid SourceId => sourceId;

    public string Token => token;

    public Guid RootId => rootId;

    public Guid OutsideId => outsideId;

    public string OutsiderId => outsiderId;

    public string RootCode => prefix + "-root";

    public static async Task<ScimWorld> CreateAsync(IdentityHubFactory factory, IReadOnlyList<string>? owned = null)
    {
        var prefix = "s" + Guid.NewGuid().ToString("N")[..8];
        await using var scope = factory.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var departments = services.GetRequiredService<Departments>();
        var root = await departments.CreateAsync(new DepartmentInput(prefix + "-root", prefix + " Root", null), CancellationToken.None);
        var outside = await departments.CreateAsync(new DepartmentInput(prefix + "-out", prefix + " Outside", null), CancellationToken.None);
        var outsider = await services.GetRequiredService<UserDirectory>().CreateAsync(
            new UserInput(prefix + "-outsider", "Outsider " + prefix, prefix + "-outsider@example.test", null, prefix + "-E-out", outside.Id, null), null, CancellationToken.None);
        var created = await services.GetRequiredService<InboundSources>().CreateAsync(new InboundSourceInput(
            "HR " + prefix, "scim", [root.Id], owned ?? [SourceAttributes.UserName, SourceAttributes.DisplayName, SourceAttributes.Email, SourceAttributes.PhoneNumber,
                SourceAttributes.EmployeeNumber, SourceAttributes.Department, SourceAttributes.Manager, SourceAttributes.Status], "refuse"), CancellationToken.None);
        return new ScimWorld(factory, prefix, created.Source.Id, created.Token!.Token, root.Id, outside.Id, outsider.Id);
    }

    public HttpClient Client(string? bearer = null)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer ?? token);
        return client;
    }

    public async Task<ScimReply> SendAsync(HttpMethod method, string path, JsonNode? body = null, string? ifMatch = null, string? ifNoneMatch = null, string? bearer = null)
    {
        using var client = Client(bearer);
        using var request = new HttpRequestMessage(method, "/scim/v2" + path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/scim+json");
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        return await ReplyOfAsync(await client.SendAsync(request));
    }

    public static async Task<ScimReply> ReplyOfAsync(HttpResponseMessage response)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            return new ScimReply(response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text) as JsonObject, response.Headers,
                response.Content.Headers.ContentType?.MediaType);
        }
    }

    /// <summary>A SCIM User body in RFC 7643 §8.2 shape for a person called <paramref name="name"/> in the source's root department.</summary>
    public JsonObject User(string name, string? department = null, string? manager = null, bool active = true)
    {
        var enterprise = new JsonObject { ["employeeNumber"] = $"{prefix}-E-{name}", ["department"] = department ?? RootCode };
        if (manager is not null)
        {
            enterprise["manager"] = new JsonObject { ["value"] = manager };
        }

        return new JsonObject
        {
            ["schemas"] = new JsonArray(UserSchema, EnterpriseSchema),
            ["externalId"] = $"{prefix}-x-{name}",
            ["userName"] = $"{prefix}-{name}",
            ["name"] = new JsonObject { ["formatted"] = $"{name} {prefix}" },
            ["displayName"] = $"{name} {prefix}",
            ["emails"] = new JsonArray(new JsonObject { ["value"] = $"{name}@{prefix}.example.test", ["type"] = "work", ["primary"] = true }),
            ["phoneNumbers"] = new JsonArray(new JsonObject { ["value"] = "+86 10 5555 0101", ["type"] = "work" }),
            ["active"] = active,
            [EnterpriseSchema] = enterprise,
        };
    }

    public async Task<JsonObject> CreateUserAsync(string name, string? manager = null, bool active = true)
    {
        var reply = await SendAsync(HttpMethod.Post, "/Users", User(name, manager: manager, active: active));
        Assert.True(reply.Status == HttpStatusCode.Created, reply.Body?.ToJsonString());
        return reply.Body!;
    }

    public static JsonObject Patch(params JsonObject[] operations) =>
        new() { ["schemas"] = new JsonArray(PatchSchema), ["Operations"] = new JsonArray([.. operations]) };

    public static JsonObject Op(string op, string? path, JsonNode? value)
    {
        var operation = new JsonObject { ["op"] = op };
        if (path is not null)
        {
            operation["path"] = path;
        }

        if (value is not null)
        {
            operation["value"] = value;
        }

        return operation;
    }

    public async Task<WorldCounts> CountsAsync()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        return new WorldCounts(await db.Users.CountAsync(), await db.Departments.CountAsync(), await db.AuditEvents.CountAsync());
    }

    public async Task<T> WithDbAsync<T>(Func<IdentityHubDbContext, Task<T>> read)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await read(scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>());
    }

    public async Task WithServicesAsync(Func<IServiceProvider, Task> act)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        await act(scope.ServiceProvider);
    }
}

internal static class ScimJsonText
{
    public static string Text(this JsonObject json, string name) => json[name]?.GetValue<string>() ?? throw new InvalidOperationException($"No '{name}' in {json.ToJsonString()}");
}
