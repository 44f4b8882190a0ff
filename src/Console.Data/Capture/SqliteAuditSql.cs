using System.Text;
using ComplianceConsole.Core.Auditing;

namespace ComplianceConsole.Data.Capture;

/// <summary>
/// SQLite's audit SQL: the append-only guards on the store and the capture triggers generated from the policy.
/// Triggers see every write (EF, bulk, raw SQL, the sqlite3 shell) with the real stored keys and the old values
/// as they were; they write to AuditPending in the writer's own transaction.
/// </summary>
public static class SqliteAuditSql
{
    public const string CaptureTriggerPrefix = "audit_capture_";

    /// <summary>The guards as the first migration created them; <see cref="Guards"/> replaces them at install.</summary>
    public const string AppendOnlyGuards = """
        CREATE TRIGGER IF NOT EXISTS "audit_entries_refuse_update" BEFORE UPDATE ON "AuditEntries"
        BEGIN SELECT RAISE(ABORT, 'AuditEntries is append-only: an audit entry can never be changed.'); END;
        CREATE TRIGGER IF NOT EXISTS "audit_entries_refuse_delete" BEFORE DELETE ON "AuditEntries"
        BEGIN SELECT RAISE(ABORT, 'AuditEntries is append-only: entries are removed only by the retention purge.'); END;
        """;

    public const string DropAppendOnlyGuards = """
        DROP TRIGGER IF EXISTS "audit_entries_refuse_update";
        DROP TRIGGER IF EXISTS "audit_entries_refuse_delete";
        """;

    /// <summary>Lists every trigger the capture engine owns or guards, or that touches the store: name, table, text, schema (none), disabled (never).</summary>
    public const string ListTriggers = """
        SELECT name, tbl_name, sql, NULL, 0 FROM sqlite_master WHERE type = 'trigger'
        AND (name LIKE 'audit\_%' ESCAPE '\' OR tbl_name IN ('AuditEntries', 'AuditPending', 'AuditStash', 'AuditSpoolMarks', 'AuditRemovedRanges')
             OR sql LIKE '%AuditPending%' OR sql LIKE '%AuditEntries%' OR sql LIKE '%AuditStash%')
        """;

    public const string GuardPrefix = "audit_entries_";

    /// <summary>
    /// The append-only guards of the store, keyed by trigger name. Together they refuse every SQL form that would
    /// change, remove or slot in an entry:
    /// - any UPDATE (UPDATE OR REPLACE and the DO UPDATE of an upsert included);
    /// - any insert whose seq is not the next one: so REPLACE or INSERT OR REPLACE on an existing seq, whose implicit
    ///   delete fires no delete trigger, is refused before it happens, and so is an entry slotted into a gap;
    ///   It raises FAIL, not ABORT, and the sealer inserts with INSERT OR FAIL: then SQLite needs no statement journal
    ///   per entry (with ABORT, every one-row insert into a table with an insert trigger gets one, a temporary file,
    ///   which doubled the cost of sealing; docs/benchmarks.md). For a one-row insert both undo the same.
    /// - any DELETE, except of an entry inside a removed range (AuditRemovedRanges, written with a purge's anchor) with a
    ///   retention anchor after it. That is the only delete path, and each use of it is itself an entry of the chain;
    /// - any change or removal of a removed range.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Guards { get; } = new Dictionary<string, string>
    {
        [GuardPrefix + "refuse_update"] = """
            CREATE TRIGGER "audit_entries_refuse_update" BEFORE UPDATE ON "AuditEntries"
            BEGIN SELECT RAISE(ABORT, 'AuditEntries is append-only: an audit entry can never be changed.'); END
            """,
        [GuardPrefix + "refuse_out_of_sequence"] = """
            CREATE TRIGGER "audit_entries_refuse_out_of_sequence" BEFORE INSERT ON "AuditEntries"
            WHEN NEW."Seq" IS NOT (SELECT coalesce(max("Seq"), 0) + 1 FROM "AuditEntries")
            BEGIN SELECT RAISE(FAIL, 'AuditEntries is append-only: an entry can only be appended with the next seq, never replaced or slotted in.'); END
            """,
        [GuardPrefix + "refuse_delete"] = $"""
            CREATE TRIGGER "audit_entries_refuse_delete" BEFORE DELETE ON "AuditEntries"
            WHEN NOT EXISTS (SELECT 1 FROM (SELECT r."ThroughSeq" FROM "{AuditStoreModel.RemovedRangesTable}" AS r WHERE r."FirstSeq" <= OLD."Seq" ORDER BY r."FirstSeq" DESC LIMIT 1) AS c
                  WHERE c."ThroughSeq" >= OLD."Seq")
              OR NOT EXISTS (SELECT 1 FROM "AuditEntries" AS a
                  WHERE a."EventName" = '{AuditEventNames.RetentionPurged}' AND a."Operation" = 'event' AND a."Seq" > OLD."Seq")
            BEGIN SELECT RAISE(ABORT, 'AuditEntries is append-only: entries are removed only by the retention purge.'); END
            """,
        [GuardPrefix + "ranges_refuse_update"] = $"""
            CREATE TRIGGER "audit_entries_ranges_refuse_update" BEFORE UPDATE ON "{AuditStoreModel.RemovedRangesTable}"
            BEGIN SELECT RAISE(ABORT, '{AuditStoreModel.RemovedRangesTable} is append-only: a removed range is recorded once, with its anchor.'); END
            """,
        [GuardPrefix + "ranges_refuse_delete"] = $"""
            CREATE TRIGGER "audit_entries_ranges_refuse_delete" BEFORE DELETE ON "{AuditStoreModel.RemovedRangesTable}"
            BEGIN SELECT RAISE(ABORT, '{AuditStoreModel.RemovedRangesTable} is append-only: a removed range is recorded once, with its anchor.'); END
            """,
    };

