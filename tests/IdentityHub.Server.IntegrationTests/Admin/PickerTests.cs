using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Queries;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static IdentityHub.Server.IntegrationTests.AdminApi.AdminCallers;

namespace IdentityHub.Server.IntegrationTests.Admin;

/// <summary>
/// Issue 17 §5: user and department pickers that work with 10,000 people: a server-side search behind the console's
/// section rules (never the whole directory in the page), typed text resolved on the server without JavaScript, and the
/// manager field of the user form with its refusals by field.
/// </summary>
public abstract class PickerTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private const int DirectorySize = 10_000;

    private readonly ConsoleDriver _console = new(factory);

    [PrerequisiteFact]
    public async Task UserPicker_TenThousandPeople_FindsOneByEmployeeNumberAndTheFormStaysSmall()
    {
        var run = NewCode("P");
        var ids = await SeedPeopleAsync(run, DirectorySize);
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (_, _, role) = await CreateRoleAsync(admin);
        var console = await _console.AdminAsync();

        var one = await LookupAsync(console, $"/admin/users/lookup?q={run}-04242");
        var page = await LookupAsync(console, $"/admin/users/lookup?q={run}-u0&limit=500");
        var form = await console.GetStringAsync("/admin/assignments/new");
        var granted = await ConsoleDriver.PostAsync(console, "/admin/assignments/new", "/admin/assignments/new", new()
        {
            ["Input.UserText"] = $"{run}-04242",
            ["Input.UserId"] = "",
            ["Input.RoleId"] = role.ToString(),
            ["Input.DepartmentText"] = "",
            ["Input.Reason"] = "Picked by employee number",
        });

        var match = Assert.Single(one.GetProperty("items").EnumerateArray());
        Assert.Equal(ids[4242], match.GetProperty("id").GetString());
        Assert.Equal($"Person 4242 · {run}-u04242 · {run}-04242", match.GetProperty("label").GetString());
        Assert.False(one.GetProperty("more").GetBoolean());
        Assert.Equal(DirectoryLookup.MaxResults, page.GetProperty("items").GetArrayLength());
        Assert.True(page.GetProperty("more").GetBoolean());
        Assert.DoesNotContain(run, form, StringComparison.Ordinal);
        Assert.True(Regex.Count(form, "<option") < 100, $"The assignment form lists {Regex.Count(form, "<option")} options.");
        Assert.True(form.Length < 100_000, $"The assignment form is {form.Length} characters long.");
        Assert.Equal(HttpStatusCode.Redirect, granted.StatusCode);
        Assert.Equal($"/admin/users/{ids[4242]}", granted.Headers.Location?.ToString());
    }

    [PrerequisiteTheory]
    [InlineData("0", 1)]
    [InlineData("3", 3)]
    [InlineData("21", DirectoryLookup.MaxResults)]
    [InlineData("100000", DirectoryLookup.MaxResults)]
    public async Task UserLookup_Limit_IsKeptBetweenOneAndTheMaximum(string limit, int expected)
    {
        var run = NewCode("L");
        await SeedPeopleAsync(run, DirectoryLookup.MaxResults + 5);
        var console = await _console.AdminAsync();

        var answer = await LookupAsync(console, $"/admin/users/lookup?q={run}&limit={limit}");

        Assert.Equal(expected, answer.GetProperty("items").GetArrayLength());
        Assert.True(answer.GetProperty("more").GetBoolean());
    }

    [PrerequisiteFact]
    public async Task UserLookup_TextLongerThanTheMaximumOrEmpty_IsRefusedOrAnsweredEmpty()
    {
        var console = await _console.AdminAsync();

        var tooLong = await console.GetAsync($"/admin/users/lookup?q={new string('x', DirectoryLookup.MaxTextLength + 1)}");
        var empty = await LookupAsync(console, "/admin/users/lookup?q=%20");

        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Equal(0, empty.GetProperty("items").GetArrayLength());
    }

    [PrerequisiteFact]
    public async Task Lookups_EachCaller_FollowTheirSectionsReadRules()
    {
        var anonymous = factory.CreateBrowserLikeClient();
        var employee = await _console.SignedInAsync(role: null);
        var security = await _console.SignedInAsync(AdminRoles.SecurityAdmin);
        var hr = await _console.SignedInAsync(AdminRoles.HrAdmin);

        var anonymousUsers = await anonymous.GetAsync("/admin/users/lookup?q=a");
        var employeeUsers = await employee.GetAsync("/admin/users/lookup?q=a");
        var securityUsers = await security.GetAsync("/admin/users/lookup?q=a");
        var securityDepartments = await security.GetAsync("/admin/departments/lookup?q=a");
        var hrDepartments = await hr.GetAsync("/admin/departments/lookup?q=a");

        Assert.StartsWith("http://localhost/account/login", anonymousUsers.Headers.Location?.ToString(), StringComparison.Ordinal);
        Assert.StartsWith("http://localhost/account/access-denied", employeeUsers.Headers.Location?.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, securityUsers.StatusCode);
        Assert.True(securityUsers.Headers.CacheControl?.NoStore, "A lookup names people: it must not be stored.");
        Assert.StartsWith("http://localhost/account/access-denied", securityDepartments.Headers.Location?.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, hrDepartments.StatusCode);
    }

    [PrerequisiteTheory]
    [InlineData("{0}")]
    [InlineData("{0} / Fin")]
    [InlineData("FIN-{1}")]
    public async Task DepartmentLookup_ByNameCodeOrPath_FindsTheDepartment(string text)
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var suffix = NewCode("x");
        var company = await PostAsync(admin, AdminCallers.Departments, new { code = "CO-" + suffix, name = "Company " + suffix });
        var finance = await PostAsync(admin, AdminCallers.Departments, new { code = "FIN-" + suffix, name = "Finance " + suffix, parentId = company.GetProperty("id").GetGuid() });
        var console = await _console.AdminAsync();
        var typed = string.Format(CultureInfo.InvariantCulture, text, "Company " + suffix, suffix);

        var answer = await LookupAsync(console, $"/admin/departments/lookup?q={Uri.EscapeDataString(typed)}");

        var items = answer.GetProperty("items").EnumerateArray().ToList();
        var found = Assert.Single(items, i => i.GetProperty("id").GetString() == finance.GetProperty("id").GetString());
        Assert.Equal($"Company {suffix} / Finance {suffix} · FIN-{suffix}", found.GetProperty("label").GetString());
    }

    [PrerequisiteTheory]
    [InlineData(true, "Several people match “{0}”: ", "Type the user name or employee number of the one you mean.")]
    [InlineData(false, "No one matches “{0}”.", "")]
    public async Task AssignmentForm_TextNamingSeveralOrNoOne_IsRefusedOnTheUserFieldAndGrantsNothing(bool twoOfThem, string starts, string ends)
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (_, _, role) = await CreateRoleAsync(admin);
        var name = "Zhang Wei " + NewCode("x");
        if (twoOfThem)
        {
            await CreateUserAsync(admin, displayName: name);
            await CreateUserAsync(admin, displayName: name);
        }

        var console = await _console.AdminAsync();

        var refused = await ConsoleDriver.PostAsync(console, "/admin/assignments/new", "/admin/assignments/new", new()
        {
            ["Input.UserText"] = name,
            ["Input.UserId"] = "",
            ["Input.RoleId"] = role.ToString(),
            ["Input.Reason"] = "Which one?",
        });

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var html = await refused.Content.ReadAsStringAsync();
        var error = ConsoleDriver.FieldError(html, "Input.UserId");
        Assert.StartsWith(string.Format(CultureInfo.InvariantCulture, starts, name), error, StringComparison.Ordinal);
        Assert.EndsWith(ends, error, StringComparison.Ordinal);
        Assert.Contains($"value=\"{name}\"", html, StringComparison.Ordinal);
        Assert.Equal(0, await InDatabaseAsync(factory, db => db.RoleAssignments.CountAsync(a => a.RoleId == role)));
    }

    [PrerequisiteFact]
    public async Task UserForm_ManagerTypedAsEmployeeNumber_IsSavedAndShownOnThePersonsPage()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var managerName = "Manager " + NewCode("x");
        var manager = await CreateUserAsync(admin, displayName: managerName);
        var managerNumber = (await JsonAsync(await admin.GetAsync($"{Users}/{manager}"), HttpStatusCode.OK)).GetProperty("employeeNumber").GetString()!;
        var user = await CreateUserAsync(admin);
        var console = await _console.AdminAsync();
        var edit = $"/admin/users/edit/{user}";
        var fields = FormFields(await console.GetStringAsync(edit));
        fields["Input.ManagerText"] = managerNumber;

        var saved = await ConsoleDriver.PostAsync(console, edit, edit, fields);

        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        Assert.Equal(manager, (await JsonAsync(await admin.GetAsync($"{Users}/{user}"), HttpStatusCode.OK)).GetProperty("managerId").GetString());
        var person = await console.GetStringAsync($"/admin/users/{user}");
        Assert.Contains($"<a href=\"/admin/users/{manager}\">{managerName}</a>", person, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task UserForm_EditedWithoutTouchingTheManager_KeepsTheManager()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var manager = await CreateUserAsync(admin);
        var user = await CreateUserAsync(admin);
        var dto = await JsonAsync(await admin.GetAsync($"{Users}/{user}"), HttpStatusCode.OK);
        await JsonAsync(await admin.PutAsJsonAsync($"{Users}/{user}", new
        {
            userName = dto.GetProperty("userName").GetString(),
            displayName = dto.GetProperty("displayName").GetString(),
            employeeNumber = dto.GetProperty("employeeNumber").GetString(),
            managerId = manager,
        }), HttpStatusCode.OK);
        var console = await _console.AdminAsync();
        var edit = $"/admin/users/edit/{user}";
        var fields = FormFields(await console.GetStringAsync(edit));
        fields["Input.DisplayName"] = "Renamed " + NewCode("x");

        var saved = await ConsoleDriver.PostAsync(console, edit, edit, fields);

        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        var after = await JsonAsync(await admin.GetAsync($"{Users}/{user}"), HttpStatusCode.OK);
        Assert.Equal(fields["Input.DisplayName"], after.GetProperty("displayName").GetString());
        Assert.Equal(manager, after.GetProperty("managerId").GetString());
    }

    /// <summary>One set of rules: the console's manager field and the admin API refuse oneself as manager on the same field with the same words.</summary>
    [PrerequisiteFact]
    public async Task UserForm_SelfAsManager_IsRefusedOnTheManagerFieldLikeTheApi()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var user = await CreateUserAsync(admin);
        var dto = await JsonAsync(await admin.GetAsync($"{Users}/{user}"), HttpStatusCode.OK);
        var console = await _console.AdminAsync();
        var edit = $"/admin/users/edit/{user}";
        var fields = FormFields(await console.GetStringAsync(edit));
        fields["Input.ManagerText"] = dto.GetProperty("employeeNumber").GetString()!;

        var api = await admin.PutAsJsonAsync($"{Users}/{user}", new
        {
            userName = dto.GetProperty("userName").GetString(),
            displayName = dto.GetProperty("displayName").GetString(),
            managerId = user,
        });
        var refused = await ConsoleDriver.PostAsync(console, edit, edit, fields);

        Assert.Equal(HttpStatusCode.BadRequest, api.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var apiMessage = Assert.Single((await AdminApiClient.ProblemAsync(api)).GetProperty("errors").GetProperty("managerId").EnumerateArray()).GetString();
        Assert.Equal(apiMessage, ConsoleDriver.FieldError(await refused.Content.ReadAsStringAsync(), "Input.ManagerId"));
        Assert.Equal(dto.GetProperty("updatedAt").GetDateTimeOffset(), (await JsonAsync(await admin.GetAsync($"{Users}/{user}"), HttpStatusCode.OK)).GetProperty("updatedAt").GetDateTimeOffset());
    }

    /// <summary>
    /// <paramref name="count"/> active people straight into the database (a directory of this size is imported, not typed):
    /// user name <c>{run}-u00042</c>, employee number <c>{run}-00042</c>, display name "Person 42". Returns their ids by number.
    /// </summary>
    private async Task<IReadOnlyList<string>> SeedPeopleAsync(string run, int count)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        var now = DateTimeOffset.UtcNow;
        var people = Enumerable.Range(0, count).Select(i =>
        {
            var userName = string.Create(CultureInfo.InvariantCulture, $"{run}-u{i:D5}");
            var email = $"{userName}@example.com";
            return new UserAccount
            {
                UserName = userName,
                NormalizedUserName = userName.ToUpperInvariant(),
                Email = email,
                NormalizedEmail = email.ToUpperInvariant(),
                EmployeeNumber = string.Create(CultureInfo.InvariantCulture, $"{run}-{i:D5}"),
                DisplayName = string.Create(CultureInfo.InvariantCulture, $"Person {i}"),
                SecurityStamp = Guid.NewGuid().ToString("N"),
                CreatedAt = now,
                UpdatedAt = now,
            };
        }).ToList();
        db.Users.AddRange(people);
        await db.SaveChangesAsync();
        return [.. people.Select(p => p.Id)];
    }

    private static async Task<JsonElement> LookupAsync(HttpClient console, string url)
    {
        var response = await console.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>The user form's fields as the page shows them (what a browser posts when nothing is changed).</summary>
    private static Dictionary<string, string> FormFields(string html)
    {
        var form = Regex.Match(html, "<form[^>]*data-testid=\"user-form\".*?</form>", RegexOptions.Singleline).Value;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match input in Regex.Matches(form, "<input[^>]*>"))
        {
            var name = Regex.Match(input.Value, "name=\"([^\"]+)\"");
            if (!name.Success || name.Groups[1].Value == "__RequestVerificationToken")
            {
                continue;
            }

            var value = Regex.Match(input.Value, "value=\"([^\"]*)\"");
            fields[WebUtility.HtmlDecode(name.Groups[1].Value)] = value.Success ? WebUtility.HtmlDecode(value.Groups[1].Value) : "";
        }

        return fields;
    }
}

public sealed class SqlitePickerTests(SqliteFactory factory) : PickerTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlPickerTests(PostgreSqlFactory factory) : PickerTests<PostgreSqlFactory>(factory);
