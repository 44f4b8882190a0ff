using System.Data.Common;
using System.Globalization;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Data.Capture;
using L = ComplianceConsole.Core.Auditing.AuditFieldLimits;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace ComplianceConsole.Data.Interceptors;

/// <summary>
/// Moves captured rows from AuditPending into the chained AuditEntries, inside the transaction that is about
/// to commit. Rows the writer captured itself (ids above its watermark) get the writer's context; rows left
/// by writers outside the app (at or below it) are sealed first, as out-of-band with the actor unknown.
/// The triggers already reduced each row to what is stored, so sealing only numbers, hashes and inserts.
///
/// Total order: SQLite allows one writer at a time, and every sealing transaction holds the write lock from
/// its first write to its commit, so the seq order is the commit order and the chain head cannot move under us.
/// </summary>
/// <param name="clock">The time of the entries; null: SQL Server's SYSUTCDATETIME() read under the chain lock (one clock for every
/// node), and the system clock on SQLite. Spool replay passes the time its change committed; tests pass a fixed time.</param>
public sealed class AuditSealer(TimeProvider? clock)
{
    public const long SealEverythingAsOutOfBand = long.MaxValue;

    // Reads the chain head and takes every pending row in one round trip; we hold the write lock, so no
    // other writer can add one in between. RETURNING gives no order: the rows are sorted by id below.
    // Simple statements on purpose: EF closes the connection after each operation, which finalizes prepared
    // statements, so every seal prepares its SQL again and a plain statement prepares fastest (docs/benchmarks.md).
    private const string ReadSql = """
        SELECT "Seq", "RowHash" FROM "AuditEntries" ORDER BY "Seq" DESC LIMIT 1;
        DELETE FROM "AuditPending"
        RETURNING "Id", "TableName", "Operation", "RecordKey", "OldValues", "NewValues", "ChangedColumns", "EventName", "Target",
                  "Metadata", "Tenant", "ActorId", "ActorName", "CapturedAtUtc";
        """;

    private static readonly string[] Columns =
    [
        "Seq", "Version", "OccurredAtUtc", "Operation", "EventName", "TableName", "RecordKey", "OldValues", "NewValues",
        "ChangedColumns", "ActorId", "ActorName", "ActorRoles", "Origin", "OutOfBand", "CorrelationId", "TransactionId",
        "IpAddress", "UserAgent", "Tenant", "Target", "Metadata", "PayloadHash", "RowHash",
    ];

    // The text form Microsoft.Data.Sqlite and EF Core use for DateTime, so both paths store the same value.
    public const string SqliteDateFormat = "yyyy-MM-dd HH:mm:ss.FFFFFFF";

