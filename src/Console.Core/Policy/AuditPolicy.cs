namespace ComplianceConsole.Core.Auditing;

public enum AuditValueMode
{
    /// <summary>Updates keep the old and new value of the changed columns only.</summary>
    ChangedOnly,

    /// <summary>Updates keep the whole old and new row.</summary>
    FullRecord,
}

/// <summary>Leaves an entity's table out of the audit trail.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = true)]
public sealed class AuditExcludeAttribute : Attribute;

/// <summary>Leaves a property out: a change to it alone makes no entry, and its value is never stored.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class AuditIgnoreAttribute : Attribute;

/// <summary>Records that the property changed but stores a placeholder instead of the value.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class AuditRedactAttribute : Attribute;

public enum ColumnTreatment
{
    Capture,
    Redact,
    Ignore,
}

public static class AuditRedaction
{
    public const string Placeholder = "[redacted]";
    public const string ChangedPlaceholder = "[redacted: changed]";
}

/// <param name="IsJson">A JSON document column (EF's <c>ToJson</c>): its value is recorded as embedded JSON, on both sides of every kind of update.</param>
/// <param name="StoreType">The column's type in the database as the model maps it (<c>nvarchar(200)</c>, <c>datetimeoffset</c>, <c>xml</c>): SQL Server's triggers compare and serialize by it.</param>
public sealed record ColumnCapture(string Name, ColumnTreatment Treatment, bool IsBinary, string Reason, bool IsText = false, bool IsJson = false, string? StoreType = null);

/// <summary>A column of a unique index, with the collation the index compares it under (null: the column's own).</summary>
public sealed record UniqueColumn(string Name, string? Collation);

/// <summary>How one table is captured: its key columns and what happens to each column.</summary>
public sealed record TableCapturePlan(string Table, string? EntityName, IReadOnlyList<string> KeyColumns, IReadOnlyList<ColumnCapture> Columns, string? Schema = null);

/// <summary>The policy in force: every audited table's plan, the tables left out, and the value mode.</summary>
public sealed record AuditPolicySnapshot(
    AuditValueMode Mode,
    IReadOnlyList<TableCapturePlan> Tables,
    IReadOnlyList<string> ExcludedTables)
{
    public TableCapturePlan? Find(string table) => Tables.FirstOrDefault(t => t.Table == table);
}

/// <summary>
/// The configurable part of the policy (section "Audit" in appsettings). Entries name an entity or table,
/// and for properties "Entity.Property" or "Table.Column". Attributes on the entity classes add to these.
/// </summary>
public sealed class AuditOptions
{
    public AuditValueMode Mode { get; set; } = AuditValueMode.ChangedOnly;
    public List<string> ExcludedEntities { get; set; } = [];
    public List<string> IgnoredProperties { get; set; } = [];
    public List<string> RedactedProperties { get; set; } = [];

    /// <summary>
    /// Never-block mode: when an audit entry cannot be written, the change still commits and its entries go to
    /// a durable local spool (<see cref="SpoolPath"/>), replayed into the chain later and reported on /health.
    /// Off by default: a failed audit write fails the change.
    /// </summary>
    public bool NeverBlock { get; set; }

    /// <summary>How often changes made outside the app are sealed, and the spool replayed, while the app is idle.</summary>
    public int OutOfBandSealSeconds { get; set; } = 10;

    /// <summary>The spool file for never-block mode; relative paths are taken from the content root.</summary>
    public string SpoolPath { get; set; } = "App_Data/audit-spool.jsonl";

    /// <summary>
    /// The baseline (rows a table held before capture began on it): a table with at most this many rows is snapshotted in
    /// the install's own transaction; a larger one in chunks by the background service, reconciliation counting its rows
    /// as awaiting the baseline until it completes.
    /// </summary>
    public int BaselineInlineRows { get; set; } = 20_000;

    /// <summary>Signed checkpoints of the chain, kept outside the database (section "Audit:Checkpoints").</summary>
    public CheckpointOptions Checkpoints { get; set; } = new();

    /// <summary>Every problem with the names given, as messages that say how to fix them.</summary>
    public IEnumerable<string> Validate()
    {
        foreach (var (key, list) in new[] { ("Audit:IgnoredProperties", IgnoredProperties), ("Audit:RedactedProperties", RedactedProperties) })
        {
            foreach (var item in list.Where(i => i.Split('.').Length != 2 || i.Split('.').Any(string.IsNullOrWhiteSpace)))
            {
                yield return $"{key} has \"{item}\": write it as Entity.Property or Table.Column, for example Customer.TaxId.";
            }
        }

        if (BaselineInlineRows < 0)
        {
            yield return $"Audit:BaselineInlineRows is {BaselineInlineRows}: set it to 0 (every baseline in the background) or more (the default is 20000).";
        }

        if (Checkpoints.IntervalMinutes < 1)
        {
            yield return $"Audit:Checkpoints:IntervalMinutes is {Checkpoints.IntervalMinutes}: set it to 1 or more (the default is 5).";
        }

        foreach (var item in ExcludedEntities.Where(string.IsNullOrWhiteSpace))
        {
            yield return $"Audit:ExcludedEntities has an empty name \"{item}\": remove it or name an entity such as UserPreference.";
        }
    }
}

/// <summary>Where and how often the chain's signed checkpoints are written. Relative paths are taken from the content root.</summary>
public sealed class CheckpointOptions
{
    /// <summary>The folder of the append-only checkpoints file (checkpoints.jsonl). Keep it off the database's disk and backups.</summary>
    public string Folder { get; set; } = "App_Data/checkpoints";

    /// <summary>The ECDSA P-256 private key (PKCS#8 PEM); generated on the first run when missing, with its public key beside it.</summary>
    public string KeyPath { get; set; } = "App_Data/checkpoint-key.pem";

    /// <summary>The name of an environment variable holding the private key PEM; when it is set, it wins over <see cref="KeyPath"/>.</summary>
    public string? KeyEnvironmentVariable { get; set; }

    /// <summary>How often a checkpoint is signed when the chain has moved.</summary>
    public int IntervalMinutes { get; set; } = 5;
}
