using IdentityHub.Core.Access;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Access;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Core.Tests.Domain;

/// <summary>Applications, their OIDC clients and role display names: the rules the console and the admin API share.</summary>
public abstract class ApplicationsTests<TDatabase>(TDatabase database) : IClassFixture<TDatabase>
    where TDatabase : DomainDatabase
{
    private const string PngIcon = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

    [PrerequisiteFact]
    public async Task CreateAsync_LaunchUrlIconAndTheme_AreStoredAndAuditedInTheSameTransaction()
    {
        var application = await database.CreateApplicationAsync(
            new ApplicationInput(DomainDatabase.NewCode("Expenses"), "Claims", "https://expense.example.com/start", PngIcon, "expense-green"));

        var stored = await database.RunAsync(s => DomainDatabase.Db(s).Applications.AsNoTracking().SingleAsync(a => a.Id == application.Id));
        Assert.Equal("https://expense.example.com/start", stored.LaunchUrl);
        Assert.Equal(PngIcon, stored.IconUrl);
        Assert.Equal("expense-green", stored.Theme);
        Assert.True(stored.RevokeTokensOnAccessLoss);
        var audited = await database.RunAsync(s => DomainDatabase.Db(s).AuditEvents.AsNoTracking()
            .SingleAsync(e => e.Type == "application.created" && e.TargetId == application.Id.ToString()));
        Assert.Contains("\"launchUrl\":\"https://expense.example.com/start\"", audited.After, StringComparison.Ordinal);
    }

    [PrerequisiteTheory]
    [InlineData("https://expense.example.com/")]
    [InlineData("https://expense.example.com:8443/start?tenant=cn#inbox")]
    [InlineData("http://localhost:5173/")]
    [InlineData("http://127.0.0.1:8080/app")]
    [InlineData("http://[::1]:5000/")]
    public async Task CreateAsync_HttpsOrLoopbackLaunchUrl_IsAccepted(string launchUrl)
    {
        var application = await database.CreateApplicationAsync(new ApplicationInput(DomainDatabase.NewCode("App"), null, launchUrl));

        Assert.Equal(launchUrl, application.LaunchUrl);
    }

    [PrerequisiteTheory]
    [InlineData("http://expense.example.com/")]
    [InlineData("http://localhost.example.com/")]
    [InlineData("ftp://expense.example.com/")]
    [InlineData("javascript:alert(1)")]
    [InlineData("/expense/start")]
    [InlineData("expense.example.com")]
    [InlineData("https://exa mple.com/")]
    public async Task CreateAsync_LaunchUrlNotHttpsOrLoopback_IsRefusedOnThatFieldAndCreatesNothing(string launchUrl)
    {
        var name = DomainDatabase.NewCode("App");

        var error = await Assert.ThrowsAsync<RuleViolation>(() => database.CreateApplicationAsync(new ApplicationInput(name, null, launchUrl)));

        Assert.Equal(ViolationKind.Invalid, error.Kind);
        Assert.Equal(["launchUrl"], error.Errors.Keys);
        Assert.Equal("application.launchUrl", error.Codes[error.Errors["launchUrl"][0]].Code);
        Assert.False(await database.RunAsync(s => DomainDatabase.Db(s).Applications.AnyAsync(a => a.Name == name)));
    }

    [PrerequisiteTheory]
    [InlineData("https://cdn.example.com/expense.png")]
    [InlineData(PngIcon)]
    [InlineData("data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=")]
    [InlineData("DATA:IMAGE/JPEG;BASE64,/9j/")]
    public async Task CreateAsync_HttpsOrImageDataIcon_IsAccepted(string iconUrl)
    {
        var application = await database.CreateApplicationAsync(new ApplicationInput(DomainDatabase.NewCode("App"), null, IconUrl: iconUrl));

        Assert.Equal(iconUrl, application.IconUrl);
    }

    [PrerequisiteTheory]
    [InlineData("http://cdn.example.com/expense.png")]
    [InlineData("javascript:alert(1)")]
    [InlineData("data:text/html;base64,PGgxPmhpPC9oMT4=")]
    [InlineData("data:image/png,rawbytes")]
    [InlineData("data:image/png;base64,not base64!")]
    [InlineData("data:image/png;base64,")]
    [InlineData("icons/expense.png")]
    public async Task CreateAsync_IconNotHttpsOrImageData_IsRefusedOnThatField(string iconUrl)
    {
        var error = await Assert.ThrowsAsync<RuleViolation>(() =>
            database.CreateApplicationAsync(new ApplicationInput(DomainDatabase.NewCode("App"), null, IconUrl: iconUrl)));

        Assert.Equal(["iconUrl"], error.Errors.Keys);
    }

    [PrerequisiteFact]
    public async Task CreateAsync_IconLongerThanTheBound_IsRefusedOnThatField()
    {
        var icon = "data:image/png;base64," + Convert.ToBase64String(new byte[Application.IconUrlMaxLength]);

        var error = await Assert.ThrowsAsync<RuleViolation>(() =>
            database.CreateApplicationAsync(new ApplicationInput(DomainDatabase.NewCode("App"), null, IconUrl: icon)));

        Assert.Equal(["iconUrl"], error.Errors.Keys);
        Assert.Contains($"{Application.IconUrlMaxLength}", error.Errors["iconUrl"][0], StringComparison.Ordinal);
    }

    [PrerequisiteTheory]
    [InlineData("Dark")]
    [InlineData("blue_theme")]
    [InlineData("../default")]
    [InlineData("blue theme")]
    [InlineData("a-theme-name-that-is-far-too-long-for-a-folder-of-themes-0123456789")]
    public async Task CreateAsync_ThemeNotAFolderName_IsRefusedOnThatField(string theme)
    {
        var error = await Assert.ThrowsAsync<RuleViolation>(() =>
            database.CreateApplicationAsync(new ApplicationInput(DomainDatabase.NewCode("App"), null, Theme: theme)));

        Assert.Equal(["theme"], error.Errors.Keys);
    }

    [PrerequisiteFact]
    public async Task CreateAsync_EmptyOptionalFields_AreStoredAsNone()
    {
        var application = await database.CreateApplicationAsync(new ApplicationInput(DomainDatabase.NewCode("App"), null, " ", "", " "));

        Assert.Null(application.LaunchUrl);
        Assert.Null(application.IconUrl);
        Assert.Null(application.Theme);
    }

    [PrerequisiteFact]
    public async Task CreateAsync_NameTaken_IsRefusedOnNameWithItsCode()
    {
        var first = await database.CreateApplicationAsync(new ApplicationInput(DomainDatabase.NewCode("App"), null));

        var error = await Assert.ThrowsAsync<RuleViolation>(() => database.CreateApplicationAsync(new ApplicationInput($"  {first.Name} ", null)));

        Assert.Equal(ViolationKind.Invalid, error.Kind);
        var code = error.Codes[error.Errors["name"][0]];
        Assert.Equal("application.nameTaken", code.Code);
        Assert.Equal([first.Name], code.Arguments);
    }

    [PrerequisiteFact]
    public async Task UpdateAsync_AccessLossSwitchLeftOut_KeepsItWhileTheRestIsReplaced()
    {
        var created = await database.CreateApplicationAsync(
            new ApplicationInput(DomainDatabase.NewCode("App"), "Old", "https://old.example.com/", Theme: "old", RevokeTokensOnAccessLoss: false));

        var updated = await database.RunAsync(s => s.GetRequiredService<Applications>().UpdateAsync(
            created.Id, new ApplicationInput(created.Name, null, "https://new.example.com/"), Revision.Of(created.UpdatedAt), CancellationToken.None));

        Assert.False(updated.RevokeTokensOnAccessLoss);
        Assert.Equal("https://new.example.com/", updated.LaunchUrl);
        Assert.Null(updated.Description);
        Assert.Null(updated.Theme);
    }

    [PrerequisiteFact]
    public async Task UpdateAsync_StaleRevision_IsRefusedAndChangesNothing()
    {
        var created = await database.CreateApplicationAsync(new ApplicationInput(DomainDatabase.NewCode("App"), "Kept"));

        var error = await Assert.ThrowsAsync<RuleViolation>(() => database.RunAsync(s => s.GetRequiredService<Applications>().UpdateAsync(
            created.Id, new ApplicationInput(created.Name, "Changed"), Revision.Of(created.UpdatedAt) - 1, CancellationToken.None)));

        Assert.Equal(ViolationKind.Stale, error.Kind);
        Assert.Equal("Kept", await database.RunAsync(s => DomainDatabase.Db(s).Applications.Where(a => a.Id == created.Id).Select(a => a.Description).SingleAsync()));
    }

    [PrerequisiteFact]
    public async Task DeleteAsync_RoleAttached_IsAConflictNamingItAndDeletesNothing()
    {
        var (application, approve, _) = await database.CreateExpenseAppAsync();
        var role = await database.CreateRoleAsync(application.Id, DomainDatabase.NewCode("approver"), delegable: false, new RolePermissionInput(approve.Id));

        var error = await Assert.ThrowsAsync<RuleViolation>(() =>
            database.RunAsync(s => s.GetRequiredService<Applications>().DeleteAsync(application.Id, null, CancellationToken.None)));

        Assert.Equal(ViolationKind.Conflict, error.Kind);
        Assert.Equal([role.Name], (IEnumerable<string>)error.Details["roles"]!);
        Assert.Empty((IEnumerable<string>)error.Details["connectors"]!);
        Assert.True(await database.RunAsync(s => DomainDatabase.Db(s).Permissions.AnyAsync(p => p.ApplicationId == application.Id)));
    }

    [PrerequisiteFact]
    public async Task DeleteAsync_WithClientAndPermissions_TakesThemAlongAndAudits()
    {
        var (application, _, _) = await database.CreateExpenseAppAsync();
        var client = await database.RunAsync(s => s.GetRequiredService<OidcClients>().RegisterAsync(application.Id, ServiceClient(), null, CancellationToken.None));

        await database.RunAsync(s => s.GetRequiredService<Applications>().DeleteAsync(application.Id, null, CancellationToken.None));

        Assert.False(await database.RunAsync(s => DomainDatabase.Db(s).Applications.AnyAsync(a => a.Id == application.Id)));
        Assert.False(await database.RunAsync(s => DomainDatabase.Db(s).Permissions.AnyAsync(p => p.ApplicationId == application.Id)));
        Assert.False(await database.RunAsync(s => DomainDatabase.Db(s).Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication>()
            .AnyAsync(a => a.ClientId == client.ClientId)));
        Assert.True(await database.RunAsync(s => DomainDatabase.Db(s).AuditEvents.AnyAsync(e => e.Type == "application.deleted" && e.TargetId == application.Id.ToString())));
    }

    [PrerequisiteFact]
    public async Task RegisterAsync_HttpRedirectOutsideLoopback_IsRefusedWithTheApiFieldAndWritesNothing()
    {
        var application = await database.CreateApplicationAsync(new ApplicationInput(DomainDatabase.NewCode("App"), null));
        var web = ServiceClient() with
        {
            GrantTypes = ["authorization_code"], RedirectUris = ["http://expense.example.com/callback"], Scopes = ["openid"],
        };

        var error = await Assert.ThrowsAsync<RuleViolation>(() =>
            database.RunAsync(s => s.GetRequiredService<OidcClients>().RegisterAsync(application.Id, web, null, CancellationToken.None)));

        Assert.Equal(ViolationKind.Invalid, error.Kind);
        Assert.StartsWith("\"http://expense.example.com/callback\" must use https", Assert.Single(error.Errors["redirectUris"]), StringComparison.Ordinal);
        Assert.Null(await database.RunAsync(s => DomainDatabase.Db(s).Applications.Where(a => a.Id == application.Id).Select(a => a.OidcClientId).SingleAsync()));
    }

    [PrerequisiteFact]
    public async Task RegisterAsync_SecurityAdminGrantingSuperAdmin_IsForbidden()
    {
        var application = await database.CreateApplicationAsync(new ApplicationInput(DomainDatabase.NewCode("App"), null));
        var securityAdmin = new Actor("sec", "Security admin", new HashSet<string>(StringComparer.Ordinal) { AdminRoles.SecurityAdmin });

        var error = await database.AsAsync(securityAdmin, () => Assert.ThrowsAsync<RuleViolation>(() => database.RunAsync(s =>
            s.GetRequiredService<OidcClients>().RegisterAsync(application.Id, ServiceClient() with { AdminRoles = [AdminRoles.SuperAdmin] }, null, CancellationToken.None))));

        Assert.Equal(ViolationKind.Forbidden, error.Kind);
    }

    [PrerequisiteFact]
    public async Task SetEnabledAsync_Disable_KeepsTheRegistrationAndTheSecretAndAuditsIt()
    {
        var application = await database.CreateApplicationAsync(new ApplicationInput(DomainDatabase.NewCode("App"), null));
        var registered = await database.RunAsync(s => s.GetRequiredService<OidcClients>().RegisterAsync(application.Id, ServiceClient(), null, CancellationToken.None));
        var digest = await StoredSecretAsync(registered.ClientId);

        var disabled = await database.RunAsync(s => s.GetRequiredService<OidcClients>().SetEnabledAsync(application.Id, false, null, CancellationToken.None));

        Assert.False(disabled.Enabled);
        Assert.Null(disabled.ClientSecret);
        Assert.Equal(registered.ClientId, disabled.ClientId);
        Assert.Equal(registered.GrantTypes, disabled.GrantTypes);
        Assert.Equal(digest, await StoredSecretAsync(registered.ClientId));
        Assert.True(await database.RunAsync(s => DomainDatabase.Db(s).AuditEvents.AnyAsync(e => e.Type == "client.updated" && e.TargetId == application.Id.ToString())));
    }

    [PrerequisiteFact]
    public async Task RotateSecretAsync_ClientWithSecret_StoresOnlyTheDigestOfTheNewOne()
    {
        var application = await database.CreateApplicationAsync(new ApplicationInput(DomainDatabase.NewCode("App"), null));
        var registered = await database.RunAsync(s => s.GetRequiredService<OidcClients>().RegisterAsync(application.Id, ServiceClient(), null, CancellationToken.None));

        var rotated = await database.RunAsync(s => s.GetRequiredService<OidcClients>().RotateSecretAsync(application.Id, null, CancellationToken.None));

        Assert.NotEqual(registered.ClientSecret, rotated.ClientSecret);
        Assert.Equal(ClientSecrets.Hash(rotated.ClientSecret), await StoredSecretAsync(registered.ClientId));
        var audited = await database.RunAsync(s => DomainDatabase.Db(s).AuditEvents.AsNoTracking()
            .SingleAsync(e => e.Type == "client.secret-rotated" && e.TargetId == application.Id.ToString()));
        Assert.DoesNotContain(rotated.ClientSecret, audited.After, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task SetEnabledAsync_RevisionReadBeforeTheRegistration_IsRefusedAsStaleAndChangesNothing()
    {
        var application = await database.CreateApplicationAsync(new ApplicationInput(DomainDatabase.NewCode("App"), null));
        var read = Revision.Of(application.UpdatedAt);
        await LaterAsync(() => database.RunAsync(s => s.GetRequiredService<OidcClients>().RegisterAsync(application.Id, ServiceClient(), read, CancellationToken.None)));

        var error = await Assert.ThrowsAsync<RuleViolation>(() => database.RunAsync(s =>
            s.GetRequiredService<OidcClients>().SetEnabledAsync(application.Id, false, read, CancellationToken.None)));

        Assert.Equal(ViolationKind.Stale, error.Kind);
        Assert.True((await database.RunAsync(s => s.GetRequiredService<OidcClientQueries>().GetAsync(application.Id, CancellationToken.None)))!.Registration.Enabled);
    }

    [PrerequisiteFact]
    public async Task RotateSecretAsync_TheSameRevisionTwice_RotatesOnceAndRefusesTheSecondAsStale()
    {
        var application = await database.CreateApplicationAsync(new ApplicationInput(DomainDatabase.NewCode("App"), null));
        await database.RunAsync(s => s.GetRequiredService<OidcClients>().RegisterAsync(application.Id, ServiceClient(), null, CancellationToken.None));
        var shown = (await database.RunAsync(s => s.GetRequiredService<OidcClientQueries>().GetAsync(application.Id, CancellationToken.None)))!.Revision;
        var first = await LaterAsync(() => database.RunAsync(s => s.GetRequiredService<OidcClients>().RotateSecretAsync(application.Id, shown, CancellationToken.None)));

        var error = await Assert.ThrowsAsync<RuleViolation>(() => database.RunAsync(s =>
            s.GetRequiredService<OidcClients>().RotateSecretAsync(application.Id, shown, CancellationToken.None)));

        Assert.Equal(ViolationKind.Stale, error.Kind);
        Assert.Equal(ClientSecrets.Hash(first.ClientSecret), await StoredSecretAsync(first.ClientId));
    }

    [PrerequisiteFact]
    public async Task RoleDisplayName_AnyText_IsKeptBesideTheIdentifierKey()
    {
        var (application, approve, _) = await database.CreateExpenseAppAsync();

        var role = await database.RunAsync(s => s.GetRequiredService<Roles>().CreateAsync(
            new RoleInput(application.Id, "finance-approver", null, false, [new RolePermissionInput(approve.Id)], "  财务审批人 (Finance approver) "), CancellationToken.None));

        Assert.Equal("finance-approver", role.Name);
        Assert.Equal("财务审批人 (Finance approver)", role.DisplayName);
        var audited = await database.RunAsync(s => DomainDatabase.Db(s).AuditEvents.AsNoTracking()
            .SingleAsync(e => e.Type == "role.created" && e.TargetId == role.Id.ToString()));
        Assert.Contains("\"displayName\":", audited.After, StringComparison.Ordinal);
    }

    [PrerequisiteTheory]
    [InlineData(Role.DisplayNameMaxLength + 1, "displayName")]
    [InlineData(0, null)]
    [InlineData(Role.DisplayNameMaxLength, null)]
    public async Task RoleDisplayName_Length_IsBoundedAt200Characters(int length, string? refusedField)
    {
        var (application, _, _) = await database.CreateExpenseAppAsync();
        var input = new RoleInput(application.Id, DomainDatabase.NewCode("role"), null, false, [], new string('审', length));

        var create = database.RunAsync(s => s.GetRequiredService<Roles>().CreateAsync(input, CancellationToken.None));

        if (refusedField is null)
        {
            Assert.Equal(length == 0 ? null : input.DisplayName, (await create).DisplayName);
        }
        else
        {
            Assert.Equal([refusedField], (await Assert.ThrowsAsync<RuleViolation>(() => create)).Errors.Keys);
        }
    }

    [PrerequisiteFact]
    public async Task RoleName_WithSpaces_IsStillRefusedEvenWithADisplayName()
    {
        var (application, _, _) = await database.CreateExpenseAppAsync();

        var error = await Assert.ThrowsAsync<RuleViolation>(() => database.RunAsync(s => s.GetRequiredService<Roles>().CreateAsync(
            new RoleInput(application.Id, "Finance approver", null, false, [], "Finance approver"), CancellationToken.None)));

        Assert.Equal(["name"], error.Errors.Keys);
    }

    /// <summary>Runs <paramref name="write"/> a minute on, so its revision differs from one read just before whatever the machine's speed.</summary>
    private async Task<T> LaterAsync<T>(Func<Task<T>> write)
    {
        database.Clock.Offset = TimeSpan.FromMinutes(1);
        try
        {
            return await write();
        }
        finally
        {
            database.Clock.Offset = TimeSpan.Zero;
        }
    }

    /// <summary>A confidential client using the client credentials grant with a secret.</summary>
    private static ClientRegistrationRequest ServiceClient() => new(
        ClientType: "confidential", RedirectUris: [], PostLogoutRedirectUris: [], GrantTypes: ["client_credentials"], Scopes: [],
        TokenEndpointAuthMethod: "client_secret_basic", Jwks: null, FirstParty: true, RequirePkce: false, RequirePushedAuthorization: false,
        BackchannelLogoutUri: null, AccessTokenLifetimeSeconds: null, RefreshTokenLifetimeSeconds: null, IdentityTokenLifetimeSeconds: null,
        AuthorizationCodeLifetimeSeconds: null, AdminRoles: []);

    private Task<string?> StoredSecretAsync(string clientId) =>
        database.RunAsync(s => DomainDatabase.Db(s).Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication>()
            .Where(a => a.ClientId == clientId).Select(a => a.ClientSecret).SingleAsync());
}

public sealed class SqliteApplicationsTests(SqliteDomainDatabase database) : ApplicationsTests<SqliteDomainDatabase>(database);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlApplicationsTests(PostgreSqlDomainDatabase database) : ApplicationsTests<PostgreSqlDomainDatabase>(database);
