using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace IdentityHub.Testing;

/// <summary>An employee as the expense stand-in holds them.</summary>
public sealed record ExpenseEmployee(
    string Id, string EmployeeNo, string? Name, string? DepartmentCode, string? ManagerNo, IReadOnlyList<string> Roles, decimal ApproverLevel, decimal AmountLimit, bool Active, long Version);

/// <summary>
/// A 合思-style expense open API (base path /open/api/v1): every request carries App-Key, Timestamp (unix seconds), Nonce and
/// Signature = hex(HMAC-SHA256(app secret, appKey\ntimestamp\nnonce\nMETHOD\npathAndQuery\nbody)), recomputed here exactly as
/// a vendor would; a wrong one, a timestamp outside ±5 minutes, a nonce seen before or a source IP off the allow-list is refused
/// with HTTP 200 and an error code in the {code, message, data} envelope. It keeps departments (a parent must exist first) and
/// employees (its own ids; a version older than the one held is refused as stale, the same version is not applied again).
/// </summary>
public sealed class ExpenseVendor : VendorStandIn
{
    public const string AppKey = "expense-app-key-7f3a";
    public const string AppSecret = "expense-app-secret-0123456789abcdef";
    public const string BasePath = "/open/api/v1";

    public const int SignatureMismatch = 40001;
    public const int TimestampExpired = 40002;
    public const int NonceReplayed = 40003;
    public const int UnknownAppKey = 40004;
    public const int IpNotAllowed = 40301;
    public const int NotFound = 40400;
    public const int ParentNotFound = 40402;
    public const int StaleVersion = 40901;

    private readonly Dictionary<string, (string Id, string Name, string? ParentCode)> _departments = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ExpenseEmployee> _employees = new(StringComparer.Ordinal);
    private readonly HashSet<string> _nonces = new(StringComparer.Ordinal);
    private readonly List<(string EmployeeNo, long Version)> _applied = [];
    private readonly List<(string EmployeeNo, long Version, long Timestamp)> _appliedAt = [];
    private readonly List<string> _departmentsCreated = [];
    private readonly List<(string EmployeeNo, long Version, long Held)> _backwards = [];
    private readonly System.Collections.Concurrent.ConcurrentQueue<(int Code, string Message)> _envelopeFaults = new();
    private int _nextId = 1000;

    /// <summary>Switches the IP allow-list to refuse 127.0.0.1 (where IdentityHub calls from in the tests).</summary>
    public bool RefuseLoopback { get; set; }

    /// <summary>The vendor's clock against ours: a skew beyond 5 minutes makes every timestamp look expired.</summary>
    public TimeSpan ClockOffset { get; set; }

    public static async Task<ExpenseVendor> StartNewAsync()
    {
        var vendor = new ExpenseVendor();
        await vendor.StartAsync();
        return vendor;
    }

    public Uri ApiBaseUrl => new(BaseUrl, BasePath.TrimStart('/'));

    public IReadOnlyDictionary<string, ExpenseEmployee> EmployeesByNumber
    {
        get
        {
            lock (Gate)
            {
                return _employees.Values.ToDictionary(e => e.EmployeeNo, StringComparer.Ordinal);
            }
        }
    }

    public ExpenseEmployee? Employee(string employeeNo) => EmployeesByNumber.GetValueOrDefault(employeeNo);