    /// <summary>
    /// The capture triggers of one table, keyed by trigger name. The update trigger records only when a captured
    /// column changed, and in <see cref="AuditValueMode.ChangedOnly"/> mode strips the unchanged columns itself
    /// (json_remove), so sealing never has to parse or diff JSON.
    ///
    /// REPLACE: SQLite deletes the rows that an INSERT OR REPLACE, REPLACE or UPDATE OR REPLACE conflicts with
    /// without firing any delete trigger (unless the writer turned recursive_triggers on). So a BEFORE trigger notes
    /// the rows the new values would conflict with, on the key and on every unique index (<paramref name="uniqueKeys"/>),
    /// in AuditStash; the AFTER trigger records as deleted those that are gone now, before the row's own entry.
    /// The notes of a row that was ignored (INSERT OR IGNORE, DO NOTHING, an upsert's update) are cleared by the next
    /// BEFORE trigger on the table and by the sealing run; they are never recorded.
    /// </summary>
    public static IReadOnlyDictionary<string, string> CaptureTriggers(TableCapturePlan plan, AuditValueMode mode, string owner, IReadOnlyList<IReadOnlyList<UniqueColumn>>? uniqueKeys = null)
    {
        var table = Quote(plan.Table);
        var captured = plan.Columns.Where(c => c.Treatment != ColumnTreatment.Ignore).ToList();
        var keyColumns = plan.KeyColumns.Select(k => plan.Columns.First(c => c.Name == k)).ToList();
        var name = CaptureTriggerPrefix + plan.Table;
        var insertInto = $"INSERT INTO \"{AuditStoreModel.PendingTable}\" (\"TableName\", \"Operation\", \"RecordKey\", \"OldValues\", \"NewValues\", \"ChangedColumns\", \"CapturedAtUtc\")";
        const string now = "strftime('%Y-%m-%d %H:%M:%f', 'now')";
        var literal = Literal(plan.Table);
        var ownerComment = $"/* {OwnerMarker}{owner.Replace("*/", "")} */";
        string Unchanged(ColumnCapture c) => $"OLD.{Quote(c.Name)} IS NEW.{Quote(c.Name)}";
        const string noPath = "'$.\"~\"'"; // matches nothing: json_remove leaves the value as it is

        var oldRow = JsonObject(captured, "OLD", null);
        var newRow = JsonObject(captured, "NEW", "OLD");
        if (mode == AuditValueMode.ChangedOnly && captured.Count > 0)
        {
            var paths = string.Join(", ", captured.Select(c => $"CASE WHEN {Unchanged(c)} THEN {Literal("$." + JsonKey(c.Name))} ELSE {noPath} END"));
            oldRow = $"json_remove({oldRow}, {paths})";
            newRow = $"json_remove({newRow}, {paths})";
        }

        // Remove array items from the last to the first, so earlier indexes stay valid.
        var changedColumns = captured.Count == 0 ? "json_array()" :
            $"json_remove(json_array({string.Join(", ", captured.Select(c => Literal(c.Name)))}), " +
            string.Join(", ", captured.Select((c, i) => (c, i)).Reverse().Select(x => $"CASE WHEN {Unchanged(x.c)} THEN '$[{x.i}]' ELSE {noPath} END")) + ")";
        var whenChanged = captured.Count == 0 ? "0" : string.Join(" OR ", captured.Select(c => $"OLD.{Quote(c.Name)} IS NOT NEW.{Quote(c.Name)}"));

        var triggers = new Dictionary<string, string>();
        var conflictSets = keyColumns.Count == 0 ? [] : new List<IReadOnlyList<UniqueColumn>> { keyColumns.Select(k => new UniqueColumn(k.Name, null)).ToList() };
        foreach (var set in uniqueKeys ?? [])
        {
            if (set.Count > 0 && set.All(c => plan.Columns.Any(p => p.Name == c.Name)) && !conflictSets.Any(s => s.SequenceEqual(set)))
            {
                conflictSets.Add(set);
            }
        }

        var replaced = "";
        if (conflictSets.Count > 0)
        {
            string Conflicts(string row) => string.Join(" OR ", conflictSets.Select(set =>
                "(" + string.Join(" AND ", set.Select(c => $"s.{Quote(c.Name)} = {row}.{Quote(c.Name)}{(c.Collation is { } coll ? " COLLATE " + coll : "")}")) + ")"));
            var stash = $"INSERT INTO \"{AuditStoreModel.StashTable}\" (\"TableName\", \"RecordKey\", \"OldValues\") SELECT {literal}, {JsonObject(keyColumns, "s", null)}, {JsonObject(captured, "s", null)} FROM {table} AS s";
            var clear = $"DELETE FROM \"{AuditStoreModel.StashTable}\" WHERE \"TableName\" = {literal};";
            var self = string.Join(" AND ", keyColumns.Select(k => $"s.{Quote(k.Name)} IS OLD.{Quote(k.Name)}"));
            var uniqueChanged = string.Join(" OR ", conflictSets.SelectMany(s => s).Select(c => c.Name).Distinct().Select(c => $"NEW.{Quote(c)} IS NOT OLD.{Quote(c)}"));
            triggers[name + "_before_insert"] = $"""
                CREATE TRIGGER {Quote(name + "_before_insert")} BEFORE INSERT ON {table} FOR EACH ROW BEGIN {ownerComment}
                {clear}
                {stash} WHERE {Conflicts("NEW")};
                END
                """;
            triggers[name + "_before_update"] = $"""
                CREATE TRIGGER {Quote(name + "_before_update")} BEFORE UPDATE ON {table} FOR EACH ROW
                WHEN {uniqueChanged} BEGIN {ownerComment}
                {clear}
                {stash} WHERE ({Conflicts("NEW")}) AND NOT ({self});
                END
                """;
            string Gone(string row) =>
                $"st.\"RecordKey\" = {JsonObject(keyColumns, row, null)} OR NOT EXISTS (SELECT 1 FROM {table} AS x WHERE " +
                string.Join(" AND ", keyColumns.Select(k => k.IsBinary
                    ? $"lower(hex(x.{Quote(k.Name)})) = json_extract(st.\"RecordKey\", {Literal("$." + JsonKey(k.Name))})"
                    : $"x.{Quote(k.Name)} = json_extract(st.\"RecordKey\", {Literal("$." + JsonKey(k.Name))})")) + ")";
            replaced = $"""
                {insertInto} SELECT st."TableName", 'delete', st."RecordKey", st."OldValues", NULL, NULL, {now} FROM "{AuditStoreModel.StashTable}" AS st
                WHERE st."TableName" = {literal} AND ({Gone("NEW")}) ORDER BY st."Id";

                """;
        }

        triggers[name + "_insert"] = $"""
            CREATE TRIGGER {Quote(name + "_insert")} AFTER INSERT ON {table} FOR EACH ROW BEGIN {ownerComment}
            {replaced}{insertInto} VALUES ({literal}, 'insert', {JsonObject(keyColumns, "NEW", null)}, NULL, {JsonObject(captured, "NEW", null)}, NULL, {now});
            END
            """;
        triggers[name + "_update"] = $"""
            CREATE TRIGGER {Quote(name + "_update")} AFTER UPDATE ON {table} FOR EACH ROW BEGIN {ownerComment}
            {replaced}{insertInto} SELECT {literal}, 'update', {JsonObject(keyColumns, "NEW", null)}, {oldRow}, {newRow}, {changedColumns}, {now} WHERE {whenChanged};
            END
            """;
        triggers[name + "_delete"] = $"""
            CREATE TRIGGER {Quote(name + "_delete")} AFTER DELETE ON {table} FOR EACH ROW BEGIN {ownerComment}
            {insertInto} VALUES ({literal}, 'delete', {JsonObject(keyColumns, "OLD", null)}, {JsonObject(captured, "OLD", null)}, NULL, NULL, {now});
            END
            """;
        return triggers;
    }

