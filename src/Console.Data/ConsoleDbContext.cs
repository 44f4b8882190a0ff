using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using ComplianceConsole.Data.Configurations;
using ComplianceConsole.Data.Queries;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data;

/// <summary>
/// The console's managed data, its users and roles, and the audit store, in one database so that an
/// audit entry commits in the same transaction as the change it describes. Use a provider subclass
/// (<see cref="SqliteConsoleDbContext"/>, <see cref="SqlServerConsoleDbContext"/>): each owns its migrations.
/// </summary>
public abstract class ConsoleDbContext(DbContextOptions options) : IdentityDbContext<ConsoleUser>(options)
{
    public DbSet<Customer> Customers => Set<Customer>();
    public DbSet<Tag> Tags => Set<Tag>();
    public DbSet<Account> Accounts => Set<Account>();
    public DbSet<AccountSignatory> AccountSignatories => Set<AccountSignatory>();
    public DbSet<Payment> Payments => Set<Payment>();
    public DbSet<Document> Documents => Set<Document>();
    public DbSet<UserPreference> UserPreferences => Set<UserPreference>();
    public DbSet<SavedSearch> SavedSearches => Set<SavedSearch>();
    public DbSet<Rollups.AuditHourCount> AuditHourCounts => Set<Rollups.AuditHourCount>();
    public DbSet<Rollups.AuditActorHourCount> AuditActorHourCounts => Set<Rollups.AuditActorHourCount>();
    public DbSet<Rollups.AuditActorDayCount> AuditActorDayCounts => Set<Rollups.AuditActorDayCount>();
    public DbSet<Rollups.AuditActorFirst> AuditActorFirsts => Set<Rollups.AuditActorFirst>();
    public DbSet<Rollups.AuditActorDayPeak> AuditActorDayPeaks => Set<Rollups.AuditActorDayPeak>();
    public DbSet<Rollups.AuditRollupMark> AuditRollupMarks => Set<Rollups.AuditRollupMark>();
    public DbSet<AuditTextWord> AuditTextWords => Set<AuditTextWord>();

    public DbSet<Retention.RetentionPolicy> RetentionPolicies => Set<Retention.RetentionPolicy>();
    public DbSet<Retention.RetentionChange> RetentionChanges => Set<Retention.RetentionChange>();
    public DbSet<Retention.LegalHold> LegalHolds => Set<Retention.LegalHold>();
    public DbSet<Retention.JobRun> JobRuns => Set<Retention.JobRun>();
    public DbSet<Retention.PurgeRun> PurgeRuns => Set<Retention.PurgeRun>();
    public DbSet<Retention.JobLease> JobLeases => Set<Retention.JobLease>();

    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();
    public DbSet<Retention.AuditRemovedRangeRow> AuditRemovedRanges => Set<Retention.AuditRemovedRangeRow>();
    public DbSet<AuditPendingRow> AuditPending => Set<AuditPendingRow>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(ConsoleDbContext).Assembly);
        builder.AddAuditStore(Database.IsSqlServer());
        builder.AddAuditDbFunctions(Database.IsSqlServer());
        builder.AddAuditTextHits();
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<CurrencyCode>().HaveConversion<CurrencyCodeConverter>().HaveMaxLength(3);
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        RefuseAuditStoreChanges();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        RefuseAuditStoreChanges();
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    private void RefuseAuditStoreChanges()
    {
        if (ChangeTracker.Entries<AuditEntry>().Any(e => e.State is EntityState.Modified or EntityState.Deleted or EntityState.Added))
        {
            throw new InvalidOperationException(
                "Audit entries are append-only: the console never changes or deletes them, and new ones are written only by the capture engine. " +
                "To correct a mistake, make a new change to the record; to remove old entries, set a retention policy.");
        }
    }
}

/// <summary>
/// SQLite, the embedded default.
/// New migration: <c>dotnet ef migrations add NAME --project src/Console.Data --context SqliteConsoleDbContext --output-dir Migrations/Sqlite</c> (no --namespace: it would move the model snapshot)
/// </summary>
public sealed class SqliteConsoleDbContext(DbContextOptions<SqliteConsoleDbContext> options) : ConsoleDbContext(options);

/// <summary>
/// SQL Server, the scale-out choice.
/// New migration: <c>dotnet ef migrations add NAME --project src/Console.Data --context SqlServerConsoleDbContext --output-dir Migrations/SqlServer</c>
/// </summary>
public sealed class SqlServerConsoleDbContext(DbContextOptions<SqlServerConsoleDbContext> options) : ConsoleDbContext(options);
