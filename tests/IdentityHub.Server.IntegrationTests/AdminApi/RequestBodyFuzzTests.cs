using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Core.Directory;
using IdentityHub.Server.IntegrationTests.Saml;
using static IdentityHub.Server.IntegrationTests.AdminApi.AdminCallers;

namespace IdentityHub.Server.IntegrationTests.AdminApi;

/// <summary>
/// Every write operation of the OpenAPI document, fed hostile bodies on a valid request (real ids in the path, every
/// other field valid): malformed JSON, 100-deep nesting, a null in each array, an empty array, 10,000 characters in each
/// string. None may be a 5xx; every refusal is a problem document, and a refusal of a field names that field.
/// </summary>
public sealed class RequestBodyFuzzTests(SqliteFactory factory) : IClassFixture<SqliteFactory>
{
    private const string Base = "/api/admin/v1";

    /// <summary>A fresh, valid request per operation: the path with real ids and a body the API accepts.</summary>
    private static readonly Dictionary<string, Func<HttpClient, Task<(string Path, JsonObject Body)>>> Valid = new(StringComparer.Ordinal)
    {
        ["POST /applications"] = _ => Task.FromResult(("/applications", Body(new { name = NewCode("Fz") }))),
        ["PUT /applications/{id}"] = async admin => ($"/applications/{await AdminApiClient.CreateApplicationAsync(admin)}", Body(new { name = NewCode("Fz") })),
        ["PUT /applications/{id}/oidc"] = async admin => ($"/applications/{await AdminApiClient.CreateApplicationAsync(admin)}/oidc", Body(AdminApiClient.ServiceClient())),
        ["POST /applications/{applicationId}/permissions"] = async admin =>
            ($"/applications/{await AdminApiClient.CreateApplicationAsync(admin)}/permissions", Body(new { name = NewCode("fz"), description = "d", parameters = new Dictionary<string, string> { ["limit"] = "1" } })),
        ["PUT /applications/{applicationId}/permissions/{id}"] = async admin =>
        {
            var (application, permission, _) = await CreateRoleAsync(admin);
            return ($"/applications/{application}/permissions/{permission}", Body(new { name = NewCode("fz"), description = "d" }));
        },
        ["POST /roles"] = async admin =>
        {
            var (application, permission, _) = await CreateRoleAsync(admin);
            return ("/roles", Body(new { applicationId = application, name = NewCode("fz"), displayName = "Fz", permissions = new[] { new { permissionId = permission } } }));
        },
        ["PUT /roles/{id}"] = async admin =>
        {
            var (application, permission, role) = await CreateRoleAsync(admin);
            return ($"/roles/{role}", Body(new { applicationId = application, name = NewCode("fz"), displayName = "Fz", permissions = new[] { new { permissionId = permission } } }));
        },
        ["POST /users"] = _ => Task.FromResult(("/users", UserBody())),
        ["PUT /users/{id}"] = async admin => ($"/users/{await CreateUserAsync(admin)}", UserBody()),
        ["POST /users/{id}/suspend"] = async admin => ($"/users/{await CreateUserAsync(admin)}/suspend", Body(new { reason = "fuzz" })),
        ["POST /users/{id}/leave"] = async admin => ($"/users/{await CreateUserAsync(admin)}/leave", Body(new { reason = "fuzz" })),
        ["POST /users/{id}/password"] = async admin =>
            ($"/users/{await CreateUserAsync(admin)}/password", Body(new { password = "Fz-" + Guid.NewGuid().ToString("N") + "!A1", mustChange = true })),
        ["PUT /users/{id}/admin-roles"] = async admin =>
            ($"/users/{await CreateUserAsync(admin)}/admin-roles", Body(new { roles = new[] { AdminRoles.Auditor }, administeredDepartments = new[] { await CreateDepartmentAsync(admin) } })),
        ["POST /departments"] = _ => Task.FromResult(("/departments", Body(new { code = NewCode("D"), name = NewCode("Dept") }))),
        ["PUT /departments/{id}"] = async admin => ($"/departments/{await CreateDepartmentAsync(admin)}", Body(new { code = NewCode("D"), name = NewCode("Dept") })),
        ["POST /departments/{id}/move"] = async admin => ($"/departments/{await CreateDepartmentAsync(admin)}/move", Body(new { parentId = await CreateDepartmentAsync(admin) })),
        ["PUT /departments/{id}/mfa"] = async admin => ($"/departments/{await CreateDepartmentAsync(admin)}/mfa", Body(new { requireMfa = true })),
        ["POST /assignments"] = async admin =>
        {
            var (_, _, role) = await CreateRoleAsync(admin);
            return ("/assignments", Body(new { userId = await CreateUserAsync(admin), roleId = role, reason = "fuzz" }));
        },
        ["POST /assignments/{id}/end"] = async admin =>
        {
            var (_, _, role) = await CreateRoleAsync(admin);
            var assignment = await PostAsync(admin, $"{Base}/assignments", new { userId = await CreateUserAsync(admin), roleId = role, reason = "fuzz" });
            return ($"/assignments/{assignment.GetProperty("id").GetGuid()}/end", Body(new { reason = "fuzz" }));
        },
        ["POST /sod-rules"] = async admin =>
        {
            var (_, _, first) = await CreateRoleAsync(admin);
            var (_, _, second) = await CreateRoleAsync(admin);
            return ("/sod-rules", Body(new { name = NewCode("Sod"), description = "d", firstRoleId = first, secondRoleId = second }));
        },
        ["PUT /applications/{id}/saml"] = async admin =>
            ($"/applications/{await AdminApiClient.CreateApplicationAsync(admin)}/saml", Body(new SamlTestSp().Registration())),
        ["POST /applications/{id}/saml/metadata"] = async admin =>
            ($"/applications/{await AdminApiClient.CreateApplicationAsync(admin)}/saml/metadata", Body(new { metadataXml = new SamlTestSp().Metadata() })),
        ["POST /applications/{id}/connectors"] = async admin =>
            ($"/applications/{await AdminApiClient.CreateApplicationAsync(admin)}/connectors", ConnectorBody()),
        ["PUT /connectors/{id}"] = async admin =>
        {
            var application = await AdminApiClient.CreateApplicationAsync(admin);
            var connector = await PostAsync(admin, $"{Base}/applications/{application}/connectors", ConnectorBody());
            return ($"/connectors/{connector.GetProperty("id").GetGuid()}", ConnectorBody());
        },
        ["POST /sources"] = async admin => ("/sources", Body(new { name = NewCode("Src"), kind = "scim", subtrees = new[] { await CreateDepartmentAsync(admin) } })),
        ["PUT /sources/{id}"] = async admin =>
        {
            var department = await CreateDepartmentAsync(admin);
            var source = await PostAsync(admin, $"{Base}/sources", new { name = NewCode("Src"), kind = "scim", subtrees = new[] { department } });
            return ($"/sources/{source.GetProperty("id").GetGuid()}", Body(new { name = NewCode("Src"), subtrees = new[] { department } }));
        },
        ["POST /sources/{id}/runs"] = async admin =>
        {
            var source = await PostAsync(admin, $"{Base}/sources", new { name = NewCode("Src"), kind = "scim", subtrees = new[] { await CreateDepartmentAsync(admin) } });
            return ($"/sources/{source.GetProperty("id").GetGuid()}/runs", Body(new { kind = "dry-run" }));
        },
    };