    /// <summary>
    /// The key and the values of the live row <paramref name="alias"/> of a table, as JSON exactly as the capture triggers
    /// write them (the same expressions): the baseline copies rows with these, and reconciliation compares with them.
    /// </summary>
    public static (string Key, string Values) RowJson(TableCapturePlan plan, string alias) =>
        (JsonObject(plan.KeyColumns.Select(k => plan.Columns.First(c => c.Name == k)), alias, null),
         JsonObject(plan.Columns.Where(c => c.Treatment != ColumnTreatment.Ignore), alias, null));

    /// <summary>Marks the owner (the model or policy that installed it) inside each capture trigger's text.</summary>
    public const string OwnerMarker = "audit-owner: ";

    /// <summary>The owner named in a capture trigger's text, or null for a trigger that names none.</summary>
    public static string? OwnerOf(string triggerSql)
    {
        var at = triggerSql.IndexOf(OwnerMarker, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var start = at + OwnerMarker.Length;
        var end = triggerSql.IndexOf(" */", start, StringComparison.Ordinal);
        return end < 0 ? null : triggerSql[start..end];
    }

    /// <summary>A name as a JSON string literal, quotes and backslashes escaped.</summary>
    internal static string JsonKey(string name) => "\"" + name.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    /// <summary>
    /// json_object over the columns of row <paramref name="row"/>. A redacted column becomes a placeholder;
    /// when <paramref name="compareTo"/> is given (the new row of an update) a changed redacted column gets
    /// its own placeholder, so the change is recorded without its value.
    /// </summary>
    private static string JsonObject(IEnumerable<ColumnCapture> columns, string row, string? compareTo)
    {
        var sb = new StringBuilder("json_object(");
        var first = true;
        foreach (var c in columns)
        {
            if (!first)
            {
                sb.Append(", ");
            }

            first = false;
            var col = $"{row}.{Quote(c.Name)}";
            sb.Append(Literal(c.Name)).Append(", ");
            if (c.Treatment == ColumnTreatment.Redact)
            {
                var placeholder = compareTo is null
                    ? Literal(AuditRedaction.Placeholder)
                    : $"CASE WHEN {compareTo}.{Quote(c.Name)} IS NOT {col} THEN {Literal(AuditRedaction.ChangedPlaceholder)} ELSE {Literal(AuditRedaction.Placeholder)} END";
                sb.Append($"CASE WHEN {col} IS NULL THEN NULL ELSE {placeholder} END");
            }
            else if (c.IsBinary)
            {
                sb.Append($"lower(hex({col}))");
            }
            else if (c.IsJson)
            {
                // A JSON document is embedded as JSON whatever wrote it: EF's json_set in a partial update hands the
                // trigger a value of JSON subtype, a whole-document update a plain string. Invalid JSON stays a string.
                sb.Append($"CASE WHEN json_valid({col}) THEN json({col}) ELSE {col} END");
            }
            else if (c.IsText)
            {
                // A plain text column is always a JSON string, even when the value written came from a JSON function.
                sb.Append($"CAST({col} AS TEXT)");
            }
            else
            {
                sb.Append(col);
            }
        }

        return sb.Append(')').ToString();
    }

    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    public static string Literal(string value) => "'" + value.Replace("'", "''") + "'";
}
