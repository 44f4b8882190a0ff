using System.Globalization;
using ComplianceConsole.Core.Auditing;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Capture;

public enum IntegrityLevel
{
    Green,
    Amber,
    Red,
}

/// <summary>One line of the integrity page: what it is about, its colour, and one sentence that says why.</summary>
public sealed record IntegrityItem(string Key, string Title, IntegrityLevel Level, string Sentence);

/// <summary>The state of the trail at a glance: every item, and the worst of their levels.</summary>
public sealed record IntegrityReport(long HeadSeq, DateTime? HeadAtUtc, IReadOnlyList<IntegrityItem> Items)
{
    public IntegrityLevel Level => Items.Count == 0 ? IntegrityLevel.Green : Items.Max(i => i.Level);
}

/// <summary>The last verification as the chain recorded it.</summary>
public sealed record VerificationRecord(long EventSeq, DateTime AtUtc, string By, bool Passed, long? ThroughSeq, long? Entries, long? BrokenAtSeq, string? Problem);

/// <summary>A signed checkpoint as the chain recorded it, and whether the live chain still holds its row hash at its seq.</summary>
public sealed record CheckpointRecord(long EventSeq, DateTime SignedAtUtc, long Seq, string? RowHash, long? EntryCount, string? KeyId, string? Signature, bool AgreesWithLiveChain);

/// <summary>What an auditor files: the last verification, the checkpoint it ended on (with the signing key's id), and the chain's head.</summary>
public sealed record VerificationReport(DateTime GeneratedAtUtc, long HeadSeq, DateTime? HeadAtUtc, VerificationRecord? Verification, CheckpointRecord? Checkpoint);

/// <summary>
/// Reads, without writing, what the integrity page shows (issue 10): the chain's head, the last verification, the latest
/// signed checkpoint and whether the live chain still ends in its row hash there, the last reconciliation, out-of-band
/// changes waiting to be sealed, the never-block spool and restored triggers. Each item is green, amber or red, with one
/// sentence. Every figure comes from the chain's own events, so what the page says is itself in the trail.
/// </summary>
public static class AuditIntegrity
{
    /// <summary>A verification older than this is amber: the chain has had time to change since.</summary>
    public static readonly TimeSpan VerificationAge = TimeSpan.FromDays(7);

