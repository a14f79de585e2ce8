using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace IdentityHub.Testing;

/// <summary>An employee as the attendance stand-in holds them.</summary>
public sealed record AttendanceEmployee(string EmployeeNumber, string? Name, string? DepartmentCode, string? ManagerNumber, IReadOnlyList<string> Roles, string? LeaveApproval, bool Active, long Version);

/// <summary>
/// An i人事-style attendance REST API: OAuth 2.0 client credentials at /oauth/token (form or Basic) issuing tokens that expire
/// after <see cref="TokenSeconds"/>; PUT /api/v2/employees/{employeeNumber} and /api/v2/departments/{code} (a parent first);
/// plain HTTP statuses (401 for an expired token, 409 for a stale version, 404, 422); an Idempotency-Key seen before is
/// answered with the stored response without applying anything again; cursor-paged GET /api/v2/employees.
/// </summary>
public sealed class AttendanceVendor : VendorStandIn
{
    public const string ClientId = "identityhub-attendance";
    public const string ClientSecret = "attendance-client-secret-0123456789";
    public const string BasePath = "/api/v2";

    private readonly Dictionary<string, DateTimeOffset> _tokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string? Name, string? ParentCode)> _departments = new(StringComparer.Ordinal);
    private readonly List<string> _departmentsCreated = [];
    private readonly Dictionary<string, AttendanceEmployee> _employees = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Status, string Body)> _idempotent = new(StringComparer.Ordinal);
    private readonly List<(string EmployeeNumber, long Version)> _applied = [];
    private readonly List<(string EmployeeNumber, long Version, long Held)> _backwards = [];

    public int TokenSeconds { get; init; } = 3600;

    /// <summary>What <c>expires_in</c> says, when it lies (a token revoked or expiring early): default, the truth.</summary>
    public int? AdvertisedTokenSeconds { get; init; }

    public int TokensIssued { get; private set; }

    /// <summary>API calls refused with 401 because their token had expired or was unknown.</summary>
    public int ExpiredTokenRefusals { get; private set; }

    /// <summary>Requests answered from the Idempotency-Key store instead of being applied again.</summary>
    public int IdempotentReplays { get; private set; }

    public static async Task<AttendanceVendor> StartNewAsync(int tokenSeconds = 3600, int? advertisedTokenSeconds = null)
    {
        var vendor = new AttendanceVendor { TokenSeconds = tokenSeconds, AdvertisedTokenSeconds = advertisedTokenSeconds };
        await vendor.StartAsync();
        return vendor;
    }

    public Uri ApiBaseUrl => new(BaseUrl, BasePath.TrimStart('/'));

    public Uri TokenUrl => new(BaseUrl, "oauth/token");

    public IReadOnlyDictionary<string, AttendanceEmployee> Employees
    {
        get
        {
            lock (Gate)
            {
                return new Dictionary<string, AttendanceEmployee>(_employees, StringComparer.Ordinal);
            }
        }
    }

    public IReadOnlyList<string> DepartmentsCreated
    {
        get
        {
            lock (Gate)
            {
                return [.. _departmentsCreated];
            }
        }
    }

    public IReadOnlyDictionary<string, (string? Name, string? ParentCode)> Departments
    {
        get
        {
            lock (Gate)
            {
                return new Dictionary<string, (string?, string?)>(_departments, StringComparer.Ordinal);
            }
        }
    }

    public IReadOnlyList<(string EmployeeNumber, long Version)> Applied
    {
        get
        {
            lock (Gate)
            {
                return [.. _applied];
            }
        }
    }

    public IReadOnlyList<(string EmployeeNumber, long Version, long Held)> Backwards
    {
        get
        {
            lock (Gate)
            {
                return [.. _backwards];
            }
        }
    }

    protected override bool IsApi(PathString path) => path.StartsWithSegments(BasePath, StringComparison.Ordinal);

    protected override void Map(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/oauth/token", IssueTokenAsync);
        var api = app.MapGroup(BasePath).AddEndpointFilter(async (context, next) => Authorize(context.HttpContext) ?? await ReplayOrRunAsync(context, next));
        api.MapPut("/departments/{code}", async (string code, HttpRequest request) => UpsertDepartment(code, await ReadJsonAsync(request)));
        api.MapDelete("/departments/{code}", (string code) => DeleteDepartment(code));
        api.MapPut("/employees/{number}", async (string number, HttpRequest request) => PutEmployee(number, await ReadJsonAsync(request)));
        api.MapPatch("/employees/{number}", async (string number, HttpRequest request) => PatchEmployee(number, await ReadJsonAsync(request)));
        api.MapDelete("/employees/{number}", (string number) => DeleteEmployee(number));
        api.MapGet("/employees", (int? limit, string? cursor) => ListEmployees(limit ?? 50, cursor));
    }

    /// <summary>RFC 6749 §4.4 with client authentication by form fields or HTTP Basic (§2.3.1).</summary>
    private async Task<IResult> IssueTokenAsync(HttpRequest request)
    {
        var form = await request.ReadFormAsync();
        var (id, secret) = ((string?)form["client_id"], (string?)form["client_secret"]);
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Basic ", StringComparison.Ordinal))
        {
            var pair = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..])).Split(':', 2);
            (id, secret) = (Uri.UnescapeDataString(pair[0]), Uri.UnescapeDataString(pair[1]));
        }

        if (form["grant_type"] != "client_credentials" || id != ClientId || secret != ClientSecret)
        {
            return Results.Json(new JsonObject { ["error"] = "invalid_client" }, statusCode: 401);
        }

        var token = Guid.NewGuid().ToString("N");
        lock (Gate)
        {
            _tokens[token] = DateTimeOffset.UtcNow.AddSeconds(TokenSeconds);
            TokensIssued++;
        }

        return Results.Json(new JsonObject { ["access_token"] = token, ["token_type"] = "Bearer", ["expires_in"] = AdvertisedTokenSeconds ?? TokenSeconds });
    }

    private IResult? Authorize(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        var token = authorization.StartsWith("Bearer ", StringComparison.Ordinal) ? authorization[7..] : "";
        lock (Gate)
        {
            if (_tokens.TryGetValue(token, out var expires) && expires > DateTimeOffset.UtcNow)
            {
                return null;
            }

            ExpiredTokenRefusals++;
        }

        context.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
        return Results.Json(new JsonObject { ["error"] = "invalid_token", ["error_description"] = "The access token is unknown or expired." }, statusCode: 401);
    }

    /// <summary>A write with an Idempotency-Key seen before gets the stored answer; a new one is run and its answer stored.</summary>
    private async ValueTask<object?> ReplayOrRunAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var request = invocation.HttpContext.Request;
        var key = request.Headers["Idempotency-Key"].ToString();
        if (!HttpMethods.IsGet(request.Method) && key.Length > 0)
        {
            lock (Gate)
            {
                if (_idempotent.TryGetValue(key, out var stored))
                {
                    IdempotentReplays++;
                    return Results.Text(stored.Body, "application/json", statusCode: stored.Status);
                }
            }
        }

        var result = await next(invocation);
        if (result is not Answer answer)
        {
            return result;
        }

        if (!HttpMethods.IsGet(request.Method) && key.Length > 0)
        {
            lock (Gate)
            {
                _idempotent[key] = (answer.Status, answer.Body);
            }
        }

        return Results.Text(answer.Body, "application/json", statusCode: answer.Status);
    }

    /// <summary>An answer the idempotency store can keep: status and JSON body.</summary>
    private sealed record Answer(int Status, string Body);

    private static Answer Json(int status, JsonObject body) => new(status, body.ToJsonString());

    private static Answer Error(int status, string error, string description) => Json(status, new JsonObject { ["error"] = error, ["error_description"] = description });

    private Answer UpsertDepartment(string code, JsonObject body)
    {
        var parent = (string?)body["parentCode"];
        lock (Gate)
        {
            if (parent is not null && !_departments.ContainsKey(parent))
            {
                return Error(422, "unknown_parent", $"Parent department {parent} does not exist.");
            }

            var created = !_departments.ContainsKey(code);
            if (created)
            {
                _departmentsCreated.Add(code);
            }

            _departments[code] = ((string?)body["name"], parent);
            return Json(created ? 201 : 200, new JsonObject { ["code"] = code, ["name"] = (string?)body["name"], ["parentCode"] = parent });
        }
    }

    private Answer DeleteDepartment(string code)
    {
        lock (Gate)
        {
            return _departments.Remove(code) ? new Answer(204, "") : Error(404, "not_found", $"No department {code}.");
        }
    }

    private Answer PutEmployee(string number, JsonObject body)
    {
        var version = (long?)body["version"] ?? 0;
        var department = (string?)body["departmentCode"];
        lock (Gate)
        {
            var exists = _employees.TryGetValue(number, out var existing);
            if (existing is not null && version < existing.Version)
            {
                _backwards.Add((number, version, existing.Version));
                return Error(409, "stale_version", $"Version {version} is older than version {existing.Version} already applied.");
            }

            if (department is not null && !_departments.ContainsKey(department))
            {
                return Error(422, "unknown_department", $"Department {department} does not exist.");
            }

            if (existing is null || version > existing.Version)
            {
                _employees[number] = new AttendanceEmployee(number, (string?)body["name"], department, (string?)body["managerNumber"],
                    body["roles"] is JsonArray roles ? [.. roles.Select(r => (string)r!)] : [], (string?)body["leaveApproval"], (bool?)body["active"] ?? true, version);
                _applied.Add((number, version));
            }

            return Json(exists ? 200 : 201, new JsonObject { ["employeeNumber"] = number, ["version"] = _employees[number].Version });
        }
    }

    private Answer PatchEmployee(string number, JsonObject body)
    {
        var version = (long?)body["version"] ?? 0;
        lock (Gate)
        {
            if (!_employees.TryGetValue(number, out var existing))
            {
                return Error(404, "not_found", $"No employee {number}.");
            }

            if (version < existing.Version)
            {
                _backwards.Add((number, version, existing.Version));
                return Error(409, "stale_version", $"Version {version} is older than version {existing.Version} already applied.");
            }

            if (version > existing.Version)
            {
                _employees[number] = existing with { Active = (bool?)body["active"] ?? existing.Active, Version = version };
                _applied.Add((number, version));
            }

            return Json(200, new JsonObject { ["employeeNumber"] = number });
        }
    }

    private Answer DeleteEmployee(string number)
    {
        lock (Gate)
        {
            return _employees.Remove(number) ? new Answer(204, "") : Error(404, "not_found", $"No employee {number}.");
        }
    }

    private IResult ListEmployees(int limit, string? cursor)
    {
        lock (Gate)
        {
            var start = int.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var offset) ? offset : 0;
            var all = _employees.Values.OrderBy(e => e.EmployeeNumber, StringComparer.Ordinal).ToList();
            var page = all.Skip(start).Take(limit).ToList();
            var next = start + page.Count < all.Count ? (start + page.Count).ToString(CultureInfo.InvariantCulture) : null;
            return Results.Json(new JsonObject
            {
                ["items"] = new JsonArray([.. page.Select(e => (JsonNode)new JsonObject
                {
                    ["employeeNumber"] = e.EmployeeNumber, ["name"] = e.Name, ["departmentCode"] = e.DepartmentCode, ["managerNumber"] = e.ManagerNumber,
                    ["roles"] = new JsonArray([.. e.Roles.Select(r => (JsonNode)JsonValue.Create(r))]), ["leaveApproval"] = e.LeaveApproval, ["active"] = e.Active,
                })]),
                ["next_cursor"] = next,
            });
        }
    }
}
