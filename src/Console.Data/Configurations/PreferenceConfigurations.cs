using ComplianceConsole.Data.Domain;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ComplianceConsole.Data.Configurations;

public sealed class UserPreferenceConfiguration : IEntityTypeConfiguration<UserPreference>
{
    public void Configure(EntityTypeBuilder<UserPreference> b)
    {
        b.HasKey(p => p.UserId);
        b.Property(p => p.Theme).HasMaxLength(16);
        b.Property(p => p.TimeZone).HasMaxLength(16).HasDefaultValue(TimeZoneChoices.Utc);
        b.Property(p => p.AuditColumns).HasMaxLength(400);
        b.Property(p => p.AuditDensity).HasMaxLength(16);
    }
}

public sealed class SavedSearchConfiguration : IEntityTypeConfiguration<SavedSearch>
{
    public void Configure(EntityTypeBuilder<SavedSearch> b)
    {
        b.Property(s => s.OwnerId).HasMaxLength(450);
        b.Property(s => s.Name).HasMaxLength(100);
        b.Property(s => s.Query).HasMaxLength(4000);
        b.HasIndex(s => new { s.OwnerId, s.Name }).IsUnique();
    }
}
