using System.Data.Common;
using ComplianceConsole.Data.Interceptors;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace ComplianceConsole.Data.Capture;

/// <summary>What one replay did: records put into the chain, lines quarantined, and why it stopped early (null if it did not).</summary>
public sealed record SpoolReplayResult(int Replayed, IReadOnlyList<QuarantinedLine> Quarantined, string? StoppedBy);

/// <summary>Never-block mode's way back: spooled entries into the chain.</summary>
public static class AuditSpoolReplay
{
    /// <summary>
    /// Puts spooled entries (never-block mode) into the chain, each spooled transaction in a transaction of its
    /// own, with its original actor, context and commit time, in spool order.
    /// - A line that cannot be read (torn by a crash) is quarantined with its text, file and line number.
    /// - A record the store refuses while the store itself accepts entries (it breaks a constraint) is quarantined.
    /// - When the store is unavailable (busy, locked, I/O, or it refuses the probe too) the rest stays spooled
    ///   and the round stops; <see cref="AuditSpool.ReplayError"/> holds the current error.
    /// </summary>
    public static async Task<SpoolReplayResult> ReplaySpoolAsync(this DatabaseFacade database, AuditSpool spool, CancellationToken cancellationToken = default)
    {
        var lines = spool.ReadLines();
        if (lines.Count == 0)
        {
            spool.NoteReplayError(null);
            return new SpoolReplayResult(0, [], null);
        }

        var done = new List<SpoolLine>();
        var quarantined = new List<QuarantinedLine>();
        var replayed = 0;
        string? stoppedBy = null;
        try
        {
            foreach (var bad in lines.Where(l => l.Record is null))
            {
                quarantined.Add(spool.Quarantine(bad, bad.Problem!));
                done.Add(bad);
            }

            await database.OpenConnectionAsync(cancellationToken);
            try
            {
                var connection = database.GetDbConnection();
                var storeSchema = AuditStoreModel.SqlServerSchemaOf(database.GetService<ICurrentDbContext>().Context.Model);
                foreach (var line in lines.Where(l => l.Record is not null))
                {
                    try
                    {
                        replayed += await ReplayAsync(connection, line.Record!, storeSchema, cancellationToken) ? 1 : 0;
                        done.Add(line);
                    }
                    catch (NeverCommittedException ex)
                    {
                        quarantined.Add(spool.Quarantine(line, ex.Message));
                        done.Add(line);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        if (IsUnavailable(ex) || !AuditStoreProbe.Check(connection, storeSchema).Writable)
                        {
                            stoppedBy = ex.Message;
                            break;
                        }

                        quarantined.Add(spool.Quarantine(line, $"the store refuses this record: {ex.Message}"));
                        done.Add(line);
                    }
                }
            }
            finally
            {
                await database.CloseConnectionAsync();
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            stoppedBy = ex.Message;
            throw;
        }
        finally
        {
            spool.Remove(done);
            spool.NoteReplayError(stoppedBy);
        }

        return new SpoolReplayResult(replayed, quarantined, stoppedBy);
    }

    /// <summary>
    /// Seals one record in a transaction of its own, taking its spool mark in the same transaction. No mark: the record
    /// is already in the chain (a crash came between the replay's commit and the spool clean-up), or its change never
    /// committed (a crash or failure after the spool line was written); the latter is refused, to be quarantined.
    /// </summary>
    private static async Task<bool> ReplayAsync(DbConnection connection, SpoolRecord record, string storeSchema, CancellationToken cancellationToken)
    {
        var sqlite = connection is SqliteConnection;
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (await ExecuteAsync(connection, transaction, sqlite
                ? """DELETE FROM "AuditSpoolMarks" WHERE "Id" = @id"""
                : "DELETE FROM [AuditSpoolMarks] WITH (READCOMMITTEDLOCK) WHERE [Id] = @id", record.Id, cancellationToken) == 0)
        {
            await using var check = connection.CreateCommand();
            check.Transaction = transaction;
            check.CommandText = sqlite
                ? """SELECT count(*) FROM "AuditEntries" WHERE "TransactionId" = @id"""
                : "SELECT count(*) FROM [AuditEntries] WHERE [TransactionId] = @id";
            var id = check.CreateParameter();
            id.ParameterName = "@id";
            id.Value = record.Id;
            check.Parameters.Add(id);
            if (Convert.ToInt64(await check.ExecuteScalarAsync(cancellationToken)) > 0)
            {
                return false;
            }

            throw new NeverCommittedException();
        }

        var watermark = AuditSealer.ReadWatermark(connection, transaction);
        AuditSealer.RestoreRows(connection, transaction, record.Rows, storeSchema);
        await new AuditSealer(new FixedTime(record.CommittedAtUtc)).SealAsync(connection, transaction, watermark, record.Context, record.Id, async: true, cancellationToken, storeSchema);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private static async Task<int> ExecuteAsync(DbConnection connection, DbTransaction transaction, string sql, string id, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        var p = command.CreateParameter();
        p.ParameterName = "@id";
        p.Value = id;
        command.Parameters.Add(p);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private sealed class NeverCommittedException() : Exception(
        "its change never committed (no spool mark in the database: the process stopped or the commit failed after the line was written); it is kept here and not sealed");

    /// <summary>Errors of the store as a whole, not of one record: busy, locked, out of memory or disk, read-only, I/O, corrupt.</summary>
    private static bool IsUnavailable(Exception ex) => ex switch
    {
        SqliteException e => e.SqliteErrorCode is 5 or 6 or 7 or 8 or 10 or 11 or 13 or 14 or 26,
        DbException e => e.IsTransient,
        IOException or TimeoutException => true,
        _ => false,
    };
}
