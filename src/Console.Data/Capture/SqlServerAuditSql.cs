using System.Text;
using ComplianceConsole.Core.Auditing;

namespace ComplianceConsole.Data.Capture;

/// <summary>
/// SQL Server's audit SQL: the append-only guards on the store, and the capture trigger of each audited table,
/// generated from the same policy as SQLite's. Each statement is its own batch. For defence in depth also
/// DENY UPDATE, DELETE ON dbo.AuditEntries to the application's login (see docs/capture.md).
/// </summary>
public static class SqlServerAuditSql
{
    /// <summary>
    /// The database role of the console's runtime user: DML on the managed tables, INSERT and SELECT on the store, and the
    /// right to take the audit chain lock (sp_getapplock @DbPrincipal). Created by the migrations; granted by the role script.
    /// </summary>
    public const string WriterRole = "cc_audit_writer";

    public const string RefuseUpdateTrigger = """
        CREATE TRIGGER [dbo].[audit_entries_refuse_update] ON [dbo].[AuditEntries] INSTEAD OF UPDATE AS
        BEGIN
            THROW 51000, 'AuditEntries is append-only: an audit entry can never be changed.', 1;
        END
        """;

    public const string RefuseDeleteTrigger = """
        CREATE TRIGGER [dbo].[audit_entries_refuse_delete] ON [dbo].[AuditEntries] INSTEAD OF DELETE AS
        BEGIN
            THROW 51001, 'AuditEntries is append-only: entries are removed only by the retention purge.', 1;
        END
        """;

    public const string DropGuards = """
        DROP TRIGGER IF EXISTS [dbo].[audit_entries_refuse_update];
        DROP TRIGGER IF EXISTS [dbo].[audit_entries_refuse_delete];
        """;

    /// <summary>
    /// The append-only guards the installer keeps in force (it replaces the first migration's two), keyed by name:
    /// - every UPDATE is refused (a MERGE's update too);
    /// - an insert is accepted only as a gap-free block directly after the head, so nothing is slotted in;
    /// - a DELETE is refused unless each deleted entry is inside a removed range (written with a purge's anchor) and a
    ///   retention anchor follows it. That is the only delete path, and each use of it is an entry of the chain;
    /// - a removed range can never be changed or removed.
    /// IGNORE_DUP_KEY cannot help a rewrite: the key is the seq, and an update or a delete is refused whatever the index.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Guards { get; } = new Dictionary<string, string>
    {
        [SqliteAuditSql.GuardPrefix + "refuse_update"] = RefuseUpdateTrigger,
        [SqliteAuditSql.GuardPrefix + "refuse_out_of_sequence"] = """
            CREATE TRIGGER [dbo].[audit_entries_refuse_out_of_sequence] ON [dbo].[AuditEntries] AFTER INSERT AS
            BEGIN
                SET NOCOUNT ON;
                DECLARE @first bigint, @last bigint, @count bigint;
                SELECT @first = MIN([Seq]), @last = MAX([Seq]), @count = COUNT_BIG(*) FROM inserted;
                IF @count = 0 RETURN;
                IF @last - @first + 1 <> @count
                   OR EXISTS (SELECT 1 FROM [dbo].[AuditEntries] WHERE [Seq] > @last)
                   OR (@first > 1 AND NOT EXISTS (SELECT 1 FROM [dbo].[AuditEntries] WHERE [Seq] = @first - 1)
                       AND EXISTS (SELECT 1 FROM [dbo].[AuditEntries] WHERE [Seq] < @first))
                    THROW 51002, 'AuditEntries is append-only: an entry can only be appended with the next seq, never slotted in.', 1;
            END
            """,
        [SqliteAuditSql.GuardPrefix + "refuse_delete"] = $"""
            CREATE TRIGGER [dbo].[audit_entries_refuse_delete] ON [dbo].[AuditEntries] INSTEAD OF DELETE AS
            BEGIN
                SET NOCOUNT ON;
                IF EXISTS (SELECT 1 FROM deleted AS d WHERE NOT EXISTS (
                        SELECT 1 FROM [dbo].[{AuditStoreModel.RemovedRangesTable}] AS r WHERE r.[FirstSeq] <= d.[Seq] AND r.[ThroughSeq] >= d.[Seq])
                    OR NOT EXISTS (SELECT 1 FROM [dbo].[AuditEntries] AS a
                        WHERE a.[EventName] = N'{AuditEventNames.RetentionPurged}' AND a.[Operation] = N'event' AND a.[Seq] > d.[Seq]))
                    THROW 51001, 'AuditEntries is append-only: entries are removed only by the retention purge.', 1;
                DELETE e FROM [dbo].[AuditEntries] AS e JOIN deleted AS d ON d.[Seq] = e.[Seq];
            END
            """,
        [SqliteAuditSql.GuardPrefix + "ranges_refuse_change"] = $"""
            CREATE TRIGGER [dbo].[audit_entries_ranges_refuse_change] ON [dbo].[{AuditStoreModel.RemovedRangesTable}] INSTEAD OF UPDATE, DELETE AS
            BEGIN
                THROW 51003, '{AuditStoreModel.RemovedRangesTable} is append-only: a removed range is recorded once, with its anchor.', 1;
            END
            """,
    };

