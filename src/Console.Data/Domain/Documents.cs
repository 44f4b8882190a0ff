namespace ComplianceConsole.Data.Domain;

/// <summary>Inheritance: one Documents table (TPH) with a Kind discriminator.</summary>
public abstract class Document
{
    public Guid Id { get; set; }
    public int CustomerId { get; set; }
    public Customer? Customer { get; set; }
    public string Title { get; set; } = "";
    public DateTimeOffset UploadedAt { get; set; }

    /// <summary>SHA-256 of the file, kept as bytes to exercise binary columns.</summary>
    public byte[]? ContentHash { get; set; }
}

public class KycDocument : Document
{
    public string DocumentNumber { get; set; } = "";
    public DateOnly? ExpiresOn { get; set; }
}

public class Contract : Document
{
    public DateOnly SignedOn { get; set; }
    public decimal? ContractValue { get; set; }
}

/// <summary>The kinds of document as the console names them.</summary>
public static class DocumentKinds
{
    public const string Kyc = "KYC";
    public const string Contract = "Contract";
}
