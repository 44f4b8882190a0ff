using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Data.Capture;

namespace ComplianceConsole.Data.Interceptors;

/// <summary>
/// Sealing on SQL Server, which unlike SQLite has concurrent writers.
///
/// - Each capture trigger tags its pending rows with the writer's transaction (CURRENT_TRANSACTION_ID()). An app
///   transaction seals only its own rows, so its commit costs what its own change costs, whatever else is pending.
/// - Rows written outside the app (a DBA's UPDATE of 200k rows) are sealed by the background sealer, in bounded
///   batches of its own transactions (<see cref="SealOutOfBandBatchAsync"/>), streamed, skipping the locked rows of
///   writers still in flight (READPAST; AuditPending has page locks and lock escalation off, so READPAST only ever
///   meets row locks).
/// - An exclusive application lock held to the end of the transaction (sp_getapplock, owner Transaction) lets one
///   sealer at a time read the chain head and append: seq order is the order of the sealing commits. Only members of
///   <see cref="SqlServerAuditSql.WriterRole"/> (and dbo) can take it, so a reporting login cannot stall every write by
///   holding it. It waits less than the command's timeout, so a wait fails with its own clear message.
/// - The seal statements run at READ COMMITTED whatever the writer's transaction chose (SERIALIZABLE, SNAPSHOT): a
///   parameterized command runs as sp_executesql, whose SET TRANSACTION ISOLATION LEVEL ends with it. So the chain head
///   is the latest committed one (never a snapshot's stale head) and no range locks are held on the store.
/// - The entry's time is the server's SYSUTCDATETIME(), read under the lock: the time never runs backwards along the
///   seq, however the nodes' clocks differ.
/// - The entries go in with one INSERT ... SELECT FROM OPENJSON(@rows): one statement text and one nvarchar(max)
///   parameter whatever the count, so the plan is compiled once, not inside every lock.
/// </summary>
internal static class SqlServerAuditSealer
{
    public const string ChainLock = "ComplianceConsole.AuditChain";

    /// <summary>Rows of writers outside the app sealed per transaction by the background sealer.</summary>
    public const int OutOfBandBatch = 2000;

    private static readonly string[] PendingColumnNames =
        ["Id", "TableName", "Operation", "RecordKey", "OldValues", "NewValues", "ChangedColumns", "EventName", "Target", "Metadata", "Tenant", "ActorId", "ActorName", "CapturedAtUtc", "TxId"];

    private static readonly string PendingColumns = string.Join(", ", PendingColumnNames.Select(c => $"DELETED.[{c}]"));

    /// <summary>The entry columns and the OPENJSON types they are read as (every string as nvarchar(max): each value was fitted to its column before hashing).</summary>
    private static readonly (string Name, string Type)[] EntryColumns =
    [
        ("Seq", "bigint"), ("Version", "int"), ("OccurredAtUtc", "datetime2(7)"), ("Operation", "nvarchar(max)"), ("EventName", "nvarchar(max)"),
        ("TableName", "nvarchar(max)"), ("RecordKey", "nvarchar(max)"), ("OldValues", "nvarchar(max)"), ("NewValues", "nvarchar(max)"),
        ("ChangedColumns", "nvarchar(max)"), ("ActorId", "nvarchar(max)"), ("ActorName", "nvarchar(max)"), ("ActorRoles", "nvarchar(max)"),
        ("Origin", "nvarchar(max)"), ("OutOfBand", "bit"), ("CorrelationId", "nvarchar(max)"), ("TransactionId", "nvarchar(max)"),
        ("IpAddress", "nvarchar(max)"), ("UserAgent", "nvarchar(max)"), ("Tenant", "nvarchar(max)"), ("Target", "nvarchar(max)"),
        ("Metadata", "nvarchar(max)"), ("PayloadHash", "nchar(64)"), ("RowHash", "nchar(64)"),
    ];

    private static readonly ConcurrentDictionary<string, Statements> BySchema = new(StringComparer.Ordinal);

    /// <summary>The seal statements for the audit store in <paramref name="schema"/>; every reference is qualified with it.</summary>
    internal static Statements For(string schema) => BySchema.GetOrAdd(schema, s => new Statements(s));

    internal sealed class Statements(string schema)
    {
        private readonly string _entries = $"{SqlServerAuditSql.Quote(schema)}.[{AuditStoreModel.EntriesTable}]";
        private readonly string _pending = $"{SqlServerAuditSql.Quote(schema)}.[{AuditStoreModel.PendingTable}]";

