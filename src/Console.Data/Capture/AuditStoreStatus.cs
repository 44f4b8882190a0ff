using System.Data.Common;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Interceptors;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Capture;

/// <summary>
/// Committed changes whose entries are not in the chain: records waiting in the never-block spool, lines of it
/// that cannot be read, and lines quarantined for good. From <see cref="AuditSpool.Summarize"/>.
/// </summary>
public sealed record AuditSpoolSummary(
    string SpoolPath, int SpooledTransactions, int SpooledEntries, int UnreadableLines, string? LastError,
    string QuarantinePath, IReadOnlyList<QuarantinedLine> Quarantined)
{
    public int QuarantinedLines => Quarantined.Count;

    public string? NewestQuarantineReason => Quarantined.Count == 0 ? null : Quarantined[^1].Reason;

    /// <summary>True when every committed change the spool knows of is in the chain.</summary>
    public bool IsEmpty => SpooledTransactions == 0 && UnreadableLines == 0 && Quarantined.Count == 0;

    /// <summary>What the trail lacks and what to do, in sentences; empty when <see cref="IsEmpty"/>.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (SpooledTransactions > 0)
        {
            parts.Add($"{SpooledEntries} audit entr{(SpooledEntries == 1 ? "y" : "ies")} from {SpooledTransactions} committed change(s) " +
                $"are in the never-block spool ({SpoolPath}), not yet in the chain; they are replayed every few seconds. Last error: {LastError}");
        }

        if (UnreadableLines > 0)
        {
            parts.Add($"{UnreadableLines} line(s) of the spool cannot be read (cut off by a crash?); the next replay moves them to the quarantine.");
        }

        if (Quarantined.Count > 0)
        {
            var newest = Quarantined[^1];
            parts.Add($"{Quarantined.Count} spooled line(s) are quarantined in {QuarantinePath} and are not in the chain. " +
                $"Newest, from {newest.Where}: {newest.Reason}. Each keeps its original text: repair a record and append it to the spool " +
                "as one line to replay it; the quarantine file is never emptied by the console.");
        }

        return string.Join(" ", parts);
    }
}

/// <summary>Whether the audit store accepts entries; <see cref="Error"/> says why not.</summary>
public sealed record AuditProbeResult(bool Writable, string? Error);

/// <summary>Checks the real write path of the audit store without leaving anything behind.</summary>
public static class AuditStoreProbe
{
    /// <summary>The event name of the probe row; it is rolled back and never reaches the chain.</summary>
    public const string ProbeEvent = "audit.health_probe";

    /// <summary>
    /// In a transaction that is always rolled back: writes one event row to AuditPending and seals it with the
    /// sealer every change uses. If that throws, the store cannot take entries, and the error says why.
    /// </summary>
    public static async Task<AuditProbeResult> CheckAsync(DbContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await context.Database.OpenConnectionAsync(cancellationToken);
            try
            {
                return Check(context.Database.GetDbConnection(), AuditStoreModel.SqlServerSchemaOf(context.Model));
            }
            finally
            {
                await context.Database.CloseConnectionAsync();
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new AuditProbeResult(false, ex.Message);
        }
    }

    /// <summary>The probe on an open connection with no transaction of its own.</summary>
    internal static AuditProbeResult Check(DbConnection connection, string storeSchema)
    {
        try
        {
            // Disposing the transaction rolls it back if the seal throws.
            using var transaction = connection.BeginTransaction();
            var watermark = AuditSealer.ReadWatermark(connection, transaction);
            var now = DateTime.UtcNow.ToString(AuditSealer.SqliteDateFormat, System.Globalization.CultureInfo.InvariantCulture);
            AuditSealer.RestoreRows(connection, transaction,
                [new SpooledRow(null, "event", null, null, null, null, ProbeEvent, null, null, null, null, null, now)], storeSchema);
            new AuditSealer(null).SealAsync(connection, transaction, watermark, AuditContext.ForJob("audit-probe"), Guid.NewGuid().ToString("N"), async: false, default, storeSchema).GetAwaiter().GetResult();
            transaction.Rollback();
            return new AuditProbeResult(true, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new AuditProbeResult(false, ex.Message);
        }
    }
}
