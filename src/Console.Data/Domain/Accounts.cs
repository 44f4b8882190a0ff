namespace ComplianceConsole.Data.Domain;

public enum AccountStatus
{
    Open,
    Frozen,
    Closed,
}

public enum SignatoryRole
{
    Owner,
    Signatory,
    Viewer,
}

public enum PaymentStatus
{
    Pending,
    Settled,
    Rejected,
    Reversed,
}

/// <summary>An ISO 4217 currency code, stored as its three letters through a value converter.</summary>
public readonly record struct CurrencyCode
{
    public CurrencyCode(string code)
    {
        if (code is not { Length: 3 } || !code.All(char.IsAsciiLetterUpper))
        {
            throw new ArgumentException($"\"{code}\" is not a currency code: use three capital letters such as EUR.", nameof(code));
        }

        Code = code;
    }

    public string Code { get; }

    public override string ToString() => Code;
}

/// <summary>Guid key.</summary>
public class Account
{
    public Guid Id { get; set; }
    public int CustomerId { get; set; }
    public Customer? Customer { get; set; }
    public string Iban { get; set; } = "";
    public CurrencyCode Currency { get; set; } = new("EUR");
    public decimal Balance { get; set; }
    public AccountStatus Status { get; set; }
    public DateTimeOffset OpenedAt { get; set; }
    public DateTimeOffset? ClosedAt { get; set; }
    public List<AccountSignatory> Signatories { get; set; } = [];
}

/// <summary>Composite key (AccountId, CustomerId).</summary>
public class AccountSignatory
{
    public Guid AccountId { get; set; }
    public int CustomerId { get; set; }
    public SignatoryRole Role { get; set; }
    public DateTimeOffset GrantedAt { get; set; }
    public Account? Account { get; set; }
    public Customer? Customer { get; set; }
}

/// <summary>Long identity key.</summary>
public class Payment
{
    public long Id { get; set; }
    public Guid AccountId { get; set; }
    public Account? Account { get; set; }
    public decimal Amount { get; set; }
    public CurrencyCode Currency { get; set; } = new("EUR");
    public string Reference { get; set; } = "";
    public string Beneficiary { get; set; } = "";
    public PaymentStatus Status { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? SettledAt { get; set; }
}
