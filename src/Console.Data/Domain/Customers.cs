using ComplianceConsole.Core.Auditing;

namespace ComplianceConsole.Data.Domain;

public enum RiskRating
{
    Low,
    Medium,
    High,
}

/// <summary>A bank customer under KYC. Int identity key; the address is a complex type stored in the same table.</summary>
public class Customer
{
    public int Id { get; set; }
    public string Name { get; set; } = "";
    public string Email { get; set; } = "";
    public RiskRating Risk { get; set; }
    public Address Address { get; set; } = new();

    /// <summary>The tax id is personal data: its changes are audited, its value never is.</summary>
    [AuditRedact]
    public string? TaxId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? KycVerifiedAt { get; set; }

    /// <summary>Touched on every view; auditing it would drown the trail.</summary>
    [AuditIgnore]
    public DateTimeOffset? LastViewedAt { get; set; }

    public List<Tag> Tags { get; set; } = [];
    public List<Account> Accounts { get; set; } = [];
    public List<Document> Documents { get; set; } = [];
}

public class Address
{
    public string Street { get; set; } = "";
    public string City { get; set; } = "";
    public string PostalCode { get; set; } = "";
    public string Country { get; set; } = "";
}

/// <summary>Many-to-many with <see cref="Customer"/> through the CustomerTags join table.</summary>
public class Tag
{
    public int Id { get; set; }
    public string Name { get; set; } = "";
    public List<Customer> Customers { get; set; } = [];
}
