namespace IdentityHub.Testing;

/// <summary>Tables a migrated database must have, whatever the provider.</summary>
public static class ExpectedSchema
{
    public static ISet<string> CoreTables => new HashSet<string>
    {
        "AspNetUsers", "AspNetRoles", "AspNetUserPasskeys", "OpenIddictApplications", "OpenIddictTokens",
        "DataProtectionKeys", "SigningKeys", "Departments", "ClusterSignals", "ClusterNodes", "MailOutbox",
    };
}
