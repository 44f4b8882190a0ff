using ComplianceConsole.Core.Auditing;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Capture;

public static class AuditStoreModel
{
    public const string EntriesTable = "AuditEntries";
    public const string PendingTable = "AuditPending";

    /// <summary>SQLite only: the rows a REPLACE may delete without firing a trigger, noted by the capture triggers (see <see cref="SqliteAuditSql.CaptureTriggers"/>).</summary>
    public const string StashTable = "AuditStash";

    /// <summary>Never-block mode: one row per spooled transaction that committed (see <see cref="AuditSpoolMark"/>).</summary>
    public const string SpoolMarksTable = "AuditSpoolMarks";

    /// <summary>The ranges a retention purge removed, with the row hash the chain links through (see <see cref="Core.Chain.RemovedRange"/>).</summary>
    public const string RemovedRangesTable = "AuditRemovedRanges";

    /// <summary>Tables of the audit store itself: never captured.</summary>
    public static readonly IReadOnlySet<string> StoreTables = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { EntriesTable, PendingTable, StashTable, SpoolMarksTable, Queries.AuditTextIndex.Table,
        Rollups.AuditRollups.HourTable, Rollups.AuditRollups.ActorHourTable, Rollups.AuditRollups.ActorDayTable, Rollups.AuditRollups.ActorFirstTable, Rollups.AuditRollups.ActorDayPeakTable, Rollups.AuditRollups.MarkTable, Queries.AuditWordIndex.Table,
        RemovedRangesTable, Retention.RetentionTables.Policies, Retention.RetentionTables.Changes, Retention.RetentionTables.Holds, Retention.RetentionTables.JobRuns,
        Retention.RetentionTables.PurgeRuns, Retention.RetentionTables.Leases };

    /// <summary>SQL Server: the schema of the audit store when the model names none.</summary>
    public const string DefaultSqlServerSchema = "dbo";

    /// <summary>SQL Server: the schema the model puts the audit store in; every statement of the engine is qualified with it.</summary>
    public static string SqlServerSchemaOf(Microsoft.EntityFrameworkCore.Metadata.IModel model) =>
        model.FindEntityType(typeof(AuditEntry))?.GetSchema() ?? model.GetDefaultSchema() ?? DefaultSqlServerSchema;

    /// <summary>SQL Server only: the transaction that captured a pending row (CURRENT_TRANSACTION_ID()), a shadow column.</summary>
    public const string PendingTransactionColumn = "TxId";

