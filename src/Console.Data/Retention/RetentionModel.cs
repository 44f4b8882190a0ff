using ComplianceConsole.Core.Chain;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ComplianceConsole.Data.Retention;

/// <summary>How long one scope's entries are kept (<see cref="Core.Retention.RetentionScopes"/>); a scope with no row keeps them forever.</summary>
public sealed class RetentionPolicy
{
    public string Scope { get; set; } = "";

    /// <summary>Null: forever.</summary>
    public int? Days { get; set; }

    public string Reason { get; set; } = "";
    public string ChangedBy { get; set; } = "";
    public DateTime ChangedAtUtc { get; set; }
}

/// <summary>A change of a policy that shortens it: pending until a second officer approves or rejects it (the four-eyes rule).</summary>
public sealed class RetentionChange
{
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Rejected = "rejected";
    public const string Withdrawn = "withdrawn";

    public long Id { get; set; }
    public string Scope { get; set; } = "";
    public int? FromDays { get; set; }
    public int? ToDays { get; set; }
    public string Reason { get; set; } = "";
    public string RequestedBy { get; set; } = "";
    public DateTime RequestedAtUtc { get; set; }
    public string Status { get; set; } = Pending;
    public string? DecidedBy { get; set; }
    public DateTime? DecidedAtUtc { get; set; }
    public string? DecisionNote { get; set; }
}

/// <summary>
/// A legal hold: the entries a query of the audit browser matches (table, record, actor, time range or any filter) are
/// never purged while it stands. It has no expiry; it is released explicitly, with a reason.
/// </summary>
public sealed class LegalHold
{
    public long Id { get; set; }

    /// <summary>The hold's filter, in the query language of the audit browser (docs/query-language.md).</summary>
    public string Query { get; set; } = "";

    public DateTime? FromUtc { get; set; }
    public DateTime? ToUtc { get; set; }
    public string Reason { get; set; } = "";

    /// <summary>The case or matter number.</summary>
    public string Reference { get; set; } = "";

    public string PlacedBy { get; set; } = "";
    public DateTime PlacedAtUtc { get; set; }
    public string? ReleasedBy { get; set; }
    public DateTime? ReleasedAtUtc { get; set; }
    public string? ReleaseReason { get; set; }

    public bool Active => ReleasedAtUtc is null;
}

/// <summary>One run of one job (purge, checkpoint, verification, reconciliation, rollups), as the jobs page lists it.</summary>
public sealed class JobRun
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";

    public long Id { get; set; }
    public string Job { get; set; } = "";

    /// <summary>"schedule", or who pressed Run now.</summary>
    public string TriggeredBy { get; set; } = "";

    public DateTime StartedAtUtc { get; set; }
    public DateTime? FinishedAtUtc { get; set; }

    /// <summary>Updated while it runs: a running job whose heartbeat stopped is stuck.</summary>
    public DateTime HeartbeatAtUtc { get; set; }

    public string Status { get; set; } = Running;
    public long RowsArchived { get; set; }
    public long RowsDeleted { get; set; }
    public string? ArchiveLocation { get; set; }
    public string? ArchiveSha256 { get; set; }
    public string? Summary { get; set; }
    public string? Error { get; set; }
}

/// <summary>
/// Where a purge run stands, so that the next run finishes it after a crash: selected → archived (written and verified)
/// → anchored (the chain records it) → done (deleted).
/// </summary>
public sealed record PurgeRun
{
    public const string Archiving = "archiving";
    public const string Archived = "archived";
    public const string Anchored = "anchored";
    public const string Done = "done";

    public string Id { get; set; } = "";
    public long JobRunId { get; set; }
    public string Phase { get; set; } = Archiving;
    public DateTime StartedAtUtc { get; set; }
    public DateTime UpdatedAtUtc { get; set; }

    /// <summary>The head of the chain when the run selected its entries: it never looks past it.</summary>
    public long HeadSeq { get; set; }

    /// <summary>The archive's folder name under the archive root.</summary>
    public string Folder { get; set; } = "";

    public string? ManifestSha256 { get; set; }
    public long Entries { get; set; }
    public long Deleted { get; set; }
    public long? AnchorSeq { get; set; }
}

/// <summary>A lease that lets one process at a time run a job (the purge), whatever Quartz fires: taken with an expiry, renewed, released.</summary>
public sealed class JobLease
{
    public string Name { get; set; } = "";
    public string Holder { get; set; } = "";
    public DateTime ExpiresAtUtc { get; set; }
}

