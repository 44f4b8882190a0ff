using ComplianceConsole.Data.Interceptors;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace ComplianceConsole.Data.Capture;

/// <summary>Never-block mode's way back: spooled entries into the chain.</summary>
public static class AuditSpoolReplay
{
    /// <summary>
    /// Puts spooled entries (never-block mode) into the chain, each spooled transaction in a transaction of its
    /// own, with its original actor, context and commit time. Returns how many spooled transactions were replayed.
    /// </summary>
    public static async Task<int> ReplaySpoolAsync(this DatabaseFacade database, AuditSpool spool, CancellationToken cancellationToken = default)
    {
        var records = spool.ReadAll();
        if (records.Count == 0)
        {
            return 0;
        }

        var done = new HashSet<string>();
        await database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = database.GetDbConnection();
            foreach (var record in records)
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await using (var check = connection.CreateCommand())
                {
                    check.Transaction = transaction;
                    check.CommandText = """SELECT count(*) FROM "AuditEntries" WHERE "TransactionId" = @id""";
                    var id = check.CreateParameter();
                    id.ParameterName = "@id";
                    id.Value = record.Id;
                    check.Parameters.Add(id);
                    if (Convert.ToInt64(await check.ExecuteScalarAsync(cancellationToken)) > 0)
                    {
                        done.Add(record.Id); // already in the chain: a crash came between its commit and the spool clean-up
                        continue;
                    }
                }

                var watermark = AuditSealer.ReadWatermark(connection, transaction);
                AuditSealer.RestoreRows(connection, transaction, record.Rows);
                new AuditSealer(new FixedTime(record.CommittedAtUtc)).Seal(connection, transaction, watermark, record.Context, record.Id);
                await transaction.CommitAsync(cancellationToken);
                done.Add(record.Id);
            }
        }
        finally
        {
            await database.CloseConnectionAsync();
            spool.Remove(done);
        }

        return done.Count;
    }

}
