using System.Data.Common;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Data.Capture;

namespace ComplianceConsole.Data.Interceptors;

/// <summary>
/// Moves captured rows from AuditPending into the chained AuditEntries, inside the transaction that is about
/// to commit. Rows the writer captured itself (ids above its watermark) get the writer's context; rows left
/// by writers outside the app (at or below it) are sealed first, as out-of-band with the actor unknown.
///
/// Total order: SQLite allows one writer at a time, and every sealing transaction holds the write lock from
/// its first write to its commit, so the seq order is the commit order and the chain head cannot move under us.
/// </summary>
public sealed class AuditSealer(AuditValueMode mode, TimeProvider time)
{
    public const long SealEverythingAsOutOfBand = long.MaxValue;

    private const string HeadSql = """SELECT "Seq", "RowHash" FROM "AuditEntries" ORDER BY "Seq" DESC LIMIT 1""";

    private const string PendingSql = """
        SELECT "Id", "TableName", "Operation", "RecordKey", "OldValues", "NewValues", "EventName", "Target",
               "Metadata", "Tenant", "ActorId", "ActorName", "CapturedAtUtc"
        FROM "AuditPending" ORDER BY "Id"
        """;

    private static readonly string[] Columns =
    [
        "Seq", "Version", "OccurredAtUtc", "Operation", "EventName", "TableName", "RecordKey", "OldValues", "NewValues",
        "ChangedColumns", "ActorId", "ActorName", "ActorRoles", "Origin", "OutOfBand", "CorrelationId", "TransactionId",
        "IpAddress", "UserAgent", "Tenant", "Target", "Metadata", "PayloadHash", "RowHash",
    ];