    /// <summary>
    /// Maps the audit store (entries and the pending capture table) into a model. Idempotent.
    /// On SQL Server the pending rows carry the capturing transaction's id (SQL Server has concurrent writers),
    /// and EF is told that the audited tables have triggers, so it does not use a bare OUTPUT clause on them.
    /// </summary>
    public static ModelBuilder AddAuditStore(this ModelBuilder builder, bool sqlServer = false)
    {
        builder.Entity<AuditEntry>(b =>
        {
            b.ToTable(EntriesTable);
            b.HasKey(e => e.Seq);
            b.Property(e => e.Seq).ValueGeneratedNever();
            b.Property(e => e.Operation).HasMaxLength(AuditFieldLimits.Operation);
            b.Property(e => e.EventName).HasMaxLength(AuditFieldLimits.EventName);
            b.Property(e => e.TableName).HasMaxLength(AuditFieldLimits.TableName);
            b.Property(e => e.RecordKey).HasMaxLength(AuditFieldLimits.RecordKey);
            b.Property(e => e.ActorId).HasMaxLength(AuditFieldLimits.ActorId);
            b.Property(e => e.ActorName).HasMaxLength(AuditFieldLimits.ActorName);
            b.Property(e => e.ActorRoles).HasMaxLength(AuditFieldLimits.ActorRoles);
            b.Property(e => e.Origin).HasMaxLength(AuditFieldLimits.Origin);
            b.Property(e => e.CorrelationId).HasMaxLength(AuditFieldLimits.CorrelationId);
            b.Property(e => e.TransactionId).HasMaxLength(AuditFieldLimits.TransactionId);
            b.Property(e => e.IpAddress).HasMaxLength(AuditFieldLimits.IpAddress);
            b.Property(e => e.UserAgent).HasMaxLength(AuditFieldLimits.UserAgent);
            b.Property(e => e.Tenant).HasMaxLength(AuditFieldLimits.Tenant);
            b.Property(e => e.Target).HasMaxLength(AuditFieldLimits.Target);
            b.Property(e => e.PayloadHash).HasMaxLength(64).IsFixedLength();
            b.Property(e => e.RowHash).HasMaxLength(64).IsFixedLength();
            // The read side filters on these (ARCHITECTURE.md, "Read side").
            b.HasIndex(e => e.OccurredAtUtc);
            b.HasIndex(e => new { e.TableName, e.RecordKey });
            b.HasIndex(e => e.CorrelationId);
            // Events by name: the retention guard looks up its anchors, the browser filters on them.
            // Partial: most entries are row changes without a name, and an index of NULLs would tell SQLite's planner
            // that an event name is common when it is rare.
            b.HasIndex(e => e.EventName).HasFilter(sqlServer ? "[EventName] IS NOT NULL" : "\"EventName\" IS NOT NULL");
            // The audit browser (docs/query-language.md): one-column indexes, because each also orders by seq (the rowid
            // on SQLite, the clustered key on SQL Server), so a filter's newest page is a short backwards index walk.
            if (sqlServer)
            {
                // SQL Server (ARCHITECTURE.md, "Read side"): a table's or an actor's newest entries, a short backwards walk of
                // (TableName, Seq) or (ActorId, Seq), and the per-actor queries of the dashboard.
                b.HasIndex(e => new { e.TableName, e.Seq });
                b.HasIndex(e => new { e.ActorId, e.Seq });
            }
            else
            {
                b.HasIndex(e => e.TableName);
            }

            b.HasIndex(e => e.Operation);
            b.HasIndex(e => e.ActorName);
            b.HasIndex(e => e.Origin);
            b.HasIndex(e => e.TransactionId);
            b.HasIndex(e => e.OutOfBand).HasFilter(sqlServer ? "[OutOfBand] = 1" : "\"OutOfBand\" = 1");
        });

        builder.Entity<Retention.AuditRemovedRangeRow>(b =>
        {
            b.ToTable(RemovedRangesTable);
            b.HasKey(r => r.FirstSeq);
            b.Property(r => r.FirstSeq).ValueGeneratedNever();
            b.Property(r => r.LastRowHash).HasMaxLength(64).IsFixedLength();
            b.Property(r => r.RunId).HasMaxLength(64);
            b.HasIndex(r => r.RunId);
            b.HasIndex(r => r.ThroughSeq); // the row hash before an entry whose predecessor was removed
        });

        builder.Entity<AuditSpoolMark>(b =>
        {
            b.ToTable(SpoolMarksTable);
            b.HasKey(m => m.Id);
            b.Property(m => m.Id).HasMaxLength(64);
        });

        if (!sqlServer)
        {
            builder.Entity<AuditStashRow>(b =>
            {
                b.ToTable(StashTable);
                b.HasKey(r => r.Id);
                b.Property(r => r.Id).HasAnnotation("Sqlite:Autoincrement", false);
                b.Property(r => r.TableName).HasMaxLength(128);
                b.Property(r => r.RecordKey).HasMaxLength(400);
            });
        }

        builder.Entity<AuditPendingRow>(b =>
        {
            b.ToTable(PendingTable);
            b.HasKey(p => p.Id);
            // A plain rowid, no AUTOINCREMENT: the table is emptied at every seal and the watermark is read
            // under the write lock, so reusing an id is harmless, and it spares a sqlite_sequence write per commit.
            b.Property(p => p.Id).HasAnnotation("Sqlite:Autoincrement", false);
            b.Property(p => p.Operation).HasMaxLength(AuditFieldLimits.Operation);
            b.Property(p => p.TableName).HasMaxLength(AuditFieldLimits.TableName);
            b.Property(p => p.EventName).HasMaxLength(AuditFieldLimits.EventName);
            b.Property(p => p.RecordKey).HasMaxLength(AuditFieldLimits.RecordKey);
            b.Property(p => p.Target).HasMaxLength(AuditFieldLimits.Target);
            b.Property(p => p.Tenant).HasMaxLength(AuditFieldLimits.Tenant);
            b.Property(p => p.ActorId).HasMaxLength(AuditFieldLimits.ActorId);
            b.Property(p => p.ActorName).HasMaxLength(AuditFieldLimits.ActorName);
            if (sqlServer)
            {
                b.Property<long>(PendingTransactionColumn).HasDefaultValueSql("CURRENT_TRANSACTION_ID()");
                b.HasIndex(PendingTransactionColumn);
            }
        });

        if (sqlServer)
        {
            foreach (var entityType in builder.Model.GetEntityTypes().Where(t => t.GetTableName() is { } table && !StoreTables.Contains(table)))
            {
                entityType.UseSqlOutputClause(false);
            }
        }

        return builder;
    }
}
