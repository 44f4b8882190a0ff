using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Diff;
using ComplianceConsole.Core.History;
using ComplianceConsole.Data.Capture;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace ComplianceConsole.Data.History;

public enum MismatchKind
{
    /// <summary>The live row's values differ from the state the trail rebuilds.</summary>
    Differs,

    /// <summary>The row exists, but the trail has no record of it (or says it was deleted).</summary>
    Untracked,

    /// <summary>The trail says the row exists, but it is not in the table.</summary>
    Missing,
}

public sealed record ReconcileMismatch(string Table, string Key, MismatchKind Kind, IReadOnlyList<string> Columns, long? LastSeq)
{
    public string Describe() => Kind switch
    {
        MismatchKind.Differs => $"{Table} {Key}: {string.Join(", ", Columns)} {(Columns.Count == 1 ? "differs" : "differ")} from the trail (last recorded change #{LastSeq}).",
        MismatchKind.Untracked => LastSeq is { } seq
            ? $"{Table} {Key}: the row exists, but the trail says it was deleted (#{seq})."
            : $"{Table} {Key}: the row exists, but the trail has no record of it.",
        _ => $"{Table} {Key}: the trail says the row exists (last change #{LastSeq}), but it is not in the table.",
    };
}

public sealed record TableReconcile(string Table, long Rows, long Records, int Mismatches, long AwaitingBaseline);

public sealed record ReconcileProgress(string Table, long Rows, long TableRows, double RowsPerSecond);

/// <summary>What a reconciliation found: per table, and the mismatches (the first <see cref="Reconciler.MaxListed"/>).</summary>
public sealed record ReconcileReport(IReadOnlyList<TableReconcile> Tables, IReadOnlyList<ReconcileMismatch> Mismatches, int MismatchCount, long Rows, TimeSpan Elapsed, long ThroughSeq)
{
    public bool Clean => MismatchCount == 0;

    public double RowsPerSecond => Elapsed.TotalSeconds > 0 ? Rows / Elapsed.TotalSeconds : Rows;
}

/// <summary>
/// Catches changes that bypassed capture: rebuilds every record of the audited tables from the trail (the same
/// <see cref="RecordHistory"/> replay as the history page) and compares it with the live row. It reads one snapshot of
/// the database (a single read transaction), and counts captured changes still waiting to be sealed as part of the
/// trail. It writes nothing; the caller records the outcome as an event.
///
/// Both sides stream in key order and are merged: the trail through its (table, record) index, the live rows sorted by
/// the key JSON the triggers write, so memory stays flat whatever the table's size. Values are compared as the triggers
/// write them (<see cref="SqliteAuditSql.RowJson"/>): a row never changed since its insert or snapshot compares as one
/// string. A column the trail never saw (added after the record's last whole-state entry) is not compared.
/// </summary>
public static class Reconciler
{
    public const int MaxListed = 1_000;

    public static async Task<ReconcileReport> RunAsync(DbContext db, AuditOptions options, string? onlyTable = null,
        IProgress<ReconcileProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var policy = AuditPolicyResolver.Resolve(db.Model, options);
        var plans = policy.Tables.Where(t => onlyTable is null || string.Equals(t.Table, onlyTable, StringComparison.OrdinalIgnoreCase)).ToList();
        if (onlyTable is not null && plans.Count == 0)
        {
            throw new ArgumentException(
                $"\"{onlyTable}\" is not an audited table. Audited tables: {string.Join(", ", policy.Tables.Select(t => t.Table))}.", nameof(onlyTable));
        }

        var watch = Stopwatch.StartNew();
        var connection = db.Database.GetDbConnection();
        var opened = connection.State != System.Data.ConnectionState.Open;
        if (opened)
        {
            await connection.OpenAsync(cancellationToken);
        }

        try
        {
            // One snapshot for both sides: WAL readers see one consistent state for the whole transaction; on SQL
            // Server, snapshot isolation where the database allows it, else repeatable reads.
            var sqlite = db.Database.IsSqlite();
            // SQLite: a deferred transaction takes no lock, and its first read fixes the snapshot (WAL).
            await using DbTransaction transaction = connection is SqliteConnection lite
                ? lite.BeginTransaction(deferred: true)
                : await connection.BeginTransactionAsync(await SqlServerIsolationAsync(connection, cancellationToken), cancellationToken);
            var headSql = $"SELECT MAX(\"Seq\") FROM \"{AuditStoreModel.EntriesTable}\"";
            // SQLite: the live rows are read on a second connection, on the other core, in the same snapshot (LiveReader).
            await using var liveReader = connection is SqliteConnection file ? await LiveReader.OpenAsync(file, transaction, headSql, cancellationToken) : null;
            var head = await SqlCommands.ScalarAsync(connection, transaction, headSql, cancellationToken);
            var tables = new List<TableReconcile>();
            var mismatches = new List<ReconcileMismatch>();
            var count = 0;
            long rows = 0;
            foreach (var plan in plans)
            {
                var result = await TableAsync(connection, transaction, liveReader, sqlite, plan, m =>
                {
                    count++;
                    if (mismatches.Count < MaxListed)
                    {
                        mismatches.Add(m);
                    }
                }, (done, total) => progress?.Report(new ReconcileProgress(plan.Table, done, total, (rows + done) / Math.Max(watch.Elapsed.TotalSeconds, 0.001))), cancellationToken);
                tables.Add(result);
                rows += result.Rows;
            }

            await transaction.RollbackAsync(cancellationToken);
            return new ReconcileReport(tables, mismatches, count, rows, watch.Elapsed, head);
        }
        finally
        {
            if (opened)
            {
                await connection.CloseAsync();
            }
        }
    }

