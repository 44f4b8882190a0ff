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

    /// <summary>The three capture triggers of one table, keyed by trigger name.</summary>
    public static IReadOnlyDictionary<string, string> CaptureTriggers(TableCapturePlan plan)
    {
        var table = Quote(plan.Table);
        var captured = plan.Columns.Where(c => c.Treatment != ColumnTreatment.Ignore).ToList();
        var key = JsonObject(plan.KeyColumns.Select(k => plan.Columns.First(c => c.Name == k)), "NEW", null);
        var oldKey = JsonObject(plan.KeyColumns.Select(k => plan.Columns.First(c => c.Name == k)), "OLD", null);
        var name = CaptureTriggerPrefix + plan.Table;
        var insertInto = $"INSERT INTO \"{AuditStoreModel.PendingTable}\" (\"TableName\", \"Operation\", \"RecordKey\", \"OldValues\", \"NewValues\", \"CapturedAtUtc\")";
        const string now = "strftime('%Y-%m-%d %H:%M:%f', 'now')";
        var literal = Literal(plan.Table);

        var changed = captured.Select(c => $"OLD.{Quote(c.Name)} IS NOT NEW.{Quote(c.Name)}").ToList();

        return new Dictionary<string, string>
        {
            [name + "_insert"] = $"""
                CREATE TRIGGER {Quote(name + "_insert")} AFTER INSERT ON {table} FOR EACH ROW BEGIN
                {insertInto} VALUES ({literal}, 'insert', {key}, NULL, {JsonObject(captured, "NEW", null)}, {now});
                END
                """,
            [name + "_update"] = $"""
                CREATE TRIGGER {Quote(name + "_update")} AFTER UPDATE ON {table} FOR EACH ROW
                WHEN {(changed.Count == 0 ? "0" : string.Join(" OR ", changed))} BEGIN
                {insertInto} VALUES ({literal}, 'update', {key}, {JsonObject(captured, "OLD", null)}, {JsonObject(captured, "NEW", "OLD")}, {now});
                END
                """,
            [name + "_delete"] = $"""
                CREATE TRIGGER {Quote(name + "_delete")} AFTER DELETE ON {table} FOR EACH ROW BEGIN
                {insertInto} VALUES ({literal}, 'delete', {oldKey}, {JsonObject(captured, "OLD", null)}, NULL, {now});
                END
                """,
        };
    }

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