    [Fact]
    public async Task EveryWriteOperation_HostileBodies_AnswerProblemsNamingTheField()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        using var document = JsonDocument.Parse(await factory.CreateClient().GetStringAsync("/api/docs/openapi/v1.json"));
        var schemas = document.RootElement.GetProperty("components").GetProperty("schemas");
        var failures = new List<string>();
        var fed = 0;

        foreach (var (operation, bodySchema) in WriteOperationsWithJsonBodies(document.RootElement, schemas))
        {
            if (!Valid.TryGetValue(operation, out var valid))
            {
                failures.Add($"{operation}: no valid request in this test; add one so the operation is fuzzed.");
                continue;
            }

            var method = new HttpMethod(operation.Split(' ')[0]);
            foreach (var hostile in HostileBodies(bodySchema, schemas))
            {
                var (path, body) = await valid(admin);
                var text = hostile.Make(body);
                using var request = new HttpRequestMessage(method, Base + path) { Content = new StringContent(text, Encoding.UTF8, "application/json") };
                using var response = await admin.SendAsync(request);
                fed++;
                var problem = await CheckAsync(response, hostile);
                if (problem is not null)
                {
                    failures.Add($"{operation} with {hostile.Name}: {problem}");
                }
            }
        }

        Assert.True(fed > 100, $"Only {fed} hostile requests were sent.");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    /// <summary>What is wrong with the answer, or null when it is right.</summary>
    private static async Task<string?> CheckAsync(HttpResponseMessage response, Hostile hostile)
    {
        var status = (int)response.StatusCode;
        var content = await response.Content.ReadAsStringAsync();
        if (status >= 500)
        {
            return $"{status} {content}";
        }

        if (status < 400)
        {
            return hostile.MustRefuse ? $"accepted ({status}) instead of 400" : null;
        }

        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return $"{status} as {response.Content.Headers.ContentType?.MediaType}, not a problem document: {content}";
        }

        using var problem = JsonDocument.Parse(content);
        if (hostile.MustRefuse && status != 400)
        {
            return $"{status} instead of 400: {content}";
        }

        if (hostile.Field is { } field && !Names(problem.RootElement, field))
        {
            return $"{status} does not name {field}: {content}";
        }

        if (hostile.Name == "malformed JSON" && !problem.RootElement.TryGetProperty("lineNumber", out _))
        {
            return $"no line number: {content}";
        }