    /// <summary>
    /// Records the outcome in the chain: <c>audit.reconciled</c> when clean, <c>audit.reconcile_mismatch</c> (a failure,
    /// shown on /health until a later clean run) when not, with the counts and the first mismatches. Out-of-band rows
    /// waiting to be sealed are sealed first, as the sealer always does.
    /// </summary>
    public static async Task RecordAsync(DatabaseFacade database, ReconcileReport report, AuditContext context, CancellationToken cancellationToken = default)
    {
        var metadata = new SortedDictionary<string, string?>(StringComparer.Ordinal)
        {
            ["tables"] = string.Join(", ", report.Tables.Select(t => t.Table)),
            ["rows"] = report.Rows.ToString(CultureInfo.InvariantCulture),
            ["mismatches"] = report.MismatchCount.ToString(CultureInfo.InvariantCulture),
            ["awaitingBaseline"] = report.Tables.Sum(t => t.AwaitingBaseline).ToString(CultureInfo.InvariantCulture),
            ["throughSeq"] = report.ThroughSeq.ToString(CultureInfo.InvariantCulture),
            ["seconds"] = report.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture),
            ["first"] = report.Clean ? null : string.Join("\n", report.Mismatches.Take(20).Select(m => m.Describe())),
        };
        var row = new Interceptors.SpooledRow(null, AuditOperations.Event, null, null, null, null,
            report.Clean ? AuditEventNames.ReconcileCompleted : AuditEventNames.ReconcileMismatch, "reconciliation",
            JsonSerializer.Serialize(metadata), null, null, null, DateTime.UtcNow.ToString(Interceptors.AuditSealer.SqliteDateFormat, CultureInfo.InvariantCulture));

        // Sealed here with the caller's context, whatever the context's own registration (a CLI context has no interceptor).
        await database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = database.GetDbConnection();
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var watermark = await Interceptors.AuditSealer.ReadWatermarkAsync(connection, transaction, async: true, cancellationToken);
            Interceptors.AuditSealer.RestoreRows(connection, transaction, [row]);
            await new Interceptors.AuditSealer(null).SealAsync(connection, transaction, watermark, context, Guid.NewGuid().ToString("N"), async: true, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        finally
        {
            await database.CloseConnectionAsync();
        }
    }