    private static readonly string InsertSql =
        $"INSERT INTO \"AuditEntries\" ({string.Join(", ", Columns.Select(c => $"\"{c}\""))}) VALUES ({string.Join(", ", Columns.Select(c => "@" + c))})";

    public static long ReadWatermark(DbConnection connection, DbTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """SELECT coalesce(max("Id"), 0) FROM "AuditPending" """;
        return Convert.ToInt64(command.ExecuteScalar());
    }

    /// <summary>Seals every pending row; returns how many entries were appended.</summary>
    public int Seal(DbConnection connection, DbTransaction transaction, long watermark, AuditContext context, string transactionId)
    {
        long seq;
        string previous;
        var rows = new List<PendingRow>();
        using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = HeadSql + ";\n" + PendingSql;
            using var reader = read.ExecuteReader();
            if (reader.Read())
            {
                seq = reader.GetInt64(0);
                previous = reader.GetString(1);
            }
            else
            {
                seq = ChainStart.Genesis.FirstSeq - 1;
                previous = ChainStart.Genesis.PreviousRowHash;
            }

            reader.NextResult();
            while (reader.Read())
            {
                rows.Add(new PendingRow(
                    reader.GetInt64(0), Str(reader, 1), reader.GetString(2), Str(reader, 3), Str(reader, 4), Str(reader, 5),
                    Str(reader, 6), Str(reader, 7), Str(reader, 8), Str(reader, 9), Str(reader, 10), Str(reader, 11),
                    reader.GetDateTime(12)));
            }
        }

        if (rows.Count == 0)
        {
            return 0;
        }

        var now = time.GetUtcNow().UtcDateTime;
        var appended = 0;
        using (var insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = InsertSql;
            var parameters = new DbParameter[Columns.Length];
            for (var i = 0; i < Columns.Length; i++)
            {
                parameters[i] = insert.CreateParameter();
                parameters[i].ParameterName = "@" + Columns[i];
                insert.Parameters.Add(parameters[i]);
            }

            foreach (var row in rows)
            {
                var entry = ToEntry(row, row.Id > watermark ? context : null, transactionId, now);
                if (entry is null)
                {
                    continue;
                }

                var sealedEntry = HashChain.Seal(entry, ++seq, previous);
                previous = sealedEntry.RowHash;
                Bind(parameters, sealedEntry);
                insert.ExecuteNonQuery();
                appended++;
            }
        }

        using var delete = connection.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = """DELETE FROM "AuditPending" WHERE "Id" <= @max""";
        var max = delete.CreateParameter();
        max.ParameterName = "@max";
        max.Value = rows[^1].Id;
        delete.Parameters.Add(max);
        delete.ExecuteNonQuery();
        return appended;
    }

    private AuditEntry? ToEntry(PendingRow row, AuditContext? context, string transactionId, DateTime now)
    {
        string? oldValues = null, newValues = null, changed = null;
        if (row.Operation != AuditOperations.Event)
        {
            var changeSet = ChangeSet.From(row.Operation, row.OldValues, row.NewValues, mode);
            if (changeSet is null)
            {
                return null;
            }

            (oldValues, newValues, changed) = (changeSet.OldValues, changeSet.NewValues, changeSet.ChangedColumns);
        }

        if (context is null)
        {
            return new AuditEntry
            {
                OccurredAtUtc = DateTime.SpecifyKind(row.CapturedAtUtc, DateTimeKind.Utc),
                Operation = row.Operation, EventName = row.EventName, TableName = row.TableName, RecordKey = row.RecordKey,
                OldValues = oldValues, NewValues = newValues, ChangedColumns = changed,
                ActorId = row.ActorId ?? AuditActor.Unknown.Id, ActorName = row.ActorName ?? AuditActor.Unknown.Name,
                Origin = "out-of-band", OutOfBand = true, Target = row.Target, Metadata = row.Metadata, Tenant = row.Tenant,
            };
        }

        var actor = context.Actor;
        return new AuditEntry
        {
            OccurredAtUtc = now,
            Operation = row.Operation, EventName = row.EventName, TableName = row.TableName, RecordKey = row.RecordKey,
            OldValues = oldValues, NewValues = newValues, ChangedColumns = changed,
            ActorId = row.ActorId ?? actor.Id, ActorName = row.ActorName ?? actor.Name,
            ActorRoles = row.ActorId is null ? NullIfEmpty(actor.RolesText) : null,
            Origin = context.Origin, CorrelationId = context.CorrelationId, TransactionId = transactionId,
            IpAddress = context.IpAddress, UserAgent = context.UserAgent, Tenant = row.Tenant ?? context.Tenant,
            Target = row.Target, Metadata = row.Metadata,
        };
    }

    private static void Bind(DbParameter[] p, AuditEntry e)
    {
        p[0].Value = e.Seq;
        p[1].Value = e.Version;
        p[2].Value = e.OccurredAtUtc;
        p[3].Value = e.Operation;
        p[4].Value = (object?)e.EventName ?? DBNull.Value;
        p[5].Value = (object?)e.TableName ?? DBNull.Value;
        p[6].Value = (object?)e.RecordKey ?? DBNull.Value;
        p[7].Value = (object?)e.OldValues ?? DBNull.Value;
        p[8].Value = (object?)e.NewValues ?? DBNull.Value;
        p[9].Value = (object?)e.ChangedColumns ?? DBNull.Value;
        p[10].Value = (object?)e.ActorId ?? DBNull.Value;
        p[11].Value = (object?)e.ActorName ?? DBNull.Value;
        p[12].Value = (object?)e.ActorRoles ?? DBNull.Value;
        p[13].Value = e.Origin;
        p[14].Value = e.OutOfBand;
        p[15].Value = (object?)e.CorrelationId ?? DBNull.Value;
        p[16].Value = (object?)e.TransactionId ?? DBNull.Value;
        p[17].Value = (object?)e.IpAddress ?? DBNull.Value;
        p[18].Value = (object?)e.UserAgent ?? DBNull.Value;
        p[19].Value = (object?)e.Tenant ?? DBNull.Value;
        p[20].Value = (object?)e.Target ?? DBNull.Value;
        p[21].Value = (object?)e.Metadata ?? DBNull.Value;
        p[22].Value = e.PayloadHash;
        p[23].Value = e.RowHash;
    }

    private static string? Str(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    private sealed record PendingRow(
        long Id, string? TableName, string Operation, string? RecordKey, string? OldValues, string? NewValues,
        string? EventName, string? Target, string? Metadata, string? Tenant, string? ActorId, string? ActorName, DateTime CapturedAtUtc);
}