/// <summary>The store's record of a removed range (<see cref="RemovedRange"/>); append-only, like the entries.</summary>
public class AuditRemovedRangeRow
{
    // Virtual, unsealed: a context that opts into the trail may use change-tracking proxies.
    public virtual long FirstSeq { get; set; }
    public virtual long ThroughSeq { get; set; }
    public virtual string LastRowHash { get; set; } = "";
    public virtual string RunId { get; set; } = "";

    public RemovedRange ToRange() => new(FirstSeq, ThroughSeq, LastRowHash, RunId);
}

public static class RetentionTables
{
    public const string Policies = "RetentionPolicies";
    public const string Changes = "RetentionChanges";
    public const string Holds = "LegalHolds";
    public const string JobRuns = "JobRuns";
    public const string PurgeRuns = "PurgeRuns";
    public const string Leases = "JobLeases";
    public const string RemovedRanges = "AuditRemovedRanges";

    /// <summary>Recorded by their own events (with reasons), not by capture.</summary>
    public static readonly string[] All = [Policies, Changes, Holds, JobRuns, PurgeRuns, Leases, RemovedRanges];
}

internal sealed class RetentionConfigurations :
    IEntityTypeConfiguration<RetentionPolicy>, IEntityTypeConfiguration<RetentionChange>, IEntityTypeConfiguration<LegalHold>,
    IEntityTypeConfiguration<JobRun>, IEntityTypeConfiguration<PurgeRun>, IEntityTypeConfiguration<JobLease>
{
    public void Configure(EntityTypeBuilder<RetentionPolicy> b)
    {
        b.ToTable(RetentionTables.Policies);
        b.HasKey(p => p.Scope);
        b.Property(p => p.Scope).HasMaxLength(128);
        b.Property(p => p.Reason).HasMaxLength(1000);
        b.Property(p => p.ChangedBy).HasMaxLength(256);
    }

    public void Configure(EntityTypeBuilder<RetentionChange> b)
    {
        b.ToTable(RetentionTables.Changes);
        b.Property(c => c.Scope).HasMaxLength(128);
        b.Property(c => c.Reason).HasMaxLength(1000);
        b.Property(c => c.RequestedBy).HasMaxLength(256);
        b.Property(c => c.Status).HasMaxLength(16);
        b.Property(c => c.DecidedBy).HasMaxLength(256);
        b.Property(c => c.DecisionNote).HasMaxLength(1000);
        b.HasIndex(c => c.Status);
    }

    public void Configure(EntityTypeBuilder<LegalHold> b)
    {
        b.ToTable(RetentionTables.Holds);
        b.Property(h => h.Query).HasMaxLength(2000);
        b.Property(h => h.Reason).HasMaxLength(1000);
        b.Property(h => h.Reference).HasMaxLength(200);
        b.Property(h => h.PlacedBy).HasMaxLength(256);
        b.Property(h => h.ReleasedBy).HasMaxLength(256);
        b.Property(h => h.ReleaseReason).HasMaxLength(1000);
        b.Ignore(h => h.Active);
    }

    public void Configure(EntityTypeBuilder<JobRun> b)
    {
        b.ToTable(RetentionTables.JobRuns);
        b.Property(r => r.Job).HasMaxLength(64);
        b.Property(r => r.TriggeredBy).HasMaxLength(256);
        b.Property(r => r.Status).HasMaxLength(16);
        b.Property(r => r.ArchiveLocation).HasMaxLength(1000);
        b.Property(r => r.ArchiveSha256).HasMaxLength(64);
        b.Property(r => r.Summary).HasMaxLength(2000);
        b.Property(r => r.Error).HasMaxLength(4000);
        b.HasIndex(r => new { r.Job, r.StartedAtUtc });
    }

    public void Configure(EntityTypeBuilder<PurgeRun> b)
    {
        b.ToTable(RetentionTables.PurgeRuns);
        b.HasKey(r => r.Id);
        b.Property(r => r.Id).HasMaxLength(64);
        b.Property(r => r.Phase).HasMaxLength(16);
        b.Property(r => r.Folder).HasMaxLength(200);
        b.Property(r => r.ManifestSha256).HasMaxLength(64);
    }

    public void Configure(EntityTypeBuilder<JobLease> b)
    {
        b.ToTable(RetentionTables.Leases);
        b.HasKey(l => l.Name);
        b.Property(l => l.Name).HasMaxLength(64);
        b.Property(l => l.Holder).HasMaxLength(200);
    }
}