    /// <summary>Lists every trigger the capture engine owns or guards: name, table, text, schema.</summary>
    public const string ListTriggers = """
        SELECT t.[name], OBJECT_NAME(t.[parent_id]), m.[definition], OBJECT_SCHEMA_NAME(t.[parent_id]) FROM sys.triggers AS t
        JOIN sys.sql_modules AS m ON m.[object_id] = t.[object_id]
        WHERE t.[parent_class] = 1 AND (t.[name] LIKE N'audit[_]%' OR OBJECT_NAME(t.[parent_id]) IN (N'AuditEntries', N'AuditPending', N'AuditRemovedRanges')
            OR m.[definition] LIKE N'%AuditPending%' OR m.[definition] LIKE N'%AuditEntries%')
        """;

    /// <summary>
    /// CREATE TRIGGER must start a batch; EF's idempotent script wraps each migration in IF ... BEGIN ... END, so
    /// the statement runs through EXEC, which gives it a batch of its own in both kinds of script.
    /// </summary>
    public static string InOwnBatch(string statement) => $"EXEC({Literal(statement)})";

    /// <summary>
    /// The capture trigger of one table: one statement-level AFTER INSERT, UPDATE, DELETE trigger that writes a
    /// pending row per changed row, set-based from <c>inserted</c> and <c>deleted</c>, tagged with the writer's
    /// transaction (the column's default, CURRENT_TRANSACTION_ID()). Rows are paired by key: a row in both is an
    /// update, a row only in <c>inserted</c> an insert, only in <c>deleted</c> a delete (so a MERGE, or an update
    /// of a key, is recorded as what it did to each key). Updates that change no captured column write nothing;
    /// in <see cref="AuditValueMode.ChangedOnly"/> mode only the changed columns are kept.
    /// String columns compare with a binary collation, so a change of case is a change. Needs SQL Server 2016+.
    /// </summary>
    public static KeyValuePair<string, string> CaptureTrigger(TableCapturePlan plan, AuditValueMode mode, string owner)
    {
        if (plan.KeyColumns.Count == 0)
        {
            throw new NotSupportedException($"Table {plan.Table} has no primary key: SQL Server capture pairs old and new rows by key.");
        }

        if (plan.Columns.FirstOrDefault(c => c.Name.Contains('.')) is { } dotted)
        {
            throw new NotSupportedException($"Column {plan.Table}.{dotted.Name} has a dot in its name, which FOR JSON PATH would read as nesting; rename it or exclude the table.");
        }

        var name = SqliteAuditSql.CaptureTriggerPrefix + plan.Table;
        var schema = Quote(plan.Schema ?? "dbo");
        var table = $"{schema}.{Quote(plan.Table)}";
        var captured = plan.Columns.Where(c => c.Treatment != ColumnTreatment.Ignore).ToList();
        var keys = plan.KeyColumns.Select(k => plan.Columns.First(c => c.Name == k)).ToList();
        var literal = Literal(plan.Table);
        var keyJoin = string.Join(" AND ", keys.Select(k => $"i.{Quote(k.Name)} = d.{Quote(k.Name)}"));
        var insertInto = $"INSERT INTO {schema}.[{AuditStoreModel.PendingTable}] ([TableName], [Operation], [RecordKey], [OldValues], [NewValues], [ChangedColumns], [CapturedAtUtc])";

        string Changed(int i) => $"ch.[c{i}] = 1";
        var changedFlags = captured.Count == 0 ? "SELECT 0 AS [none]" :
            "SELECT " + string.Join(", ", captured.Select((c, i) =>
            {
                var collate = c.IsText ? " COLLATE Latin1_General_BIN2" : "";
                return $"CASE WHEN EXISTS (SELECT d.{Quote(c.Name)}{collate} INTERSECT SELECT i.{Quote(c.Name)}{collate}) THEN 0 ELSE 1 END AS [c{i}]";
            }));

        // Full record: one FOR JSON object per side. Changed only: each column's "key":value fragment is made once
        // (a one-column FOR JSON object without its braces, so types and nulls come out exactly as in a whole
        // object) and the changed ones are joined; only literal SQL, valid from SQL Server 2016.
        var oldRow = JsonObject(captured, "d", null);
        var newRow = JsonObject(captured, "i", "d");
        var fragments = "";
        if (mode == AuditValueMode.ChangedOnly && captured.Count > 0)
        {
            fragments = "CROSS APPLY (SELECT " + string.Join(", ", captured.Select((c, i) =>
                $"{JsonObject([c], "d", null)} AS [o{i}], {JsonObject([c], "i", "d")} AS [n{i}]")) + ") AS f";
            string Join(char side) => "N'{' + STUFF(" + string.Join(" + ", captured.Select((_, i) =>
                $"ISNULL(CASE WHEN {Changed(i)} THEN N',' + SUBSTRING(f.[{side}{i}], 2, LEN(f.[{side}{i}]) - 2) END, N'')")) + ", 1, 1, N'') + N'}'";
            oldRow = Join('o');
            newRow = Join('n');
        }

        var changedColumns = captured.Count == 0 ? "N'[]'" :
            "N'[' + STUFF(" + string.Join(" + ", captured.Select((c, i) => $"ISNULL(CASE WHEN {Changed(i)} THEN {Literal("," + SqliteAuditSql.JsonKey(c.Name))} END, N'')")) + ", 1, 1, N'') + N']'";
        var whenChanged = captured.Count == 0 ? "1 = 0" : string.Join(" OR ", captured.Select((_, i) => Changed(i)));

        var sql = $"""
            CREATE TRIGGER {schema}.{Quote(name)} ON {table} AFTER INSERT, UPDATE, DELETE AS
            BEGIN /* {SqliteAuditSql.OwnerMarker}{owner.Replace("*/", "")} */
                SET NOCOUNT ON;
                IF NOT EXISTS (SELECT 1 FROM inserted) AND NOT EXISTS (SELECT 1 FROM deleted) RETURN;
                DECLARE @now datetime2(7) = SYSUTCDATETIME();
                {insertInto}
                SELECT {literal}, N'update', {JsonObject(keys, "i", null)}, {oldRow}, {newRow}, {changedColumns}, @now
                FROM inserted AS i JOIN deleted AS d ON {keyJoin}
                CROSS APPLY ({changedFlags}) AS ch
                {fragments}
                WHERE {whenChanged}
                ORDER BY {string.Join(", ", keys.Select(k => "i." + Quote(k.Name)))};
                {insertInto}
                SELECT {literal}, N'insert', {JsonObject(keys, "i", null)}, NULL, {JsonObject(captured, "i", null)}, NULL, @now
                FROM inserted AS i WHERE NOT EXISTS (SELECT 1 FROM deleted AS d WHERE {keyJoin})
                ORDER BY {string.Join(", ", keys.Select(k => "i." + Quote(k.Name)))};
                {insertInto}
                SELECT {literal}, N'delete', {JsonObject(keys, "d", null)}, {JsonObject(captured, "d", null)}, NULL, NULL, @now
                FROM deleted AS d WHERE NOT EXISTS (SELECT 1 FROM inserted AS i WHERE {keyJoin})
                ORDER BY {string.Join(", ", keys.Select(k => "d." + Quote(k.Name)))};
            END
            """;
        return new(name, sql);
    }

