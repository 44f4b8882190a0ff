using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;

namespace ComplianceConsole.Data.Interceptors;

/// <summary>
/// Sealing on SQL Server, which unlike SQLite has concurrent writers.
///
/// - Each capture trigger tags its pending rows with the writer's transaction (CURRENT_TRANSACTION_ID()), so a
///   sealer takes its own rows, not a neighbour's.
/// - An exclusive application lock held to the end of the transaction (sp_getapplock, owner Transaction) lets
///   one sealer at a time read the chain head and append: seq order is the order of the sealing commits, and the
///   head cannot move under us.
/// - Rows from writers outside the app are already committed and unlocked: the sealer takes them too, first, as
///   out-of-band. Rows of app transactions still in flight are locked by their writer and skipped (READPAST);
///   their own sealer takes them. AuditPending has lock escalation disabled so READPAST never meets a table lock.
/// </summary>
internal static class SqlServerAuditSealer
{
    public const string ChainLock = "ComplianceConsole.AuditChain";

    private const string PendingColumns = """
        DELETED.[Id], DELETED.[TableName], DELETED.[Operation], DELETED.[RecordKey], DELETED.[OldValues], DELETED.[NewValues],
        DELETED.[ChangedColumns], DELETED.[EventName], DELETED.[Target], DELETED.[Metadata], DELETED.[Tenant], DELETED.[ActorId],
        DELETED.[ActorName], DELETED.[CapturedAtUtc], DELETED.[TxId]
        """;

    // A transaction with no pending rows of its own takes no lock and writes nothing (out-of-band rows wait for the
    // sealing run); one that ran before the audit store existed (the migration creating it) seals nothing.
    internal static readonly string ReadSql = $"""
        IF OBJECT_ID(N'[AuditPending]', N'U') IS NULL RETURN;
        IF @all = 0 AND NOT EXISTS (SELECT 1 FROM [AuditPending] WHERE [TxId] = CURRENT_TRANSACTION_ID()) RETURN;
        DECLARE @lock int;
        EXEC @lock = sp_getapplock @Resource = N'{ChainLock}', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 30000;
        IF @lock < 0 THROW 51010, 'Timed out after 30 s waiting for the audit chain lock (sp_getapplock); nothing was committed.', 1;
        SELECT CURRENT_TRANSACTION_ID();
        SELECT TOP (1) [Seq], [RowHash] FROM [AuditEntries] ORDER BY [Seq] DESC;
        DELETE FROM [AuditPending] WITH (READPAST, ROWLOCK) OUTPUT {PendingColumns};
        """;

    internal static readonly string TakeOwnSql = $"""
        DELETE FROM [AuditPending] OUTPUT {PendingColumns} WHERE [TxId] = CURRENT_TRANSACTION_ID();
        """;

    private static readonly string[] EntryColumns =
    [
        "Seq", "Version", "OccurredAtUtc", "Operation", "EventName", "TableName", "RecordKey", "OldValues", "NewValues",
        "ChangedColumns", "ActorId", "ActorName", "ActorRoles", "Origin", "OutOfBand", "CorrelationId", "TransactionId",
        "IpAddress", "UserAgent", "Tenant", "Target", "Metadata", "PayloadHash", "RowHash",
    ];

    // 24 parameters a row; SQL Server allows 2,100 parameters a command.
    private const int RowsPerInsert = 80;