    public IReadOnlyDictionary<string, (string Id, string Name, string? ParentCode)> Departments
    {
        get
        {
            lock (Gate)
            {
                return new Dictionary<string, (string, string, string?)>(_departments, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>Department codes in the order they were first created.</summary>
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

    /// <summary>Every (employee, version) applied, in order: a version applied twice appears twice.</summary>
    public IReadOnlyList<(string EmployeeNo, long Version)> Applied
    {
        get
        {
            lock (Gate)
            {
                return [.. _applied];
            }
        }
    }

    /// <summary>When each user version was applied (a <see cref="System.Diagnostics.Stopwatch"/> timestamp), for latency figures.</summary>
    public long? AppliedAt(string employeeNo, Func<long, bool> version)
    {
        lock (Gate)
        {
            return _appliedAt.Where(a => a.EmployeeNo == employeeNo && version(a.Version)).Select(a => (long?)a.Timestamp).FirstOrDefault();
        }
    }

    /// <summary>Versions that arrived lower than the one held (refused as stale).</summary>
    public IReadOnlyList<(string EmployeeNo, long Version, long Held)> Backwards
    {
        get
        {
            lock (Gate)
            {
                return [.. _backwards];
            }
        }
    }

    /// <summary>Makes the vendor hold a newer version of an employee than IdentityHub sent (another writer, or a restore).</summary>
    public void HoldVersion(string employeeNo, long version)
    {
        lock (Gate)
        {
            var employee = _employees.Values.Single(e => e.EmployeeNo == employeeNo);
            _employees[employee.Id] = employee with { Version = version };
        }
    }

    /// <summary>The next authenticated API calls are answered HTTP 200 with these business error codes, in order, and change nothing.</summary>
    public void AnswerNextWith(int code, string message) => _envelopeFaults.Enqueue((code, message));

    /// <summary>Removes an employee behind IdentityHub's back (an administrator of the vendor deleted them).</summary>
    public void RemoveBehindBack(string employeeNo)
    {
        lock (Gate)
        {
            _employees.Remove(_employees.Values.Single(e => e.EmployeeNo == employeeNo).Id);
        }
    }

    /// <summary>Changes an employee's roles behind IdentityHub's back (drift).</summary>
    public void TamperRoles(string employeeNo, params string[] roles)
    {
        lock (Gate)
        {
            var employee = _employees.Values.Single(e => e.EmployeeNo == employeeNo);
            _employees[employee.Id] = employee with { Roles = roles };
        }
    }

    /// <summary>Adds an employee IdentityHub never sent (a local account of the vendor).</summary>
    public void AddForeign(string employeeNo)
    {
        lock (Gate)
        {
            var id = "E" + _nextId++.ToString(CultureInfo.InvariantCulture);
            _employees[id] = new ExpenseEmployee(id, employeeNo, "Local account", null, null, [], 0, 0, true, 1);
        }
    }

    /// <summary>The canonical string the vendor signs (its documentation's definition, written here independently of IdentityHub).</summary>
    public static string CanonicalString(string appKey, string timestamp, string nonce, string method, string pathAndQuery, string body) =>
        string.Join('\n', appKey, timestamp, nonce, method, pathAndQuery, body);

    public static string Sign(string canonical) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(AppSecret), Encoding.UTF8.GetBytes(canonical)));

    protected override bool IsApi(PathString path) => path.StartsWithSegments(BasePath, StringComparison.Ordinal);

    protected override void Map(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var api = app.MapGroup(BasePath).AddEndpointFilter(async (context, next) => await CheckCallerAsync(context.HttpContext) ?? await next(context));
        api.MapPost("/departments", async (HttpRequest request) => UpsertDepartment(await ReadJsonAsync(request)));
        api.MapDelete("/departments/{code}", (string code) => DeleteDepartment(code));
        api.MapPost("/employees", async (HttpRequest request) => CreateEmployee(await ReadJsonAsync(request)));
        api.MapPut("/employees/{id}", async (string id, HttpRequest request) => UpdateEmployee(id, await ReadJsonAsync(request)));
        api.MapPost("/employees/{id}/disable", async (string id, HttpRequest request) => DisableEmployee(id, await ReadJsonAsync(request)));
        api.MapDelete("/employees/{id}", (string id) => DeleteEmployee(id));
        api.MapGet("/employees", (int? page, int? size) => ListEmployees(page ?? 1, size ?? 50));
    }

    private static IResult Envelope(int code, string message, JsonNode? data = null) =>
        Results.Json(new JsonObject { ["code"] = code, ["message"] = message, ["data"] = data });

    private static IResult Ok(JsonNode? data = null) => Envelope(0, "ok", data);

    /// <summary>IP allow-list, app key, timestamp window, nonce replay, then the signature over the canonical string.</summary>
    private async Task<IResult?> CheckCallerAsync(HttpContext context)
    {
        var request = context.Request;
        if (RefuseLoopback)
        {
            return Envelope(IpNotAllowed, $"source IP {context.Connection.RemoteIpAddress} is not in this app's IP allow-list");
        }

        var appKey = request.Headers["App-Key"].ToString();
        var timestamp = request.Headers["Timestamp"].ToString();
        var nonce = request.Headers["Nonce"].ToString();
        var signature = request.Headers["Signature"].ToString();
        if (appKey != AppKey)
        {
            return Envelope(UnknownAppKey, "unknown App-Key");
        }

        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || Math.Abs((DateTimeOffset.UtcNow + ClockOffset).ToUnixTimeSeconds() - seconds) > 300)
        {
            return Envelope(TimestampExpired, "timestamp outside the allowed ±5 minutes");
        }

        request.Body.Position = 0;
        var body = await new StreamReader(request.Body).ReadToEndAsync();
        // The path and query exactly as they came on the wire (the request target), as the signer saw them.
        var target = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget;
        var canonical = CanonicalString(appKey, timestamp, nonce, request.Method, target, body);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(canonical)), Encoding.ASCII.GetBytes(signature)))
        {
            return Envelope(SignatureMismatch, "signature mismatch: sign appKey, timestamp, nonce, method, path with query and body, joined by \\n, with HMAC-SHA256 in lower-case hex");
        }

        lock (Gate)
        {
            if (nonce.Length == 0 || !_nonces.Add(nonce))
            {
                return Envelope(NonceReplayed, "nonce already used");
            }
        }

        return _envelopeFaults.TryDequeue(out var fault) ? Envelope(fault.Code, fault.Message) : null;
    }

    private IResult UpsertDepartment(JsonObject body)
    {
        var code = (string?)body["code"];
        var parent = (string?)body["parentCode"];
        lock (Gate)
        {
            if (string.IsNullOrEmpty(code))
            {
                return Envelope(40000, "code is required");
            }

            if (parent is not null && !_departments.ContainsKey(parent))
            {
                return Envelope(ParentNotFound, $"parent department {parent} not found");
            }

            if (!_departments.TryGetValue(code, out var existing))
            {
                existing = ("D" + _nextId++.ToString(CultureInfo.InvariantCulture), "", null);
                _departmentsCreated.Add(code);
            }

            _departments[code] = (existing.Id, (string?)body["name"] ?? "", parent);
            return Ok(new JsonObject { ["id"] = existing.Id });
        }
    }

    private IResult DeleteDepartment(string code)
    {
        lock (Gate)
        {
            return _departments.Remove(code) ? Ok() : Envelope(NotFound, $"department {code} not found");
        }
    }

    private IResult CreateEmployee(JsonObject body)
    {
        var number = (string?)body["employeeNo"];
        lock (Gate)
        {
            if (string.IsNullOrEmpty(number))
            {
                return Envelope(40000, "employeeNo is required");
            }

            // Idempotent by employee number: a second create of the same person updates them.
            var existing = _employees.Values.FirstOrDefault(e => e.EmployeeNo == number);
            return Apply(existing?.Id ?? "E" + _nextId++.ToString(CultureInfo.InvariantCulture), number, body, existing);
        }
    }

    private IResult UpdateEmployee(string id, JsonObject body)
    {
        lock (Gate)
        {
            return _employees.TryGetValue(id, out var existing) ? Apply(id, existing.EmployeeNo, body, existing) : Envelope(NotFound, $"employee {id} not found");
        }
    }

    private IResult Apply(string id, string number, JsonObject body, ExpenseEmployee? existing)
    {
        var version = (long?)body["version"] ?? 0;
        if (existing is not null && version < existing.Version)
        {
            _backwards.Add((number, version, existing.Version));
            return Envelope(StaleVersion, $"stale version {version}: version {existing.Version} is already applied");
        }

        if (existing is not null && version == existing.Version)
        {
            return Ok(new JsonObject { ["id"] = id });
        }

        var department = (string?)body["departmentCode"];
        if (department is not null && !_departments.ContainsKey(department))
        {
            return Envelope(ParentNotFound, $"department {department} not found");
        }

        _employees[id] = new ExpenseEmployee(
            id, number, (string?)body["name"], department, (string?)body["managerNo"],
            body["roles"] is JsonArray roles ? [.. roles.Select(r => (string)r!)] : [],
            (decimal?)body["approverLevel"] ?? 0, (decimal?)body["amountLimit"] ?? 0, (bool?)body["active"] ?? true, version);
        _applied.Add((number, version));
        _appliedAt.Add((number, version, System.Diagnostics.Stopwatch.GetTimestamp()));
        return Ok(new JsonObject { ["id"] = id });
    }

    private IResult DisableEmployee(string id, JsonObject body)
    {
        lock (Gate)
        {
            if (!_employees.TryGetValue(id, out var existing))
            {
                return Envelope(NotFound, $"employee {id} not found");
            }

            var version = (long?)body["version"] ?? 0;
            if (version < existing.Version)
            {
                _backwards.Add((existing.EmployeeNo, version, existing.Version));
                return Envelope(StaleVersion, $"stale version {version}: version {existing.Version} is already applied");
            }

            if (version > existing.Version)
            {
                _employees[id] = existing with { Active = false, Version = version };
                _applied.Add((existing.EmployeeNo, version));
            }

            return Ok(new JsonObject { ["id"] = id });
        }
    }

    private IResult DeleteEmployee(string id)
    {
        lock (Gate)
        {
            return _employees.Remove(id) ? Ok() : Envelope(NotFound, $"employee {id} not found");
        }
    }

    private IResult ListEmployees(int page, int size)
    {
        lock (Gate)
        {
            var all = _employees.Values.OrderBy(e => e.EmployeeNo, StringComparer.Ordinal).ToList();
            var items = new JsonArray([.. all.Skip((page - 1) * size).Take(size).Select(e => (JsonNode)new JsonObject
            {
                ["id"] = e.Id, ["employeeNo"] = e.EmployeeNo, ["name"] = e.Name, ["departmentCode"] = e.DepartmentCode, ["managerNo"] = e.ManagerNo,
                ["roles"] = new JsonArray([.. e.Roles.Select(r => (JsonNode)JsonValue.Create(r))]), ["approverLevel"] = e.ApproverLevel, ["amountLimit"] = e.AmountLimit,
                ["active"] = e.Active,
            })]);
            return Ok(new JsonObject { ["total"] = all.Count, ["items"] = items });
        }
    }
}
