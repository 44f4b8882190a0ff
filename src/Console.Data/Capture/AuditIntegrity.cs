using System.Globalization;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
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
/// <summary>
/// The newest checkpoint in the folder outside the database, as the console read it: whether its signature verifies with
/// the public key, and how many lines of the file could not be read. <see cref="Problem"/> says why it could not be
/// checked at all (no public key to check it with).
/// </summary>
public sealed record CheckpointFile(string Path, Checkpoint? Newest, bool SignatureValid, int UnreadableLines, string? Problem = null);

public static class AuditIntegrity
{
    /// <summary>A verification older than this is amber: the chain has had time to change since.</summary>
    public static readonly TimeSpan VerificationAge = TimeSpan.FromDays(7);

    /// <param name="checkpoints">The checkpoint file outside the database; null: judge the newest checkpoint the chain recorded.</param>
    public static async Task<IntegrityReport> ReadAsync(DbContext db, AuditSpoolSummary spool, DateTime nowUtc, CheckpointFile? checkpoints = null, CancellationToken cancellationToken = default)
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

        // The latest signed checkpoint: from the file outside the database when the console can read it (a rewrite of the
        // database cannot reach it), else as the chain recorded it; either way, whether the live chain still holds its row hash.
        var recorded = await LatestAsync(AuditEventNames.CheckpointSigned);
        var recordedSeq = recorded is null ? 0 : long.TryParse(EventSummary.Metadata(recorded.Metadata).GetValueOrDefault("seq"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var rs) ? rs : 0;
        IntegrityItem Checkpoint(IntegrityLevel level, string sentence) => new("checkpoint", "Signed checkpoint", level, sentence);
        async Task<IntegrityItem> AgreesAsync(long seq, string rowHash, DateTime signedAtUtc, string where)
        {
            var live = await entries.Where(e => e.Seq == seq).Select(e => e.RowHash).FirstOrDefaultAsync(cancellationToken);
            if (live is null && await db.Set<Retention.AuditRemovedRangeRow>().AsNoTracking().Where(r => r.FirstSeq <= seq && r.ThroughSeq >= seq)
                    .Select(r => new { r.ThroughSeq, r.LastRowHash, r.RunId }).FirstOrDefaultAsync(cancellationToken) is { } removed)
            {
                // Removed by a retention purge: the range records the hash at its end; inside it, the run's archive holds the entry.
                live = removed.ThroughSeq == seq ? removed.LastRowHash : rowHash;
                where += $" (its entry is in the archive of purge run {removed.RunId})";
            }

            return live is not null && live == rowHash
                ? Checkpoint(IntegrityLevel.Green, $"The checkpoint signed {Time(signedAtUtc)}{where} covers seq {seq:N0}, and the live chain agrees with it.")
                : Checkpoint(IntegrityLevel.Red, live is null
                    ? $"The checkpoint signed {Time(signedAtUtc)}{where} covers seq {seq:N0}, but that entry is gone from the chain: it was cut or removed. Run 'verify' with the checkpoints."
                    : $"The live chain does not hold the row hash the checkpoint signed {Time(signedAtUtc)}{where} has for seq {seq:N0}: entries up to it were rewritten. Run 'verify' with the checkpoints.");
        }

        if (checkpoints is { } file)
        {
            var where = $" (in {file.Path})";
            items.Add(file switch
            {
                { UnreadableLines: > 0 } => Checkpoint(IntegrityLevel.Red, $"{file.UnreadableLines:N0} line(s) of {file.Path} cannot be read: torn or edited. Run 'verify' with the checkpoints to see which."),
                { Newest: null } when recorded is not null => Checkpoint(IntegrityLevel.Red,
                    $"The chain recorded a checkpoint of seq {recordedSeq:N0} signed {Time(recorded.OccurredAtUtc)}, but {file.Path} holds none: the file was removed or Audit:Checkpoints:Folder changed."),
                { Newest: null } => Checkpoint(IntegrityLevel.Amber, "No checkpoint has been signed yet: one is signed every few minutes once the chain moves."),
                { Problem: { } problem } => Checkpoint(IntegrityLevel.Amber, problem),
                { SignatureValid: false } => Checkpoint(IntegrityLevel.Red,
                    $"The newest checkpoint in {file.Path} (seq {file.Newest.Seq:N0}) does not verify with the console's public key: it was forged, or the key was replaced."),
                _ when recordedSeq > file.Newest.Seq => Checkpoint(IntegrityLevel.Red,
                    $"The chain recorded a checkpoint of seq {recordedSeq:N0}, newer than the newest in {file.Path} (seq {file.Newest.Seq:N0}): lines were removed from the file."),
                _ => await AgreesAsync(file.Newest.Seq, file.Newest.RowHash, file.Newest.SignedAtUtc, where),
            });
        }
        else if (recorded is null)
        {
            items.Add(Checkpoint(IntegrityLevel.Amber, "No checkpoint has been signed yet: one is signed every few minutes once the chain moves."));
        }
        else
        {
            items.Add(await AgreesAsync(recordedSeq, EventSummary.Metadata(recorded.Metadata).GetValueOrDefault("rowHash") ?? "", recorded.OccurredAtUtc, ""));
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
