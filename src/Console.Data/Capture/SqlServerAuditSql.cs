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
    /// The database role of the console's runtime user: DML on the managed tables and the console's own, INSERT and
    /// SELECT on the audit store, no DDL, no VIEW DEFINITION. Created, with its grants, by the migrations (<see cref="RoleScript"/>).
    /// </summary>
    public const string WriterRole = "cc_audit_writer";

    /// <summary>The writer's rights plus the retention purge's DELETE on the store (still refused by the guard outside a removed range with an anchor).</summary>
    public const string PurgerRole = "cc_audit_purger";

    /// <summary>
    /// The role whose members may take the audit chain lock (sp_getapplock @DbPrincipal): the writer and purger roles, and
    /// dbo. A reporting login that is in neither cannot hold the lock and stall every write. It holds no permission itself.
    /// </summary>
    public const string ChainLockRole = "cc_audit_chain";

    /// <summary>
    /// The roles and their grants, idempotent; each statement runs on its own. Schema-wide DML covers tables later
    /// migrations add; the DENYs keep the store append-only for the writer, whatever else it is granted. The DBA adds the
    /// console's login user to <see cref="WriterRole"/> (or <see cref="PurgerRole"/> on nodes that run retention).
    /// </summary>
    public static IReadOnlyList<string> RoleScript(string schema = AuditStoreModel.DefaultSqlServerSchema)
    {
        var s = Quote(schema);
        string Create(string role) => $"IF DATABASE_PRINCIPAL_ID(N'{role}') IS NULL EXEC(N'CREATE ROLE {Quote(role)}')";
        string Member(string role, string member) =>
            $"IF IS_ROLEMEMBER(N'{role}', N'{member}') = 0 ALTER ROLE {Quote(role)} ADD MEMBER {Quote(member)}";
        return
        [
            Create(ChainLockRole),
            Create(WriterRole),
            Create(PurgerRole),
            Member(ChainLockRole, WriterRole),
            Member(ChainLockRole, PurgerRole),
            $"GRANT SELECT, INSERT, UPDATE, DELETE ON SCHEMA::{s} TO {Quote(WriterRole)}",
            $"DENY UPDATE, DELETE ON OBJECT::{s}.[{AuditStoreModel.EntriesTable}] TO {Quote(WriterRole)}",
            $"DENY UPDATE, DELETE ON OBJECT::{s}.[{AuditStoreModel.RemovedRangesTable}] TO {Quote(WriterRole)}",
            $"DENY UPDATE ON OBJECT::{s}.[{AuditStoreModel.PendingTable}] TO {Quote(WriterRole)}",
            $"GRANT SELECT, INSERT, UPDATE, DELETE ON SCHEMA::{s} TO {Quote(PurgerRole)}",
            $"DENY UPDATE ON OBJECT::{s}.[{AuditStoreModel.EntriesTable}] TO {Quote(PurgerRole)}",
            $"DENY UPDATE, DELETE ON OBJECT::{s}.[{AuditStoreModel.RemovedRangesTable}] TO {Quote(PurgerRole)}",
            $"DENY UPDATE ON OBJECT::{s}.[{AuditStoreModel.PendingTable}] TO {Quote(PurgerRole)}",
        ];
    }

    /// <summary>
    /// What SQL Server's own tables need for the sealers: the pending table locks only rows (READPAST then meets row
    /// locks only, and one writer's insert never blocks another's seal), on every index.
    /// </summary>
    public static IReadOnlyList<string> PendingLocking(string schema = AuditStoreModel.DefaultSqlServerSchema) =>
    [
        $"ALTER TABLE {Quote(schema)}.[{AuditStoreModel.PendingTable}] SET (LOCK_ESCALATION = DISABLE)",
        $"ALTER INDEX ALL ON {Quote(schema)}.[{AuditStoreModel.PendingTable}] SET (ALLOW_PAGE_LOCKS = OFF)",
    ];

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
    public static IReadOnlyDictionary<string, string> Guards => GuardsIn(AuditStoreModel.DefaultSqlServerSchema);

    /// <inheritdoc cref="Guards"/>
    /// <param name="schema">The audit store's schema (from the model): every reference is qualified with it.</param>
    public static IReadOnlyDictionary<string, string> GuardsIn(string schema) => GuardsBySchema.GetOrAdd(schema, s => new Dictionary<string, string>
    {
        [SqliteAuditSql.GuardPrefix + "refuse_update"] = $"""
            CREATE TRIGGER {Quote(s)}.[audit_entries_refuse_update] ON {Quote(s)}.[AuditEntries] INSTEAD OF UPDATE AS
            BEGIN
                THROW 51000, 'AuditEntries is append-only: an audit entry can never be changed.', 1;
            END
            """,
        [SqliteAuditSql.GuardPrefix + "refuse_out_of_sequence"] = $"""
            CREATE TRIGGER {Quote(s)}.[audit_entries_refuse_out_of_sequence] ON {Quote(s)}.[AuditEntries] AFTER INSERT AS
            BEGIN
                SET NOCOUNT ON;
                DECLARE @first bigint, @last bigint, @count bigint;
                SELECT @first = MIN([Seq]), @last = MAX([Seq]), @count = COUNT_BIG(*) FROM inserted;
                IF @count = 0 RETURN;
                IF @last - @first + 1 <> @count
                   OR EXISTS (SELECT 1 FROM {Quote(s)}.[AuditEntries] WHERE [Seq] > @last)
                   OR (@first > 1 AND NOT EXISTS (SELECT 1 FROM {Quote(s)}.[AuditEntries] WHERE [Seq] = @first - 1)
                       AND EXISTS (SELECT 1 FROM {Quote(s)}.[AuditEntries] WHERE [Seq] < @first))
                    THROW 51002, 'AuditEntries is append-only: an entry can only be appended with the next seq, never slotted in.', 1;
            END
            """,
        [SqliteAuditSql.GuardPrefix + "refuse_delete"] = $"""
            CREATE TRIGGER {Quote(s)}.[audit_entries_refuse_delete] ON {Quote(s)}.[AuditEntries] INSTEAD OF DELETE AS
            BEGIN
                SET NOCOUNT ON;
                IF EXISTS (SELECT 1 FROM deleted AS d WHERE NOT EXISTS (
                        SELECT 1 FROM {Quote(s)}.[{AuditStoreModel.RemovedRangesTable}] AS r WHERE r.[FirstSeq] <= d.[Seq] AND r.[ThroughSeq] >= d.[Seq])
                    OR NOT EXISTS (SELECT 1 FROM {Quote(s)}.[AuditEntries] AS a
                        WHERE a.[EventName] = N'{AuditEventNames.RetentionPurged}' AND a.[Operation] = N'event' AND a.[Seq] > d.[Seq]))
                    THROW 51001, 'AuditEntries is append-only: entries are removed only by the retention purge.', 1;
                DELETE e FROM {Quote(s)}.[AuditEntries] AS e JOIN deleted AS d ON d.[Seq] = e.[Seq];
            END
            """,
        [SqliteAuditSql.GuardPrefix + "ranges_refuse_change"] = $"""
            CREATE TRIGGER {Quote(s)}.[audit_entries_ranges_refuse_change] ON {Quote(s)}.[{AuditStoreModel.RemovedRangesTable}] INSTEAD OF UPDATE, DELETE AS
            BEGIN
                THROW 51003, '{AuditStoreModel.RemovedRangesTable} is append-only: a removed range is recorded once, with its anchor.', 1;
            END
            """,
    });

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, IReadOnlyDictionary<string, string>> GuardsBySchema = new(StringComparer.Ordinal);

    /// <summary>
    /// Lists every trigger the capture engine owns or guards: name, table, text, schema, disabled. The text is NULL for a
    /// user without VIEW DEFINITION (the runtime principal): then the names, and whether each is enabled, are still seen.
    /// </summary>
    public const string ListTriggers = """
        SELECT t.[name], OBJECT_NAME(t.[parent_id]), m.[definition], OBJECT_SCHEMA_NAME(t.[parent_id]), t.[is_disabled] FROM sys.triggers AS t
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
    /// pending row per changed row, set-based from <c>inserted</c> and <c>deleted</c>, into the audit store's schema
    /// (<paramref name="storeSchema"/>, whatever the table's own), tagged with the writer's transaction (the column's
    /// default, CURRENT_TRANSACTION_ID()). Rows are paired by key: a row in both is an update, a row only in
    /// <c>inserted</c> an insert, only in <c>deleted</c> a delete (so a MERGE, or an update of a key, is recorded as what
    /// it did to each key). Updates that change no captured column write nothing; in
    /// <see cref="AuditValueMode.ChangedOnly"/> mode only the changed columns are kept. A change is any difference
    /// SQLite would see too (<see cref="Comparands"/>): case, trailing spaces, trailing zero bytes, an offset.
    /// A key longer than the store's column is cut visibly, as <see cref="AuditFieldLimits.Fit"/> does, never failing the
    /// write. Needs SQL Server 2016+. Throws <see cref="NotSupportedException"/>, saying what to do, for a table it cannot
    /// capture (no key, a text/ntext/image column, a dotted column name).
    /// </summary>
    public static KeyValuePair<string, string> CaptureTrigger(TableCapturePlan plan, AuditValueMode mode, string owner, string storeSchema = AuditStoreModel.DefaultSqlServerSchema)
    {
        if (plan.KeyColumns.Count == 0)
        {
            throw new NotSupportedException($"Table {plan.Table} has no primary key, and SQL Server capture pairs the old and new rows by key: give it a key, or exclude it (Audit:ExcludedEntities).");
        }

        if (plan.Columns.FirstOrDefault(c => c.Name.Contains('.')) is { } dotted)
        {
            throw new NotSupportedException($"Column {plan.Table}.{dotted.Name} has a dot in its name, which FOR JSON PATH would read as nesting; rename it or exclude the table.");
        }

        if (plan.Columns.FirstOrDefault(c => BaseType(c) is "text" or "ntext" or "image") is { } legacy)
        {
            throw new NotSupportedException($"Column {plan.Table}.{legacy.Name} is {BaseType(legacy)}, which a trigger cannot read (SQL Server leaves it out of inserted and deleted): convert it to {(BaseType(legacy) == "image" ? "varbinary(max)" : "nvarchar(max)")}, or exclude the table.");
        }

        var name = SqliteAuditSql.CaptureTriggerPrefix + plan.Table;
        var schema = Quote(plan.Schema ?? storeSchema);
        var table = $"{schema}.{Quote(plan.Table)}";
        var captured = plan.Columns.Where(c => c.Treatment != ColumnTreatment.Ignore).ToList();
        var keys = plan.KeyColumns.Select(k => plan.Columns.First(c => c.Name == k)).ToList();
        var literal = Literal(plan.Table);
        var keyJoin = string.Join(" AND ", keys.Select(k => $"i.{Quote(k.Name)} = d.{Quote(k.Name)}"));
        var insertInto = $"INSERT INTO {Quote(storeSchema)}.[{AuditStoreModel.PendingTable}] ([TableName], [Operation], [RecordKey], [OldValues], [NewValues], [ChangedColumns], [CapturedAtUtc])";

        string Changed(int i) => $"ch.[c{i}] = 1";
        var changedFlags = captured.Count == 0 ? "SELECT 0 AS [none]" :
            "SELECT " + string.Join(", ", captured.Select((c, i) => $"CASE WHEN {Same(c, "d", "i")} THEN 0 ELSE 1 END AS [c{i}]"));

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
                SELECT {literal}, N'update', {Key(keys, "i")}, {oldRow}, {newRow}, {changedColumns}, @now
                FROM inserted AS i JOIN deleted AS d ON {keyJoin}
                CROSS APPLY ({changedFlags}) AS ch
                {fragments}
                WHERE {whenChanged}
                ORDER BY {string.Join(", ", keys.Select(k => "i." + Quote(k.Name)))};
                {insertInto}
                SELECT {literal}, N'insert', {Key(keys, "i")}, NULL, {JsonObject(captured, "i", null)}, NULL, @now
                FROM inserted AS i WHERE NOT EXISTS (SELECT 1 FROM deleted AS d WHERE {keyJoin})
                ORDER BY {string.Join(", ", keys.Select(k => "i." + Quote(k.Name)))};
                {insertInto}
                SELECT {literal}, N'delete', {Key(keys, "d")}, {JsonObject(captured, "d", null)}, NULL, NULL, @now
                FROM deleted AS d WHERE NOT EXISTS (SELECT 1 FROM inserted AS i WHERE {keyJoin})
                ORDER BY {string.Join(", ", keys.Select(k => "d." + Quote(k.Name)))};
            END
            """;
        return new(name, sql);
    }

    /// <summary>The column's SQL Server type without its length: <c>nvarchar</c>, <c>datetimeoffset</c>, <c>xml</c>.</summary>
    private static string BaseType(ColumnCapture c) => (c.StoreType ?? "").Split('(')[0].Trim().ToLowerInvariant();

    /// <summary>
    /// What decides whether a column changed, as a row of values compared with INTERSECT (which, unlike =, treats two
    /// NULLs as equal). Text compares under a binary collation and by length, so a change of case or of trailing
    /// spaces is a change (= pads with spaces); binary compares by length too (= pads with zero bytes);
    /// datetimeoffset compares its offset too (= compares the instant only); xml and the CLR types (geography,
    /// geometry, hierarchyid), which cannot be compared, compare their text or their bytes.
    /// </summary>
    internal static IReadOnlyList<string> Comparands(ColumnCapture c, string row)
    {
        var col = $"{row}.{Quote(c.Name)}";
        return BaseType(c) switch
        {
            "xml" => [$"CONVERT(nvarchar(max), {col}) COLLATE Latin1_General_BIN2", $"DATALENGTH(CONVERT(nvarchar(max), {col}))"],
            "geography" or "geometry" or "hierarchyid" => [$"CONVERT(varbinary(max), {col})", $"DATALENGTH(CONVERT(varbinary(max), {col}))"],
            "datetimeoffset" => [col, $"DATEPART(TZOFFSET, {col})"],
            "sql_variant" => [col, $"DATALENGTH({col})", $"CONVERT(nvarchar(128), SQL_VARIANT_PROPERTY({col}, 'BaseType'))"],
            _ when c.IsText || c.IsJson => [$"{col} COLLATE Latin1_General_BIN2", $"DATALENGTH({col})"],
            _ when c.IsBinary => [col, $"DATALENGTH({col})"],
            _ => [col],
        };
    }

    private static string Same(ColumnCapture c, string a, string b) =>
        $"EXISTS (SELECT {string.Join(", ", Comparands(c, a))} INTERSECT SELECT {string.Join(", ", Comparands(c, b))})";

    /// <summary>How a column's value is written into the entry's JSON (FOR JSON serializes neither xml nor CLR types).</summary>
    private static string ValueOf(ColumnCapture c, string row)
    {
        var col = $"{row}.{Quote(c.Name)}";
        return BaseType(c) switch
        {
            "xml" or "sql_variant" => $"CONVERT(nvarchar(max), {col})",
            "geography" or "geometry" or "hierarchyid" => $"{col}.ToString()",
            _ when c.IsJson => $"JSON_QUERY({col})", // embedded as JSON, as on SQLite
            _ when c.IsBinary => $"LOWER(CONVERT(varchar(max), {col}, 2))",
            _ => col,
        };
    }

    /// <summary>
    /// The record key as JSON, cut to the store's column as <see cref="AuditFieldLimits.Fit"/> cuts it (the same start, the
    /// same marker, the SHA-256 of the same UTF-16LE bytes), so a long composite key never rolls back the user's write.
    /// </summary>
    private static string Key(IEnumerable<ColumnCapture> keys, string row)
    {
        const int max = AuditFieldLimits.RecordKey;
        const int keep = max - 22;
        return $"(SELECT CASE WHEN DATALENGTH(k.v) / 2 <= {max} THEN k.v ELSE LEFT(k.v, {keep}) + {Literal(AuditFieldLimits.CutMarker)} "
            + $"+ LOWER(LEFT(CONVERT(varchar(64), HASHBYTES('SHA2_256', k.v), 2), 12)) + N']' END FROM (SELECT {JsonObject(keys, row, null)} AS v) AS k)";
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
                var placeholder = compareTo is null
                    ? Literal(AuditRedaction.Placeholder)
                    : $"CASE WHEN {Same(c, compareTo, row)} THEN {Literal(AuditRedaction.Placeholder)} ELSE {Literal(AuditRedaction.ChangedPlaceholder)} END";
                sb.Append($"CASE WHEN {col} IS NULL THEN NULL ELSE {placeholder} END");
            }
            else
            {
                sb.Append(ValueOf(c, row));
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
        (Key(plan.KeyColumns.Select(k => plan.Columns.First(c => c.Name == k)), alias),
         JsonObject(plan.Columns.Where(c => c.Treatment != ColumnTreatment.Ignore), alias, null));

    public static string Quote(string identifier) => "[" + identifier.Replace("]", "]]") + "]";

    public static string Literal(string value) => "N'" + value.Replace("'", "''") + "'";
}