    public static async Task<IntegrityReport> ReadAsync(DbContext db, AuditSpoolSummary spool, DateTime nowUtc, CancellationToken cancellationToken = default)
    {
        var entries = db.Set<AuditEntry>().AsNoTracking();
        var head = await entries.OrderByDescending(e => e.Seq).Select(e => new { e.Seq, e.OccurredAtUtc }).FirstOrDefaultAsync(cancellationToken);
        var items = new List<IntegrityItem>
        {
            head is null
                ? new("head", "Chain head", IntegrityLevel.Amber, "The trail is empty: nothing has been recorded yet.")
                : new("head", "Chain head", IntegrityLevel.Green, $"The chain runs to seq {head.Seq:N0}, last written {Time(head.OccurredAtUtc)}."),
        };

        async Task<AuditEntry?> LatestAsync(params string[] names) =>
            await entries.Where(e => names.Contains(e.EventName!)).OrderByDescending(e => e.Seq).FirstOrDefaultAsync(cancellationToken);

        // The last verification: recorded as audit.verified by whoever ran it (the page's Verify now, or the CLI).
        var verified = await LatestAsync(AuditEventNames.Verified);
        if (verified is null)
        {
            items.Add(new("verification", "Last verification", IntegrityLevel.Amber, "The chain has never been verified from the console: run Verify now, or 'verify' on the command line."));
        }
        else
        {
            var m = EventSummary.Metadata(verified.Metadata);
            var by = verified.ActorName ?? "unknown";
            items.Add(m.GetValueOrDefault("result") == "ok"
                ? new("verification", "Last verification", nowUtc - verified.OccurredAtUtc > VerificationAge ? IntegrityLevel.Amber : IntegrityLevel.Green,
                    $"Verified by {by} {Time(verified.OccurredAtUtc)}: the chain was whole up to seq {m.GetValueOrDefault("throughSeq")}" +
                    (nowUtc - verified.OccurredAtUtc > VerificationAge ? $", more than {VerificationAge.TotalDays:0} days ago: verify again." : "."))
                : new("verification", "Last verification", IntegrityLevel.Red,
                    $"The verification by {by} {Time(verified.OccurredAtUtc)} found the chain broken at seq {m.GetValueOrDefault("brokenAtSeq") ?? "?"}: {m.GetValueOrDefault("problem")}"));
        }

        // The latest signed checkpoint the chain recorded, and whether the live chain still holds its row hash at its seq.
        var checkpoint = await LatestAsync(AuditEventNames.CheckpointSigned);
        if (checkpoint is null)
        {
            items.Add(new("checkpoint", "Signed checkpoint", IntegrityLevel.Amber, "No checkpoint has been signed yet: one is signed every few minutes once the chain moves."));
        }
        else
        {
            var m = EventSummary.Metadata(checkpoint.Metadata);
            var seq = long.TryParse(m.GetValueOrDefault("seq"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : 0;
            var live = await entries.Where(e => e.Seq == seq).Select(e => e.RowHash).FirstOrDefaultAsync(cancellationToken);
            items.Add(live is not null && live == m.GetValueOrDefault("rowHash")
                ? new("checkpoint", "Signed checkpoint", IntegrityLevel.Green, $"The checkpoint signed {Time(checkpoint.OccurredAtUtc)} covers seq {seq:N0}, and the live chain agrees with it.")
                : new("checkpoint", "Signed checkpoint", IntegrityLevel.Red, live is null
                    ? $"The checkpoint signed {Time(checkpoint.OccurredAtUtc)} covers seq {seq:N0}, but that entry is gone from the chain: it was cut or removed. Run 'verify' with the checkpoints."
                    : $"The live chain does not end in the row hash the checkpoint signed {Time(checkpoint.OccurredAtUtc)} holds for seq {seq:N0}: entries up to it were rewritten. Run 'verify' with the checkpoints."));
        }

        var reconciled = await LastReconciliationAsync(db, cancellationToken);
        if (reconciled is null)
        {
            items.Add(new("reconciliation", "Last reconciliation", IntegrityLevel.Amber, "The live rows have never been reconciled with the trail: run Reconcile now, or 'reconcile' on the command line."));
        }
        else
        {
            var m = EventSummary.Metadata(reconciled.Metadata);
            items.Add(reconciled.EventName == AuditEventNames.ReconcileCompleted
                ? new("reconciliation", "Last reconciliation", IntegrityLevel.Green, $"Reconciled {Time(reconciled.OccurredAtUtc)}: all {Count(m.GetValueOrDefault("rows"))} live rows matched the trail.")
                : new("reconciliation", "Last reconciliation", IntegrityLevel.Red, $"The reconciliation {Time(reconciled.OccurredAtUtc)} found {Count(m.GetValueOrDefault("mismatches"))} row(s) changed without capture."));
        }

        var unsealed = await db.Set<AuditPendingRow>().CountAsync(cancellationToken);
        items.Add(unsealed == 0
            ? new("out-of-band", "Out-of-band changes", IntegrityLevel.Green, "No change made outside the console waits to be sealed.")
            : new("out-of-band", "Out-of-band changes", IntegrityLevel.Amber, $"{unsealed:N0} change(s) made outside the console wait to be sealed into the chain; the sealer takes them within seconds."));

        items.Add(spool.QuarantinedLines > 0 || spool.UnreadableLines > 0
            ? new("spool", "Never-block spool", IntegrityLevel.Red, spool.Describe())
            : spool.SpooledTransactions > 0
                ? new("spool", "Never-block spool", IntegrityLevel.Amber, spool.Describe())
                : new("spool", "Never-block spool", IntegrityLevel.Green, "Every committed change is in the chain: the never-block spool is empty."));

        var tamper = await AuditTamperSignals.OpenAsync(db, cancellationToken);
        items.Add(tamper.Count == 0
            ? new("triggers", "Capture triggers", IntegrityLevel.Green, "Every capture trigger and guard is as the chain recorded it.")
            : new("triggers", "Capture triggers", IntegrityLevel.Red,
                $"Capture was found missing or altered and restored {tamper.Count} time(s), newest at seq {tamper[^1].Seq:N0}: changes made meanwhile are not in the trail. An Admin acknowledges this once it is investigated."));

        return new IntegrityReport(head?.Seq ?? 0, head?.OccurredAtUtc, items);
    }

    /// <summary>The outcome of the newest reconciliation (<c>audit.reconciled</c> or <c>audit.reconcile_mismatch</c>), or null; /health reads it too.</summary>
    public static Task<AuditEntry?> LastReconciliationAsync(DbContext db, CancellationToken cancellationToken = default) =>
        db.Set<AuditEntry>().AsNoTracking()
            .Where(e => e.EventName == AuditEventNames.ReconcileCompleted || e.EventName == AuditEventNames.ReconcileMismatch)
            .OrderByDescending(e => e.Seq).FirstOrDefaultAsync(cancellationToken);

    /// <summary>The verification report: the last verification and the newest checkpoint at or below the seq it reached.</summary>
    public static async Task<VerificationReport> ReportAsync(DbContext db, DateTime nowUtc, CancellationToken cancellationToken = default)
    {
        var entries = db.Set<AuditEntry>().AsNoTracking();
        var head = await entries.OrderByDescending(e => e.Seq).Select(e => new { e.Seq, e.OccurredAtUtc }).FirstOrDefaultAsync(cancellationToken);
        var verified = await entries.Where(e => e.EventName == AuditEventNames.Verified).OrderByDescending(e => e.Seq).FirstOrDefaultAsync(cancellationToken);
        VerificationRecord? verification = null;
        if (verified is not null)
        {
            var m = EventSummary.Metadata(verified.Metadata);
            verification = new VerificationRecord(verified.Seq, verified.OccurredAtUtc, verified.ActorName ?? "unknown", m.GetValueOrDefault("result") == "ok",
                Long(m.GetValueOrDefault("throughSeq")), Long(m.GetValueOrDefault("entries")), Long(m.GetValueOrDefault("brokenAtSeq")), m.GetValueOrDefault("problem"));
        }

        // The checkpoint the verification ended on: the newest one recorded at or below the seq it reached.
        var through = verification?.ThroughSeq ?? long.MaxValue;
        CheckpointRecord? checkpoint = null;
        foreach (var signed in await entries.Where(e => e.EventName == AuditEventNames.CheckpointSigned).OrderByDescending(e => e.Seq).Take(50).ToListAsync(cancellationToken))
        {
            var m = EventSummary.Metadata(signed.Metadata);
            if (Long(m.GetValueOrDefault("seq")) is { } seq && seq <= through)
            {
                var live = await entries.Where(e => e.Seq == seq).Select(e => e.RowHash).FirstOrDefaultAsync(cancellationToken);
                checkpoint = new CheckpointRecord(signed.Seq, signed.OccurredAtUtc, seq, m.GetValueOrDefault("rowHash"), Long(m.GetValueOrDefault("entryCount")),
                    m.GetValueOrDefault("keyId"), m.GetValueOrDefault("signature"), live is not null && live == m.GetValueOrDefault("rowHash"));
                break;
            }
        }

        return new VerificationReport(nowUtc, head?.Seq ?? 0, head?.OccurredAtUtc, verification, checkpoint);
    }

    private static long? Long(string? text) => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static string Count(string? number) =>
        long.TryParse(number, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n.ToString("N0", CultureInfo.InvariantCulture) : number ?? "?";

    private static string Time(DateTime utc) => "at " + utc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";
}