    private static async Task<TableReconcile> TableAsync(DbConnection connection, DbTransaction transaction, LiveReader? liveReader, bool sqlite, Core.Auditing.TableCapturePlan plan,
        Action<ReconcileMismatch> report, Action<long, long> progress, CancellationToken cancellationToken)
    {
        var table = SqlCommands.TableName(sqlite, plan);
        var (keySql, valuesSql) = SqlCommands.RowJson(sqlite, plan, "s");
        var binary = sqlite ? "" : " COLLATE Latin1_General_BIN2";
        var comparer = sqlite ? Utf8Order.Instance : (IComparer<string>)StringComparer.Ordinal;
        var total = await SqlCommands.ScalarAsync(connection, transaction, $"SELECT COUNT(*) FROM {table}", cancellationToken);

        // Captured but not yet sealed (out-of-band writes wait for the sealer): part of the trail, after every entry.
        var pending = new Dictionary<string, List<AuditEntry>>(StringComparer.Ordinal);
        await using (var command = SqlCommands.Command(connection, transaction,
            $"SELECT \"Id\", \"Operation\", \"RecordKey\", \"OldValues\", \"NewValues\" FROM \"{AuditStoreModel.PendingTable}\" WHERE \"TableName\" = @t AND \"RecordKey\" IS NOT NULL ORDER BY \"Id\"", ("@t", plan.Table)))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var key = reader.GetString(2);
                (pending.TryGetValue(key, out var list) ? list : pending[key] = []).Add(new AuditEntry
                {
                    Seq = long.MaxValue - 1_000_000 + reader.GetInt64(0), Operation = reader.GetString(1), Origin = "pending",
                    OldValues = Str(reader, 3), NewValues = Str(reader, 4), TableName = plan.Table, RecordKey = key,
                });
            }
        }

        // A large table's baseline is taken in chunks after capture began: until it completes, a row without a trail may
        // simply not have its snapshot yet, and is counted as awaiting it, not as a mismatch.
        async Task<bool> Recorded(string name) => await SqlCommands.ScalarAsync(connection, transaction,
            $"SELECT COUNT(*) FROM \"{AuditStoreModel.EntriesTable}\" WHERE \"EventName\" = @e AND \"Target\" = @t", cancellationToken, ("@e", name), ("@t", plan.Table)) > 0;
        var baselineOpen = await Recorded(AuditEventNames.CaptureBaselineStarted) && !await Recorded(AuditEventNames.CaptureBaselineCompleted);

        var liveSql = $"SELECT {keySql} AS k, {valuesSql} AS v FROM {table} AS s ORDER BY k{binary}";
        await using var trailCommand = SqlCommands.Command(connection, transaction, $"""
            SELECT "RecordKey", "Seq", "Operation", "EventName", "OldValues", "NewValues", "Metadata" FROM "{AuditStoreModel.EntriesTable}"
            WHERE "TableName" = @t AND "RecordKey" IS NOT NULL ORDER BY "RecordKey"{binary}, "Seq"
            """, ("@t", plan.Table));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var live = liveReader is null ? Inline(connection, transaction, liveSql, stop.Token) : liveReader.Rows(liveSql, stop.Token);
        await using var trail = new TrailReader(await trailCommand.ExecuteReaderAsync(cancellationToken));
        await trail.MoveAsync(cancellationToken);

        long rows = 0, records = 0, awaiting = 0;
        var mismatches = 0;
        void Found(ReconcileMismatch m)
        {
            mismatches++;
            report(m);
        }

        void CompareRecord(string key, List<AuditEntry> entries, string? liveValues)
        {
            if (pending.Remove(key, out var waiting))
            {
                entries.AddRange(waiting);
            }

            records++;
            var state = StateOf(entries);
            var last = entries.Count == 0 ? (long?)null : entries[^1].Seq;
            if (liveValues is null)
            {
                if (state.Exists)
                {
                    Found(new ReconcileMismatch(plan.Table, key, MismatchKind.Missing, [], last));
                }

                return;
            }

            if (!state.Exists)
            {
                if (state.AsOfSeq is null && baselineOpen)
                {
                    awaiting++;
                    return;
                }

                Found(new ReconcileMismatch(plan.Table, key, MismatchKind.Untracked, [], state.AsOfSeq));
                return;
            }

            // The common case: one insert or snapshot and nothing since; the trigger wrote the same string.
            if (entries.Count == 1 && entries[0].NewValues == liveValues)
            {
                return;
            }

            var differing = Differing(state, liveValues);
            if (differing.Count > 0)
            {
                Found(new ReconcileMismatch(plan.Table, key, MismatchKind.Differs, differing, last));
            }
        }

        try
        {
            await foreach (var (liveKey, liveValues) in live.WithCancellation(stop.Token))
            {
                // Records the trail knows that sort before this row: not in the table.
                while (trail.Key is { } before && comparer.Compare(before, liveKey) < 0)
                {
                    CompareRecord(before, await trail.TakeRecordAsync(cancellationToken), null);
                }

                var entries = trail.Key == liveKey ? await trail.TakeRecordAsync(cancellationToken) : [];
                CompareRecord(liveKey, entries, liveValues);
                if (++rows % 10_000 == 0)
                {
                    progress(rows, total);
                }
            }
        }
        finally
        {
            stop.Cancel(); // the live reader stops too when the merge stops early
        }

        while (trail.Key is { } rest)
        {
            CompareRecord(rest, await trail.TakeRecordAsync(cancellationToken), null);
        }

        foreach (var (key, waiting) in pending.ToList())
        {
            CompareRecord(key, [.. waiting], null);
        }

        progress(rows, total);
        return new TableReconcile(plan.Table, rows, records, mismatches, awaiting);
    }

    /// <summary>The record's state from its entries, as raw JSON per column (the replay of <see cref="RecordHistory"/>).</summary>
    private static RawRecordState StateOf(List<AuditEntry> entries)
    {
        // Replay from the newest whole-state entry: what came before it cannot change the result.
        var ordered = RecordHistory.InReplayOrder(entries).ToList();
        var start = ordered.FindLastIndex(e => e.Operation == AuditOperations.Insert || AuditEventNames.IsSnapshot(e.EventName));
        return RecordHistory.ReplayRaw(start <= 0 ? ordered : ordered.Skip(start));
    }

    private static readonly string[] RedactedTexts = [JsonSerializer.Serialize(AuditRedaction.Placeholder), JsonSerializer.Serialize(AuditRedaction.ChangedPlaceholder)];

    /// <summary>The columns whose live value differs from the rebuilt one; columns the trail never saw are not compared.</summary>
    private static List<string> Differing(RawRecordState state, string liveValues)
    {
        var differing = new List<string>();
        using var doc = JsonDocument.Parse(liveValues);
        foreach (var column in doc.RootElement.EnumerateObject())
        {
            if (!state.Columns.TryGetValue(column.Name, out var rebuilt))
            {
                continue;
            }

            var live = column.Value.GetRawText();
            if (rebuilt == live)
            {
                continue;
            }

            // A redacted value is only known to be set; other values may differ in spelling only (a JSON document's spacing).
            var same = RedactedTexts.Contains(rebuilt) || RedactedTexts.Contains(live)
                ? RedactedTexts.Contains(rebuilt) && RedactedTexts.Contains(live)
                : SameJson(rebuilt, column.Value);
            if (!same)
            {
                differing.Add(column.Name);
            }
        }

        return differing;
    }

    private static bool SameJson(string raw, JsonElement live)
    {
        using var doc = JsonDocument.Parse(raw);
        return JsonElement.DeepEquals(doc.RootElement, live);
    }

    private static async Task<System.Data.IsolationLevel> SqlServerIsolationAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT snapshot_isolation_state FROM sys.databases WHERE name = DB_NAME()";
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 1
            ? System.Data.IsolationLevel.Snapshot
            : System.Data.IsolationLevel.RepeatableRead;
    }

    private static string? Str(DbDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);

    /// <summary>The live rows in key order, read on the merge's own connection (SQL Server, or a SQLite database opened read-only).</summary>
    private static async IAsyncEnumerable<(string Key, string Values)> Inline(DbConnection connection, DbTransaction transaction, string sql,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var command = SqlCommands.Command(connection, transaction, sql);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return (reader.GetString(0), reader.GetString(1));
        }
    }

    /// <summary>
    /// SQLite: the live side of the merge on a second connection, read on another thread while the merge reads the trail
    /// (json_object over every row and the sort by key are about a third of the work). Both connections must see the same
    /// snapshot: the second one starts its read transaction while a third holds the write lock (BEGIN IMMEDIATE, which
    /// writes nothing), so no commit can fall between the two snapshots. Where the lock cannot be had (a read-only copy,
    /// a writer holding it for long), the live rows are read on the merge's connection instead.
    /// </summary>
    private sealed class LiveReader : IAsyncDisposable
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteTransaction _transaction;
        private Task _producer = Task.CompletedTask;

        private LiveReader(SqliteConnection connection, SqliteTransaction transaction) => (_connection, _transaction) = (connection, transaction);

        public static async Task<LiveReader?> OpenAsync(SqliteConnection main, DbTransaction mainTransaction, string firstRead, CancellationToken cancellationToken)
        {
            var builder = new SqliteConnectionStringBuilder(main.ConnectionString) { DefaultTimeout = 2 };
            if (builder.Mode == SqliteOpenMode.Memory || builder.DataSource is "" or ":memory:" || builder.Mode == SqliteOpenMode.ReadOnly)
            {
                return null;
            }

            await using var gate = new SqliteConnection(builder.ToString());
            await gate.OpenAsync(cancellationToken);
            try
            {
                await using var begin = gate.CreateCommand();
                begin.CommandText = "BEGIN IMMEDIATE";
                await begin.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (SqliteException)
            {
                return null;
            }

            try
            {
                // With no writer possible, both read transactions take their snapshot now: the same one.
                await SqlCommands.ScalarAsync(main, mainTransaction, firstRead, cancellationToken);
                var connection = new SqliteConnection(new SqliteConnectionStringBuilder(main.ConnectionString).ToString());
                await connection.OpenAsync(cancellationToken);
                var transaction = connection.BeginTransaction(deferred: true);
                await SqlCommands.ScalarAsync(connection, transaction, firstRead, cancellationToken);
                return new LiveReader(connection, transaction);
            }
            finally
            {
                await using var rollback = gate.CreateCommand();
                rollback.CommandText = "ROLLBACK";
                await rollback.ExecuteNonQueryAsync(CancellationToken.None);
            }
        }

        public IAsyncEnumerable<(string Key, string Values)> Rows(string sql, CancellationToken cancellationToken)
        {
            var channel = System.Threading.Channels.Channel.CreateBounded<(string, string)>(new System.Threading.Channels.BoundedChannelOptions(20_000) { SingleReader = true, SingleWriter = true });
            _producer = Task.Run(async () =>
            {
                try
                {
                    await using var command = SqlCommands.Command(_connection, _transaction, sql);
                    await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        await channel.Writer.WriteAsync((reader.GetString(0), reader.GetString(1)), cancellationToken);
                    }

                    channel.Writer.Complete();
                }
                catch (Exception ex)
                {
                    channel.Writer.Complete(ex);
                }
            }, CancellationToken.None);
            return channel.Reader.ReadAllAsync(cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            await _producer; // it never throws: its failure completes the channel, which the merge reads
            await _transaction.DisposeAsync();
            await _connection.DisposeAsync();
        }
    }

    /// <summary>The trail side of the merge: entries ordered by record key then seq, taken one record at a time.</summary>
    private sealed class TrailReader(DbDataReader reader) : IAsyncDisposable
    {
        private AuditEntry? _next;

        public string? Key => _next?.RecordKey;

        public async Task MoveAsync(CancellationToken cancellationToken)
        {
            _next = await reader.ReadAsync(cancellationToken)
                ? new AuditEntry
                {
                    RecordKey = reader.GetString(0), Seq = reader.GetInt64(1), Operation = reader.GetString(2), EventName = Str(reader, 3),
                    OldValues = Str(reader, 4), NewValues = Str(reader, 5), Origin = "",
                    Metadata = Str(reader, 3) == AuditEventNames.RetentionSnapshot ? Str(reader, 6) : null,
                }
                : null;
        }

        public async Task<List<AuditEntry>> TakeRecordAsync(CancellationToken cancellationToken)
        {
            var key = Key;
            var entries = new List<AuditEntry>();
            while (_next is { } entry && entry.RecordKey == key)
            {
                entries.Add(entry);
                await MoveAsync(cancellationToken);
            }

            return entries;
        }

        public ValueTask DisposeAsync() => reader.DisposeAsync();
    }

    /// <summary>SQLite's BINARY order (UTF-8 bytes) on .NET strings: code point order, which differs from UTF-16 order only above U+D7FF.</summary>
    private sealed class Utf8Order : IComparer<string>
    {
        public static readonly Utf8Order Instance = new();

        public int Compare(string? x, string? y)
        {
            if (x is null || y is null)
            {
                return x is null ? (y is null ? 0 : -1) : 1;
            }

            var n = Math.Min(x.Length, y.Length);
            for (var i = 0; i < n; i++)
            {
                if (x[i] != y[i])
                {
                    return Fix(x[i]).CompareTo(Fix(y[i]));
                }
            }

            return x.Length.CompareTo(y.Length);
        }

        // Surrogates (U+D800–DFFF) encode code points above U+FFFF, which UTF-8 sorts after U+E000–FFFF.
        private static int Fix(char c) => c >= 0xD800 ? (c >= 0xE000 ? c - 0x800 : c + 0x2000) : c;
    }
}
