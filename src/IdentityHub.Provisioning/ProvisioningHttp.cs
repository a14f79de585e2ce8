namespace IdentityHub.Provisioning;

/// <summary>The named HttpClient connectors send with: no redirects, one attempt bounded by Provisioning:AttemptTimeout.</summary>
public static class ProvisioningHttp
{
    public const string ClientName = "IdentityHub.Provisioning";
}