        /// <summary>Lock, clock and head (the caller sets READ COMMITTED first); then <paramref name="take"/>, which returns the rows to seal.</summary>
        private string Locked(string take) => $"""
            DECLARE @lock int;
            EXEC @lock = sp_getapplock @Resource = N'{ChainLock}', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = @lockTimeout, @DbPrincipal = N'{SqlServerAuditSql.ChainLockRole}';
            IF @lock = -999 THROW 51011, 'The console''s database user may not take the audit chain lock: add it to the role {SqlServerAuditSql.WriterRole} (the role script in docs/sqlserver.md). Nothing was committed.', 1;
            IF @lock < 0 BEGIN
                DECLARE @waited nvarchar(400) = CONCAT(N'Timed out after ', @lockTimeout, N' ms waiting for the audit chain lock (sp_getapplock), held by another writer''s commit; nothing was committed. Retry the change.');
                THROW 51010, @waited, 1;
            END
            SELECT SYSUTCDATETIME();
            SELECT TOP (1) [Seq], [RowHash] FROM {_entries} ORDER BY [Seq] DESC;
            {take}
            """;

        /// <summary>
        /// An app transaction's seal: only its own pending rows. A transaction with none takes no lock and writes nothing;
        /// one that ran before the audit store existed (the migration creating it) seals nothing.
        /// </summary>
        public string Own => field ??= $"""
            SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
            IF OBJECT_ID(N'{_pending}', N'U') IS NULL RETURN;
            IF NOT EXISTS (SELECT 1 FROM {_pending} WHERE [TxId] = CURRENT_TRANSACTION_ID()) RETURN;
            {Locked($"DELETE FROM {_pending} OUTPUT {PendingColumns} WHERE [TxId] = CURRENT_TRANSACTION_ID();")}
            """;

        /// <summary>
        /// The background sealer: the oldest <c>@batch</c> committed rows of writers outside the app, in capture order,
        /// skipping rows still locked by their writer (an app transaction in flight seals those itself).
        /// </summary>
        public string OutOfBand => field ??= "SET TRANSACTION ISOLATION LEVEL READ COMMITTED;\n" + Locked($"""
            WITH [next] AS (SELECT TOP (@batch) * FROM {_pending} WITH (READPAST, ROWLOCK) ORDER BY [Id])
            DELETE FROM [next] OUTPUT {PendingColumns};
            """);

        /// <summary>Never-block: this transaction's own rows, taken out for the spool.</summary>
        public string TakeOwn => field ??= $"DELETE FROM {_pending} OUTPUT {PendingColumns} WHERE [TxId] = CURRENT_TRANSACTION_ID();";

        /// <summary>
        /// Every entry of a seal in one statement, whatever their number. At READ COMMITTED too: the store's gap guard, which
        /// this insert fires, must see the newest committed entry, not a snapshot transaction's view from before it.
        /// </summary>
        public string Insert => field ??= $"""
            SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
            INSERT INTO {_entries} ({string.Join(", ", EntryColumns.Select(c => $"[{c.Name}]"))})
            SELECT {string.Join(", ", EntryColumns.Select(c => $"[{c.Name}]"))}
            FROM OPENJSON(@rows) WITH ({string.Join(", ", EntryColumns.Select(c => $"[{c.Name}] {c.Type} '$.{c.Name}'"))});
            """;
    }

    /// <summary>
    /// How long the chain lock is waited for: less than the command's own timeout (half of it, or five seconds less,
    /// whichever is longer), at most 30 s; so a wait fails with the lock's message, not a bare command timeout.
    /// </summary>
    internal static int LockTimeoutMs(int commandTimeoutSeconds)
    {
        if (commandTimeoutSeconds <= 0)
        {
            return 30_000; // no command timeout: wait 30 s at most
        }

        var ms = commandTimeoutSeconds * 1000;
        return Math.Min(30_000, Math.Max(ms / 2, ms - 5_000));
    }

    /// <summary>Seals this transaction's own pending rows with <paramref name="context"/>; returns how many entries were appended.</summary>
    /// <param name="at">The entries' time when the caller fixes it (spool replay: when the change committed); else the server's clock under the lock.</param>
    public static Task<int> SealOwnAsync(DbConnection connection, DbTransaction transaction, string schema, int? commandTimeout, AuditContext context, string transactionId, DateTime? at, bool async, CancellationToken cancellationToken) =>
        SealAsync(connection, transaction, For(schema).Own, schema, commandTimeout, 0, context, transactionId, at, async, cancellationToken);

    /// <summary>
    /// Seals at most <see cref="OutOfBandBatch"/> rows left by writers outside the app, as out-of-band, in the caller's
    /// transaction (commit it, and call again while it returns a full batch).
    /// </summary>
    public static Task<int> SealOutOfBandBatchAsync(DbConnection connection, DbTransaction transaction, string schema, int batch, CancellationToken cancellationToken) =>
        SealAsync(connection, transaction, For(schema).OutOfBand, schema, null, batch, null, null, null, async: true, cancellationToken);