    /// <summary>
    /// A JSON object of the columns of row alias <paramref name="row"/>, nulls kept. A redacted column becomes a
    /// placeholder (a distinct one when it changed against <paramref name="compareTo"/>); binary becomes lower hex,
    /// as on SQLite.
    /// </summary>
    private static string JsonObject(IEnumerable<ColumnCapture> columns, string row, string? compareTo)
    {
        var sb = new StringBuilder("(SELECT ");
        var first = true;
        foreach (var c in columns)
        {
            if (!first)
            {
                sb.Append(", ");
            }

            first = false;
            var col = $"{row}.{Quote(c.Name)}";
            if (c.Treatment == ColumnTreatment.Redact)
            {
                var collate = c.IsText ? " COLLATE Latin1_General_BIN2" : "";
                var placeholder = compareTo is null
                    ? Literal(AuditRedaction.Placeholder)
                    : $"CASE WHEN EXISTS (SELECT {compareTo}.{Quote(c.Name)}{collate} INTERSECT SELECT {col}{collate}) THEN {Literal(AuditRedaction.Placeholder)} ELSE {Literal(AuditRedaction.ChangedPlaceholder)} END";
                sb.Append($"CASE WHEN {col} IS NULL THEN NULL ELSE {placeholder} END");
            }
            else if (c.IsBinary)
            {
                sb.Append($"LOWER(CONVERT(varchar(max), {col}, 2))");
            }
            else
            {
                sb.Append(col);
            }

            sb.Append(" AS ").Append(Quote(c.Name));
        }

        return sb.Append(" FOR JSON PATH, WITHOUT_ARRAY_WRAPPER, INCLUDE_NULL_VALUES)").ToString();
    }

    /// <summary>
    /// The key and the values of the live row <paramref name="alias"/> of a table, as JSON exactly as the capture triggers
    /// write them (the same expressions): the baseline copies rows with these, and reconciliation compares with them.
    /// </summary>
    public static (string Key, string Values) RowJson(TableCapturePlan plan, string alias) =>
        (JsonObject(plan.KeyColumns.Select(k => plan.Columns.First(c => c.Name == k)), alias, null),
         JsonObject(plan.Columns.Where(c => c.Treatment != ColumnTreatment.Ignore), alias, null));

    public static string Quote(string identifier) => "[" + identifier.Replace("]", "]]") + "]";

    public static string Literal(string value) => "N'" + value.Replace("'", "''") + "'";
}
