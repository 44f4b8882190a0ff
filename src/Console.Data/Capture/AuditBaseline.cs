using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Interceptors;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace ComplianceConsole.Data.Capture;

/// <summary>
/// The baseline: the rows a table already held when capture began on it, recorded so that every record's state can be
/// rebuilt from the trail (history, as-of, revert, reconciliation). Each such row becomes one
/// <see cref="AuditEventNames.CaptureBaseline"/> entry (its table, key and values, as the triggers write them), and one
/// <see cref="AuditEventNames.CaptureBaselineCompleted"/> event per table closes it, all in the chain.
///
/// A table is baselined the first time capture is installed on it: never again, so a trigger dropped and put back cannot
/// hide the changes made in between behind a fresh snapshot. A small table (up to <see cref="AuditOptions.BaselineInlineRows"/>) is baselined in
/// the install's own transaction. A larger one gets <see cref="AuditEventNames.CaptureBaselineStarted"/> there, and
/// <see cref="ContinueAsync"/> (the console's background service) snapshots it in chunks afterwards, each chunk in one
/// transaction with its rows read under the write lock. A row changed after the install but before its chunk is
/// snapshotted as it is then: its snapshot follows those changes in the chain, so a replay from it is exact.
/// </summary>
public static class AuditBaseline
{
    /// <summary>Rows per chunk of a lazy baseline.</summary>
    public const int ChunkRows = 5_000;

    /// <summary>Whether capture was ever installed on the table before: an entry of it in the trail, or a recorded trigger.</summary>
    internal static async Task<bool> IsFirstCaptureAsync(DbConnection connection, DbTransaction transaction, string table, RecordedTriggers recorded, CancellationToken cancellationToken)
    {
        var prefix = SqliteAuditSql.CaptureTriggerPrefix + table;
        if (recorded.ByOwner.Values.Any(m => m.Keys.Any(k => k == prefix || k.StartsWith(prefix + "_", StringComparison.Ordinal))))
        {
            return false;
        }

        return await SqlCommands.ScalarAsync(connection, transaction,
            $"SELECT COUNT(*) FROM (SELECT 1 AS x FROM \"{AuditStoreModel.EntriesTable}\" WHERE \"TableName\" = @t) AS a", cancellationToken, ("@t", table)) == 0;
    }

    /// <summary>
    /// At the first install on a table: the baseline of its rows, or its start when the table is large. Returns the
    /// events to seal with the install (the rows' own snapshots are already pending).
    /// </summary>
    internal static async Task<SpooledRow?> BeginAsync(DbConnection connection, DbTransaction transaction, TableCapturePlan plan, int inlineRows, CancellationToken cancellationToken)
    {
        var rows = await SqlCommands.ScalarAsync(connection, transaction, $"SELECT COUNT(*) FROM {TableName(connection, plan)}", cancellationToken);
        if (rows == 0)
        {
            return null; // nothing existed before capture: every row will have its insert
        }

        if (rows > inlineRows)
        {
            return Event(AuditEventNames.CaptureBaselineStarted, plan.Table, rows, null);
        }

        var taken = await SnapshotAsync(connection, transaction, plan, null, cancellationToken);
        return Event(AuditEventNames.CaptureBaselineCompleted, plan.Table, rows, taken);
    }