    private static async Task<int> SealAsync(DbConnection connection, DbTransaction transaction, string sql, string schema, int? commandTimeout, int batch,
        AuditContext? context, string? transactionId, DateTime? at, bool async, CancellationToken cancellationToken)
    {
        long seq;
        string previous;
        DateTime now;
        var rows = new List<(long Id, SpooledRow Row)>();
        await using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = sql;
            if (commandTimeout is { } timeout)
            {
                read.CommandTimeout = timeout;
            }

            AddInt(read, "@lockTimeout", LockTimeoutMs(read.CommandTimeout));
            if (context is null)
            {
                AddInt(read, "@batch", batch);
            }

            await using var reader = async ? await read.ExecuteReaderAsync(cancellationToken) : read.ExecuteReader();
            if (!(async ? await reader.ReadAsync(cancellationToken) : reader.Read()))
            {
                return 0; // nothing of its own to seal
            }

            now = at ?? DateTime.SpecifyKind(reader.GetDateTime(0), DateTimeKind.Utc);
            await NextResultAsync(reader, async, cancellationToken);
            (seq, previous) = (async ? await reader.ReadAsync(cancellationToken) : reader.Read())
                ? (reader.GetInt64(0), reader.GetString(1))
                : (ChainStart.Genesis.FirstSeq - 1, ChainStart.Genesis.PreviousRowHash);
            await NextResultAsync(reader, async, cancellationToken);
            while (async ? await reader.ReadAsync(cancellationToken) : reader.Read())
            {
                rows.Add((reader.GetInt64(0), ReadRow(reader)));
            }
        }

        if (rows.Count == 0)
        {
            return 0;
        }

        rows.Sort((a, b) => a.Id.CompareTo(b.Id));
        var json = new System.Buffers.ArrayBufferWriter<byte>(4096);
        await using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartArray();
            foreach (var (_, row) in rows)
            {
                var e = HashChain.Seal(AuditSealer.ToEntry(row, context, transactionId ?? "", now), ++seq, previous);
                previous = e.RowHash;
                Write(writer, e);
            }

            writer.WriteEndArray();
        }

        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = For(schema).Insert;
        if (commandTimeout is { } t)
        {
            insert.CommandTimeout = t;
        }

        var p = insert.CreateParameter();
        p.ParameterName = "@rows";
        p.DbType = DbType.String;
        p.Size = -1; // nvarchar(max), always: one plan
        p.Value = Encoding.UTF8.GetString(json.WrittenSpan);
        insert.Parameters.Add(p);
        if (async)
        {
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        else
        {
            insert.ExecuteNonQuery();
        }

        return rows.Count;
    }

    private static void Write(Utf8JsonWriter w, AuditEntry e)
    {
        w.WriteStartObject();
        w.WriteNumber("Seq", e.Seq);
        w.WriteNumber("Version", e.Version);
        w.WriteString("OccurredAtUtc", e.OccurredAtUtc.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff", CultureInfo.InvariantCulture));
        w.WriteString("Operation", e.Operation);
        w.WriteString("EventName", e.EventName);
        w.WriteString("TableName", e.TableName);
        w.WriteString("RecordKey", e.RecordKey);
        w.WriteString("OldValues", e.OldValues);
        w.WriteString("NewValues", e.NewValues);
        w.WriteString("ChangedColumns", e.ChangedColumns);
        w.WriteString("ActorId", e.ActorId);
        w.WriteString("ActorName", e.ActorName);
        w.WriteString("ActorRoles", e.ActorRoles);
        w.WriteString("Origin", e.Origin);
        w.WriteBoolean("OutOfBand", e.OutOfBand);
        w.WriteString("CorrelationId", e.CorrelationId);
        w.WriteString("TransactionId", e.TransactionId);
        w.WriteString("IpAddress", e.IpAddress);
        w.WriteString("UserAgent", e.UserAgent);
        w.WriteString("Tenant", e.Tenant);
        w.WriteString("Target", e.Target);
        w.WriteString("Metadata", e.Metadata);
        w.WriteString("PayloadHash", e.PayloadHash);
        w.WriteString("RowHash", e.RowHash);
        w.WriteEndObject();
    }

    private static void AddInt(DbCommand command, string name, int value)
    {
        var p = command.CreateParameter();
        p.ParameterName = name;
        p.DbType = DbType.Int32;
        p.Value = value;
        command.Parameters.Add(p);
    }

    private static async Task NextResultAsync(DbDataReader reader, bool async, CancellationToken cancellationToken)
    {
        if (async)
        {
            await reader.NextResultAsync(cancellationToken);
        }
        else
        {
            reader.NextResult();
        }
    }

    public static List<SpooledRow> TakeOwnRows(DbConnection connection, DbTransaction transaction, string schema)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = For(schema).TakeOwn;
        using var reader = command.ExecuteReader();
        var rows = new List<(long Id, SpooledRow Row)>();
        while (reader.Read())
        {
            rows.Add((reader.GetInt64(0), ReadRow(reader)));
        }

        return rows.OrderBy(r => r.Id).Select(r => r.Row).ToList();
    }

    private static SpooledRow ReadRow(DbDataReader reader) =>
        AuditSealer.ReadPendingRow(reader, reader.GetDateTime(13).ToString(AuditSealer.SqliteDateFormat, CultureInfo.InvariantCulture));
}