    public static async Task<int> SealAsync(DbConnection connection, DbTransaction transaction, bool allOutOfBand, AuditContext context, string transactionId, DateTime now, bool async, CancellationToken cancellationToken)
    {
        long seq;
        string previous;
        long currentTransaction;
        var rows = new List<(bool Own, long Id, AuditEntry Entry)>();
        await using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = ReadSql;
            var all = read.CreateParameter();
            all.ParameterName = "@all";
            all.DbType = DbType.Boolean;
            all.Value = allOutOfBand;
            read.Parameters.Add(all);
            await using var reader = async ? await read.ExecuteReaderAsync(cancellationToken) : read.ExecuteReader();
            if (!(async ? await reader.ReadAsync(cancellationToken) : reader.Read()))
            {
                return 0; // nothing of its own to seal
            }

            currentTransaction = Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture);
            await NextResultAsync(reader, async, cancellationToken);
            (seq, previous) = (async ? await reader.ReadAsync(cancellationToken) : reader.Read())
                ? (reader.GetInt64(0), reader.GetString(1))
                : (ChainStart.Genesis.FirstSeq - 1, ChainStart.Genesis.PreviousRowHash);
            await NextResultAsync(reader, async, cancellationToken);
            while (async ? await reader.ReadAsync(cancellationToken) : reader.Read())
            {
                var row = ReadRow(reader);
                var own = !allOutOfBand && !reader.IsDBNull(14) && reader.GetInt64(14) == currentTransaction;
                rows.Add((own, reader.GetInt64(0), AuditSealer.ToEntry(row, own ? context : null, transactionId, now)));
            }
        }

        if (rows.Count == 0)
        {
            return 0;
        }

        // Committed out-of-band rows first, in capture order, then this transaction's own.
        rows.Sort((a, b) => a.Own != b.Own ? a.Own.CompareTo(b.Own) : a.Id.CompareTo(b.Id));
        var sealedEntries = new List<AuditEntry>(rows.Count);
        foreach (var (_, _, entry) in rows)
        {
            var e = HashChain.Seal(entry, ++seq, previous);
            previous = e.RowHash;
            sealedEntries.Add(e);
        }

        foreach (var chunk in sealedEntries.Chunk(RowsPerInsert))
        {
            await InsertAsync(connection, transaction, chunk, async, cancellationToken);
        }

        return rows.Count;
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

    public static List<SpooledRow> TakeOwnRows(DbConnection connection, DbTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = TakeOwnSql;
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

    /// <summary>One multi-row INSERT for <paramref name="rows"/> entries; parameter @p{row}_{column}.</summary>
    internal static string InsertSql(int rows)
    {
        var sql = new StringBuilder("INSERT INTO [AuditEntries] (").AppendJoin(", ", EntryColumns.Select(c => $"[{c}]")).Append(") VALUES ");
        for (var r = 0; r < rows; r++)
        {
            sql.Append(r == 0 ? "(" : ", (").AppendJoin(", ", EntryColumns.Select((_, c) => $"@p{r}_{c}")).Append(')');
        }

        return sql.ToString();
    }

    private static async Task InsertAsync(DbConnection connection, DbTransaction transaction, AuditEntry[] entries, bool async, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = InsertSql(entries.Length);
        for (var r = 0; r < entries.Length; r++)
        {
            var e = entries[r];
            object?[] values =
            [
                e.Seq, e.Version, e.OccurredAtUtc, e.Operation, e.EventName, e.TableName, e.RecordKey, e.OldValues, e.NewValues,
                e.ChangedColumns, e.ActorId, e.ActorName, e.ActorRoles, e.Origin, e.OutOfBand, e.CorrelationId, e.TransactionId,
                e.IpAddress, e.UserAgent, e.Tenant, e.Target, e.Metadata, e.PayloadHash, e.RowHash,
            ];
            for (var c = 0; c < values.Length; c++)
            {
                var p = command.CreateParameter();
                p.ParameterName = $"@p{r}_{c}";
                p.DbType = c switch
                {
                    0 => DbType.Int64,
                    1 => DbType.Int32,
                    2 => DbType.DateTime2,
                    14 => DbType.Boolean,
                    _ => DbType.String,
                };
                p.Value = values[c] ?? DBNull.Value;
                command.Parameters.Add(p);
            }
        }

        if (async)
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        else
        {
            command.ExecuteNonQuery();
        }
    }
}
