using ComplianceConsole.Data.Domain;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace ComplianceConsole.Data.Configurations;

public sealed class CurrencyCodeConverter() : ValueConverter<CurrencyCode, string>(c => c.Code, s => new CurrencyCode(s));

public sealed class CustomerConfiguration : IEntityTypeConfiguration<Customer>
{
    public void Configure(EntityTypeBuilder<Customer> b)
    {
        b.Property(c => c.Name).HasMaxLength(200);
        b.Property(c => c.Email).HasMaxLength(256);
        b.Property(c => c.TaxId).HasMaxLength(32);
        b.Property(c => c.Risk).HasConversion<string>().HasMaxLength(16);
        b.ComplexProperty(c => c.Address, a =>
        {
            a.Property(x => x.Street).HasMaxLength(200);
            a.Property(x => x.City).HasMaxLength(100);
            a.Property(x => x.PostalCode).HasMaxLength(20);
            a.Property(x => x.Country).HasMaxLength(2);
        });
        b.HasMany(c => c.Tags).WithMany(t => t.Customers).UsingEntity(j => j.ToTable("CustomerTags"));
        b.HasIndex(c => c.Email);
    }
}

public sealed class TagConfiguration : IEntityTypeConfiguration<Tag>
{
    public void Configure(EntityTypeBuilder<Tag> b)
    {
        b.Property(t => t.Name).HasMaxLength(50);
        b.HasIndex(t => t.Name).IsUnique();
    }
}

public sealed class AccountConfiguration : IEntityTypeConfiguration<Account>
{
    public void Configure(EntityTypeBuilder<Account> b)
    {
        b.Property(a => a.Id).ValueGeneratedNever();
        b.Property(a => a.Iban).HasMaxLength(34);
        b.Property(a => a.Balance).HasPrecision(18, 2);
        b.Property(a => a.Status).HasConversion<string>().HasMaxLength(16);
        b.HasOne(a => a.Customer).WithMany(c => c.Accounts).HasForeignKey(a => a.CustomerId);
        b.HasIndex(a => a.Iban).IsUnique();
    }
}

public sealed class AccountSignatoryConfiguration : IEntityTypeConfiguration<AccountSignatory>
{
    public void Configure(EntityTypeBuilder<AccountSignatory> b)
    {
        b.HasKey(s => new { s.AccountId, s.CustomerId });
        b.Property(s => s.Role).HasConversion<string>().HasMaxLength(16);
        b.HasOne(s => s.Account).WithMany(a => a.Signatories).HasForeignKey(s => s.AccountId);
        b.HasOne(s => s.Customer).WithMany().HasForeignKey(s => s.CustomerId).OnDelete(DeleteBehavior.Restrict);
    }
}

public sealed class PaymentConfiguration : IEntityTypeConfiguration<Payment>
{
    public void Configure(EntityTypeBuilder<Payment> b)
    {
        b.Property(p => p.Amount).HasPrecision(18, 2);
        b.Property(p => p.Reference).HasMaxLength(140);
        b.Property(p => p.Beneficiary).HasMaxLength(200);
        b.Property(p => p.Status).HasConversion<string>().HasMaxLength(16);
        b.HasOne(p => p.Account).WithMany().HasForeignKey(p => p.AccountId);
    }
}

public sealed class DocumentConfiguration : IEntityTypeConfiguration<Document>
{
    public void Configure(EntityTypeBuilder<Document> b)
    {
        b.Property(d => d.Id).ValueGeneratedNever();
        b.Property(d => d.Title).HasMaxLength(200);
        b.HasDiscriminator<string>("Kind").HasValue<KycDocument>("Kyc").HasValue<Contract>("Contract");
        b.Property("Kind").HasMaxLength(16);
        b.HasOne(d => d.Customer).WithMany(c => c.Documents).HasForeignKey(d => d.CustomerId);
    }
}

public sealed class KycDocumentConfiguration : IEntityTypeConfiguration<KycDocument>
{
    public void Configure(EntityTypeBuilder<KycDocument> b) => b.Property(d => d.DocumentNumber).HasMaxLength(64);
}

public sealed class ContractConfiguration : IEntityTypeConfiguration<Contract>
{
    public void Configure(EntityTypeBuilder<Contract> b) => b.Property(d => d.ContractValue).HasPrecision(18, 2);
}

public sealed class ConsoleUserConfiguration : IEntityTypeConfiguration<ConsoleUser>
{
    public void Configure(EntityTypeBuilder<ConsoleUser> b) => b.Property(u => u.DisplayName).HasMaxLength(200);
}
