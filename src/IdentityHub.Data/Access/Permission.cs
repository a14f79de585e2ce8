namespace IdentityHub.Data.Access;

/// <summary>
/// Something an application lets people do (<c>expense.approve</c>). Parameters carry default values
/// (<c>amountLimit = 5000</c>) that a role may override.
/// </summary>
public sealed class Permission
{
    public const int NameMaxLength = 100;

    public Guid Id { get; set; }

    public Guid ApplicationId { get; set; }

    public Application? Application { get; set; }

    /// <summary>Unique within the application; lower case, dots and dashes (<c>expense.approve</c>).</summary>
    public required string Name { get; set; }

    public string? Description { get; set; }

    public Dictionary<string, string> Parameters { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