    private static readonly string PositionalInsertSql =
        $"INSERT OR FAIL INTO \"AuditEntries\" ({string.Join(", ", Columns.Select(c => $"\"{c}\""))}) VALUES ({string.Join(", ", Columns.Select((_, i) => "?" + (i + 1)))})";

    private const string TakeOursSql = """
        DELETE FROM "AuditPending" WHERE "Id" > @watermark
        RETURNING "Id", "TableName", "Operation", "RecordKey", "OldValues", "NewValues", "ChangedColumns", "EventName", "Target",
                  "Metadata", "Tenant", "ActorId", "ActorName", "CapturedAtUtc";
        """;

    private const string InsertPendingSql = """
        INSERT INTO "AuditPending" ("TableName", "Operation", "RecordKey", "OldValues", "NewValues", "ChangedColumns", "EventName", "Target",
                                    "Metadata", "Tenant", "ActorId", "ActorName", "CapturedAtUtc")
        VALUES (@TableName, @Operation, @RecordKey, @OldValues, @NewValues, @ChangedColumns, @EventName, @Target, @Metadata, @Tenant, @ActorId, @ActorName, @CapturedAtUtc)
        """;

    public DateTime UtcNow => (clock ?? TimeProvider.System).GetUtcNow().UtcDateTime;

    /// <summary>Never-block mode: takes this transaction's own captured rows out of the database, for the spool.</summary>
    public static List<SpooledRow> TakeOwnRows(DbConnection connection, DbTransaction transaction, long watermark, string storeSchema = AuditStoreModel.DefaultSqlServerSchema)
    {
        if (connection is not SqliteConnection)
        {
            return SqlServerAuditSealer.TakeOwnRows(connection, transaction, storeSchema);
        }

        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = TakeOursSql;
        var p = command.CreateParameter();
        p.ParameterName = "@watermark";
        p.Value = watermark;
        command.Parameters.Add(p);
        using var reader = command.ExecuteReader();
        var rows = new List<(long Id, SpooledRow Row)>();
        while (reader.Read())
        {
            rows.Add((reader.GetInt64(0), ReadPendingRow(reader, reader.GetString(13))));
        }

        return rows.OrderBy(r => r.Id).Select(r => r.Row).ToList();
    }

    /// <summary>Never-block: the row that proves a spooled transaction committed (see <see cref="Capture.AuditSpoolMark"/>).</summary>
    public static void WriteSpoolMark(DbConnection connection, DbTransaction transaction, string id, DateTime now, string storeSchema = AuditStoreModel.DefaultSqlServerSchema)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = connection is SqliteConnection
            ? """INSERT INTO "AuditSpoolMarks" ("Id", "CreatedAtUtc") VALUES (@id, @now)"""
            : $"INSERT INTO {SqlServerAuditSql.Quote(storeSchema)}.[AuditSpoolMarks] ([Id], [CreatedAtUtc]) VALUES (@id, @now)";
        var p = command.CreateParameter();
        p.ParameterName = "@id";
        p.Value = id;
        command.Parameters.Add(p);
        var n = command.CreateParameter();
        n.ParameterName = "@now";
        n.Value = connection is SqliteConnection ? now.ToString(SqliteDateFormat, CultureInfo.InvariantCulture) : now;
        command.Parameters.Add(n);
        command.ExecuteNonQuery();
    }

    /// <summary>Replay: puts spooled rows back into AuditPending, in order, to be sealed in the same transaction.</summary>
    public static void RestoreRows(DbConnection connection, DbTransaction transaction, IEnumerable<SpooledRow> rows, string storeSchema = AuditStoreModel.DefaultSqlServerSchema)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = connection is SqliteConnection ? InsertPendingSql
            : InsertPendingSql.Replace("INSERT INTO \"AuditPending\"", $"INSERT INTO {SqlServerAuditSql.Quote(storeSchema)}.[AuditPending]", StringComparison.Ordinal);
        string[] names = ["TableName", "Operation", "RecordKey", "OldValues", "NewValues", "ChangedColumns", "EventName", "Target", "Metadata", "Tenant", "ActorId", "ActorName", "CapturedAtUtc"];
        var parameters = names.Select(n =>
        {
            var p = command.CreateParameter();
            p.ParameterName = "@" + n;
            command.Parameters.Add(p);
            return p;
        }).ToArray();
        foreach (var r in rows)
        {
            object?[] values = [r.TableName, r.Operation, r.RecordKey, r.OldValues, r.NewValues, r.ChangedColumns, r.EventName, r.Target, r.Metadata, r.Tenant, r.ActorId, r.ActorName, r.CapturedAtUtc];
            for (var i = 0; i < values.Length; i++)
            {
                parameters[i].Value = values[i] ?? DBNull.Value;
            }

            command.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// SQLite: the highest pending id when this transaction began; rows at or below it were left by writers outside
    /// the app. SQL Server tags pending rows with their transaction instead, so it needs none.
    /// </summary>
    public static long ReadWatermark(DbConnection connection, DbTransaction transaction) =>
        ReadWatermarkAsync(connection, transaction, async: false, default).GetAwaiter().GetResult();

    /// <inheritdoc cref="ReadWatermark"/>
    public static async Task<long> ReadWatermarkAsync(DbConnection connection, DbTransaction transaction, bool async, CancellationToken cancellationToken)
    {
        if (connection is not SqliteConnection)
        {
            return 0;
        }

        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """SELECT coalesce(max("Id"), 0) FROM "AuditPending" """;
        var value = async ? await command.ExecuteScalarAsync(cancellationToken) : command.ExecuteScalar();
        return Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Seals the transaction's pending rows; returns how many entries were appended. SQLite: every pending row (one
    /// writer at a time), those at or below <paramref name="watermark"/> as out-of-band; its client is synchronous whatever
    /// the call, and by now the transaction already holds SQLite's write lock. SQL Server: only the transaction's own rows
    /// (<see cref="SqlServerAuditSealer"/>), in the store's schema, the chain lock waited for less than
    /// <paramref name="commandTimeout"/>; the wait and every round trip are asynchronous when <paramref name="async"/> is set.
    /// </summary>
    public async Task<int> SealAsync(DbConnection connection, DbTransaction transaction, long watermark, AuditContext context, string transactionId, bool async, CancellationToken cancellationToken,
        string storeSchema = AuditStoreModel.DefaultSqlServerSchema, int? commandTimeout = null)
    {
        if (connection is SqliteConnection)
        {
            return Seal(connection, transaction, watermark, context, transactionId);
        }

        return await SqlServerAuditSealer.SealOwnAsync(connection, transaction, storeSchema, commandTimeout, context, transactionId, clock?.GetUtcNow().UtcDateTime, async, cancellationToken);
    }

    /// <summary>SQLite: seals every pending row; returns how many entries were appended.</summary>
    public int Seal(DbConnection connection, DbTransaction transaction, long watermark, AuditContext context, string transactionId)
    {
        if (connection is not SqliteConnection { Handle: { } handle })
        {
            throw new NotSupportedException("Seal is SQLite's; on SQL Server call SealAsync (own rows) or SealOutOfBandAsync (rows of writers outside the app).");
        }

        long seq;
        string previous;
        var rows = new List<PendingRow>();
        using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = ReadSql;
            using var reader = read.ExecuteReader();
            (seq, previous) = reader.Read() ? (reader.GetInt64(0), reader.GetString(1)) : (ChainStart.Genesis.FirstSeq - 1, ChainStart.Genesis.PreviousRowHash);
            reader.NextResult();
            while (reader.Read())
            {
                rows.Add(new PendingRow(reader.GetInt64(0), ReadPendingRow(reader, reader.GetString(13))));
            }
        }

        if (rows.Count == 0)
        {
            return 0;
        }

        rows.Sort((a, b) => a.Id.CompareTo(b.Id));

        InsertByPosition(handle, rows, watermark, context, transactionId, UtcNow, seq, previous);
        return rows.Count;
    }

    /// <summary>
    /// One statement prepared for the whole seal and bound by position through SQLitePCL, which skips the
    /// per-parameter name lookups and boxing of the ADO.NET path (docs/benchmarks.md). It runs inside the
    /// connection's open transaction like any other statement on it.
    /// </summary>
    private static void InsertByPosition(sqlite3 handle, List<PendingRow> rows, long watermark, AuditContext context, string transactionId, DateTime now, long seq, string previous)
    {
        var rc = raw.sqlite3_prepare_v2(handle, PositionalInsertSql, out sqlite3_stmt statement);
        SqliteException.ThrowExceptionForRC(rc, handle);
        using (statement)
        {
            foreach (var row in rows)
            {
                var e = HashChain.Seal(ToEntry(row.Row, row.Id > watermark ? context : null, transactionId, now), ++seq, previous);
                previous = e.RowHash;
                raw.sqlite3_bind_int64(statement, 1, e.Seq);
                raw.sqlite3_bind_int64(statement, 2, e.Version);
                raw.sqlite3_bind_text(statement, 3, e.OccurredAtUtc.ToString(SqliteDateFormat, CultureInfo.InvariantCulture));
                BindText(statement, 4, e.Operation);
                BindText(statement, 5, e.EventName);
                BindText(statement, 6, e.TableName);
                BindText(statement, 7, e.RecordKey);
                BindText(statement, 8, e.OldValues);
                BindText(statement, 9, e.NewValues);
                BindText(statement, 10, e.ChangedColumns);
                BindText(statement, 11, e.ActorId);
                BindText(statement, 12, e.ActorName);
                BindText(statement, 13, e.ActorRoles);
                BindText(statement, 14, e.Origin);
                raw.sqlite3_bind_int64(statement, 15, e.OutOfBand ? 1 : 0);
                BindText(statement, 16, e.CorrelationId);
                BindText(statement, 17, e.TransactionId);
                BindText(statement, 18, e.IpAddress);
                BindText(statement, 19, e.UserAgent);
                BindText(statement, 20, e.Tenant);
                BindText(statement, 21, e.Target);
                BindText(statement, 22, e.Metadata);
                BindText(statement, 23, e.PayloadHash);
                BindText(statement, 24, e.RowHash);
                rc = raw.sqlite3_step(statement);
                if (rc != raw.SQLITE_DONE)
                {
                    SqliteException.ThrowExceptionForRC(rc, handle);
                }

                raw.sqlite3_reset(statement);
            }
        }
    }

    private static void BindText(sqlite3_stmt statement, int index, string? value)
    {
        if (value is null)
        {
            raw.sqlite3_bind_null(statement, index);
        }
        else
        {
            raw.sqlite3_bind_text(statement, index, value);
        }
    }

    /// <summary>An entry before sealing: out-of-band with the actor unknown when there is no context. Bounded attributes are fitted to the store.</summary>
    internal static AuditEntry ToEntry(SpooledRow row, AuditContext? context, string transactionId, DateTime now)
    {
        if (context is null)
        {
            return new AuditEntry
            {
                OccurredAtUtc = DateTime.Parse(row.CapturedAtUtc, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
                Operation = row.Operation, EventName = row.EventName, TableName = row.TableName, RecordKey = row.RecordKey,
                OldValues = row.OldValues, NewValues = row.NewValues, ChangedColumns = row.ChangedColumns,
                ActorId = Fit(row.ActorId ?? AuditActor.Unknown.Id, L.ActorId), ActorName = Fit(row.ActorName ?? AuditActor.Unknown.Name, L.ActorName),
                Origin = "out-of-band", OutOfBand = true, Target = Fit(row.Target, L.Target), Metadata = row.Metadata, Tenant = Fit(row.Tenant, L.Tenant),
            };
        }

        var actor = context.Actor;
        return new AuditEntry
        {
            OccurredAtUtc = now,
            Operation = row.Operation, EventName = row.EventName, TableName = row.TableName, RecordKey = row.RecordKey,
            OldValues = row.OldValues, NewValues = row.NewValues, ChangedColumns = row.ChangedColumns,
            ActorId = Fit(row.ActorId ?? actor.Id, L.ActorId), ActorName = Fit(row.ActorName ?? actor.Name, L.ActorName),
            ActorRoles = row.ActorId is null && actor.Roles.Count > 0 ? Fit(actor.RolesText, L.ActorRoles) : null,
            Origin = Fit(context.Origin, L.Origin)!, CorrelationId = Fit(context.CorrelationId, L.CorrelationId), TransactionId = transactionId,
            IpAddress = Fit(context.IpAddress, L.IpAddress), UserAgent = Fit(context.UserAgent, L.UserAgent), Tenant = Fit(row.Tenant ?? context.Tenant, L.Tenant),
            Target = Fit(row.Target, L.Target), Metadata = row.Metadata,
        };
    }

    // Attributes longer than the store keeps are cut visibly (AuditFieldLimits), never failing the write they describe.
    private static string? Fit(string? value, int max) => AuditFieldLimits.Fit(value, max);

    /// <summary>
    /// A pending row as both providers' sealers return it: Id first, then the columns in <see cref="InsertPendingSql"/>
    /// order; the capture time is passed in because each provider returns it as its own type.
    /// </summary>
    internal static SpooledRow ReadPendingRow(DbDataReader reader, string capturedAtUtc) => new(
        Str(reader, 1), reader.GetString(2), Str(reader, 3), Str(reader, 4), Str(reader, 5), Str(reader, 6), Str(reader, 7), Str(reader, 8),
        Str(reader, 9), Str(reader, 10), Str(reader, 11), Str(reader, 12), capturedAtUtc);

    private static string? Str(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private sealed record PendingRow(long Id, SpooledRow Row);
}