        return null;
    }

    private static bool Names(JsonElement problem, string field)
    {
        if (problem.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object
            && errors.EnumerateObject().Any(e => e.Name.Equals(field, StringComparison.OrdinalIgnoreCase)
                || e.Name.StartsWith(field + "[", StringComparison.OrdinalIgnoreCase) || e.Name.StartsWith(field + ".", StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }

        return problem.TryGetProperty("detail", out var detail) && detail.GetString()?.Contains(field, StringComparison.OrdinalIgnoreCase) == true;
    }

    private static IEnumerable<(string Operation, JsonElement Schema)> WriteOperationsWithJsonBodies(JsonElement root, JsonElement schemas)
    {
        foreach (var path in root.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Name is "post" or "put" or "patch"))
            {
                if (operation.Value.TryGetProperty("requestBody", out var body) && body.GetProperty("content").TryGetProperty("application/json", out var json))
                {
                    yield return ($"{operation.Name.ToUpperInvariant()} {path.Name[Base.Length..]}", Resolve(json.GetProperty("schema"), schemas));
                }
            }
        }
    }

    /// <summary>A <c>$ref</c> or a nullable wrapper (<c>oneOf: [null, $ref]</c>) resolved to the object schema.</summary>
    private static JsonElement Resolve(JsonElement schema, JsonElement schemas)
    {
        if (schema.TryGetProperty("$ref", out var reference))
        {
            return Resolve(schemas.GetProperty(reference.GetString()!.Split('/')[^1]), schemas);
        }

        foreach (var choice in new[] { "oneOf", "anyOf", "allOf" })
        {
            if (schema.TryGetProperty(choice, out var options))
            {
                foreach (var option in options.EnumerateArray())
                {
                    var resolved = Resolve(option, schemas);
                    if (resolved.TryGetProperty("properties", out _))
                    {
                        return resolved;
                    }
                }
            }
        }

        return schema;
    }

    private static bool IsType(JsonElement schema, string type) =>
        schema.TryGetProperty("type", out var declared)
        && (declared.ValueKind == JsonValueKind.String ? declared.GetString() == type : declared.EnumerateArray().Any(t => t.GetString() == type));

    private static IEnumerable<Hostile> HostileBodies(JsonElement schema, JsonElement schemas)
    {
        yield return new Hostile("malformed JSON", null, true, body => body.ToJsonString()[..^1] + ",\"");
        yield return new Hostile("100-deep nesting", null, true, body => body.ToJsonString()[..^1] + ",\"nested\":" + new string('[', 100) + new string(']', 100) + "}");
        if (!schema.TryGetProperty("properties", out var properties))
        {
            yield break;
        }

        foreach (var property in properties.EnumerateObject())
        {
            var name = property.Name;
            var declared = Resolve(property.Value, schemas);
            if (IsType(declared, "array"))
            {
                yield return new Hostile($"[null] in {name}", name, true, body => body.With(name, new JsonArray((JsonNode?)null)).ToJsonString());
                var required = declared.TryGetProperty("minItems", out var min) && min.GetInt32() > 0;
                yield return new Hostile($"[] in {name}", required ? name : null, required, body => body.With(name, new JsonArray()).ToJsonString());
                if (declared.TryGetProperty("items", out var items) && Resolve(items, schemas).TryGetProperty("properties", out var itemProperties))
                {
                    foreach (var inner in itemProperties.EnumerateObject().Where(p => IsType(Resolve(p.Value, schemas), "string")))
                    {
                        var field = $"{name}[0].{inner.Name}";
                        yield return new Hostile($"10,000 characters in {field}", field, false, body => WithLongFirstElementText(body, name, inner.Name));
                    }
                }
            }
            else if (IsType(declared, "string"))
            {
                var limited = declared.TryGetProperty("maxLength", out var max) && max.GetInt32() < 10_000;
                yield return new Hostile($"10,000 characters in {name}", name, limited, body => body.With(name, new string('x', 10_000)).ToJsonString());
            }
        }
    }

    private static string WithLongFirstElementText(JsonObject body, string array, string property)
    {
        if (body[array] is JsonArray { Count: > 0 } items && items[0] is JsonObject first)
        {
            first[property] = new string('x', 10_000);
        }

        return body.ToJsonString();
    }

    private static JsonObject Body(object value) => JsonSerializer.SerializeToNode(value, AdminApiClient.Json)!.AsObject();

    private static JsonObject UserBody()
    {
        var number = NewCode("E");
        return Body(new { userName = NewCode("u"), displayName = "Fz " + number, email = number.ToLowerInvariant() + "@example.com", employeeNumber = number });
    }

    private static JsonObject ConnectorBody() => Body(new { kind = "webhook", name = NewCode("hooks"), settings = new { url = "https://hooks.example.com/fz" } });

    /// <summary>
    /// A hostile body built from a valid one; <see cref="Field"/> is what a refusal must name, <see cref="MustRefuse"/> says
    /// whether accepting it is wrong (a null element always is; an empty array or a long string only when the document
    /// declares a minimum or a maximum).
    /// </summary>
    private sealed record Hostile(string Name, string? Field, bool MustRefuse, Func<JsonObject, string> Make);
}
