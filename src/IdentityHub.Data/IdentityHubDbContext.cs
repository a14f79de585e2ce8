using IdentityHub.Data.Access;
using IdentityHub.Data.Audit;
using IdentityHub.Data.Cluster;
using IdentityHub.Data.Directory;
using IdentityHub.Data.Inbound;
using IdentityHub.Data.Keys;
using IdentityHub.Data.Mail;
using IdentityHub.Data.Provisioning;
using IdentityHub.Data.Sessions;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace IdentityHub.Data;

/// <summary>
/// The one database context: ASP.NET Core Identity, OpenIddict, Data Protection keys and the domain.
/// The model is the same on every provider; each provider has its own migrations assembly.
/// </summary>
public sealed class IdentityHubDbContext(DbContextOptions<IdentityHubDbContext> options)
    : IdentityDbContext<UserAccount>(options), IDataProtectionKeyContext
{
    public const string SqliteProviderName = "Microsoft.EntityFrameworkCore.Sqlite";

    public const string PostgreSqlProviderName = "Npgsql.EntityFrameworkCore.PostgreSQL";

    public DbSet<Department> Departments => Set<Department>();

    public DbSet<Application> Applications => Set<Application>();

    public DbSet<AdministeredDepartment> AdministeredDepartments => Set<AdministeredDepartment>();

    public DbSet<Permission> Permissions => Set<Permission>();

    public DbSet<Role> AccessRoles => Set<Role>();

    public DbSet<RoleAssignment> RoleAssignments => Set<RoleAssignment>();

    public DbSet<SeparationOfDutyRule> SeparationOfDutyRules => Set<SeparationOfDutyRule>();

    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();

    public DbSet<AuditChainHead> AuditChainHead => Set<AuditChainHead>();

    public DbSet<Connector> Connectors => Set<Connector>();

    public DbSet<OutboxEntry> Outbox => Set<OutboxEntry>();

    public DbSet<ConnectorUserState> ConnectorUserStates => Set<ConnectorUserState>();

    public DbSet<DeliveryAttempt> DeliveryAttempts => Set<DeliveryAttempt>();

    public DbSet<ConnectorDepartmentState> ConnectorDepartmentStates => Set<ConnectorDepartmentState>();

    public DbSet<SamlServiceProvider> SamlServiceProviders => Set<SamlServiceProvider>();

    public DbSet<SamlSeenMessage> SamlSeenMessages => Set<SamlSeenMessage>();

    public DbSet<ReconciliationRun> ReconciliationRuns => Set<ReconciliationRun>();

    public DbSet<InboundSource> InboundSources => Set<InboundSource>();

    public DbSet<InboundSourceSubtree> InboundSourceSubtrees => Set<InboundSourceSubtree>();

    public DbSet<InboundRun> InboundRuns => Set<InboundRun>();

    public DbSet<InboundConflict> InboundConflicts => Set<InboundConflict>();

    public DbSet<SigningKey> SigningKeys => Set<SigningKey>();

    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<SessionParticipant> SessionParticipants => Set<SessionParticipant>();

    public DbSet<BackchannelLogoutDelivery> BackchannelLogoutDeliveries => Set<BackchannelLogoutDelivery>();

    public DbSet<UserSession> UserSessions => Set<UserSession>();

    public DbSet<ClusterSignal> ClusterSignals => Set<ClusterSignal>();

    public DbSet<ClusterNode> ClusterNodes => Set<ClusterNode>();

    public DbSet<PasskeyUse> PasskeyUses => Set<PasskeyUse>();

    public DbSet<MailMessage> MailOutbox => Set<MailMessage>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        // Identity picks its schema from IdentityOptions; a context built without them would silently
        // lose the passkeys table and disagree with the migrations.
        if (builder.Model.FindEntityType(typeof(IdentityUserPasskey<string>)) is null)
        {
            throw new InvalidOperationException(
                "IdentityHubDbContext needs Identity schema version 3: configure IdentityOptions with IdentityHubSchema.ConfigureStores.");
        }

        builder.UseOpenIddict();
        builder.ApplyConfigurationsFromAssembly(typeof(IdentityHubDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);
        // SQLite has no date-time-offset type and cannot compare or order the text EF would store,
        // so instants are stored there as sortable 64-bit numbers.
        if (Database.ProviderName == SqliteProviderName)
        {
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        }
    }
}
