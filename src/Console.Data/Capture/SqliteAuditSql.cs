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

    /// <summary>
    /// The three capture triggers of one table, keyed by trigger name. The update trigger fires only when a
    /// captured column changed, and in <see cref="AuditValueMode.ChangedOnly"/> mode strips the unchanged
    /// columns itself (json_remove), so sealing never has to parse or diff JSON.
    /// </summary>
    public static IReadOnlyDictionary<string, string> CaptureTriggers(TableCapturePlan plan, AuditValueMode mode)
    {
        var table = Quote(plan.Table);
        var captured = plan.Columns.Where(c => c.Treatment != ColumnTreatment.Ignore).ToList();
        var keyColumns = plan.KeyColumns.Select(k => plan.Columns.First(c => c.Name == k)).ToList();
        var name = CaptureTriggerPrefix + plan.Table;
        var insertInto = $"INSERT INTO \"{AuditStoreModel.PendingTable}\" (\"TableName\", \"Operation\", \"RecordKey\", \"OldValues\", \"NewValues\", \"ChangedColumns\", \"CapturedAtUtc\")";
        const string now = "strftime('%Y-%m-%d %H:%M:%f', 'now')";
        var literal = Literal(plan.Table);
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

        return new Dictionary<string, string>
        {
            [name + "_insert"] = $"""
                CREATE TRIGGER {Quote(name + "_insert")} AFTER INSERT ON {table} FOR EACH ROW BEGIN
                {insertInto} VALUES ({literal}, 'insert', {JsonObject(keyColumns, "NEW", null)}, NULL, {JsonObject(captured, "NEW", null)}, NULL, {now});
                END
                """,
            [name + "_update"] = $"""
                CREATE TRIGGER {Quote(name + "_update")} AFTER UPDATE ON {table} FOR EACH ROW
                WHEN {whenChanged} BEGIN
                {insertInto} VALUES ({literal}, 'update', {JsonObject(keyColumns, "NEW", null)}, {oldRow}, {newRow}, {changedColumns}, {now});
                END
                """,
            [name + "_delete"] = $"""
                CREATE TRIGGER {Quote(name + "_delete")} AFTER DELETE ON {table} FOR EACH ROW BEGIN
                {insertInto} VALUES ({literal}, 'delete', {JsonObject(keyColumns, "OLD", null)}, {JsonObject(captured, "OLD", null)}, NULL, NULL, {now});
                END
                """,
        };
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