    /// <summary>
    /// Takes one chunk of every baseline still open (started and not completed), each in its own transaction, and
    /// completes those with nothing left. Returns how many rows it snapshotted.
    /// </summary>
    public static async Task<int> ContinueAsync(DatabaseFacade database, AuditOptions options, int chunk = ChunkRows, CancellationToken cancellationToken = default)
    {
        // Called every few seconds by the background service: the one query, and nothing else when no baseline is open.
        var open = await OpenAsync(database, cancellationToken);
        if (open.Count == 0)
        {
            return 0;
        }

        var policy = AuditPolicyResolver.Resolve(database.GetService<ICurrentDbContext>().Context.Model, options);
        var total = 0;
        foreach (var plan in policy.Tables.Where(t => open.Contains(t.Table)))
        {
            await database.OpenConnectionAsync(cancellationToken);
            try
            {
                var connection = database.GetDbConnection();
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                var watermark = await AuditSealer.ReadWatermarkAsync(connection, transaction, async: true, cancellationToken);
                var taken = await SnapshotAsync(connection, transaction, plan, chunk, cancellationToken);
                if (taken < chunk)
                {
                    var snapshots = await SqlCommands.ScalarAsync(connection, transaction,
                        $"SELECT COUNT(*) FROM \"{AuditStoreModel.EntriesTable}\" WHERE \"TableName\" = @t AND \"EventName\" = @e",
                        cancellationToken, ("@t", plan.Table), ("@e", AuditEventNames.CaptureBaseline));
                    AuditSealer.RestoreRows(connection, transaction,
                        [Event(AuditEventNames.CaptureBaselineCompleted, plan.Table, await SqlCommands.ScalarAsync(connection, transaction, $"SELECT COUNT(*) FROM {TableName(connection, plan)}", cancellationToken), snapshots + taken)]);
                }

                await new AuditSealer(null).SealAsync(connection, transaction, watermark, AuditContext.ForJob("capture-baseline"), Guid.NewGuid().ToString("N"), async: true, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                total += taken;
            }
            finally
            {
                await database.CloseConnectionAsync();
            }
        }

        return total;
    }

    /// <summary>Tables whose baseline was started and not completed.</summary>
    public static async Task<IReadOnlySet<string>> OpenAsync(DatabaseFacade database, CancellationToken cancellationToken = default)
    {
        await database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = database.GetDbConnection().CreateCommand();
            command.Transaction = database.CurrentTransaction?.GetDbTransaction();
            command.CommandText = $"SELECT \"EventName\", \"Target\" FROM \"{AuditStoreModel.EntriesTable}\" WHERE \"EventName\" IN ('{AuditEventNames.CaptureBaselineStarted}', '{AuditEventNames.CaptureBaselineCompleted}')";
            var started = new HashSet<string>(StringComparer.Ordinal);
            var completed = new HashSet<string>(StringComparer.Ordinal);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                if (!reader.IsDBNull(1))
                {
                    (reader.GetString(0) == AuditEventNames.CaptureBaselineStarted ? started : completed).Add(reader.GetString(1));
                }
            }

            started.ExceptWith(completed);
            return started;
        }
        finally
        {
            await database.CloseConnectionAsync();
        }
    }

    /// <summary>Queues a snapshot of up to <paramref name="max"/> rows that have no whole-state entry (insert or snapshot) yet.</summary>
    private static async Task<int> SnapshotAsync(DbConnection connection, DbTransaction transaction, TableCapturePlan plan, int? max, CancellationToken cancellationToken)
    {
        var sqlite = connection is Microsoft.Data.Sqlite.SqliteConnection;
        var (keySql, valuesSql) = SqlCommands.RowJson(sqlite, plan, "s");
        var now = sqlite ? "strftime('%Y-%m-%d %H:%M:%f', 'now')" : "SYSUTCDATETIME()";
        var top = max is { } m && !sqlite ? $"TOP ({m}) " : "";
        var limit = max is { } n && sqlite ? $" LIMIT {n}" : "";
        var sql = $"""
            INSERT INTO "{AuditStoreModel.PendingTable}" ("TableName", "Operation", "EventName", "RecordKey", "NewValues", "CapturedAtUtc")
            SELECT {top}@t, 'event', @e, r.k, r.v, {now} FROM (SELECT {keySql} AS k, {valuesSql} AS v FROM {TableName(connection, plan)} AS s) AS r
            WHERE NOT EXISTS (SELECT 1 FROM "{AuditStoreModel.EntriesTable}" AS a WHERE a."TableName" = @t AND a."RecordKey" = r.k
                AND (a."Operation" = 'insert' OR a."EventName" IN (@e, @purged)))
            AND NOT EXISTS (SELECT 1 FROM "{AuditStoreModel.PendingTable}" AS p WHERE p."TableName" = @t AND p."RecordKey" = r.k AND p."Operation" = 'insert'){limit}
            """;
        await using var command = SqlCommands.Command(connection, transaction, sql,
            ("@t", plan.Table), ("@e", AuditEventNames.CaptureBaseline), ("@purged", AuditEventNames.RetentionSnapshot));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string TableName(DbConnection connection, TableCapturePlan plan) => SqlCommands.TableName(connection is Microsoft.Data.Sqlite.SqliteConnection, plan);

    private static SpooledRow Event(string name, string table, long rows, long? snapshots) =>
        new(null, AuditOperations.Event, null, null, null, null, name, table,
            JsonSerializer.Serialize(new SortedDictionary<string, string?>(StringComparer.Ordinal)
            {
                ["table"] = table,
                ["rows"] = rows.ToString(CultureInfo.InvariantCulture),
                ["snapshots"] = snapshots?.ToString(CultureInfo.InvariantCulture),
            }), null, null, null, DateTime.UtcNow.ToString(AuditSealer.SqliteDateFormat, CultureInfo.InvariantCulture));
}
