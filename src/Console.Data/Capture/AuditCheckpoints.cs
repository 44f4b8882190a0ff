using System.Globalization;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Capture;

/// <summary>
/// Signs checkpoints of the chain: the head's seq and row hash, the entry count, the time and the previous checkpoint's
/// signature, with a key the database never holds. Each is written to the sink (outside the database) first, then
/// recorded in the chain as <see cref="AuditEventNames.CheckpointSigned"/>. Runs on a schedule or on demand, never on
/// the write path.
/// </summary>
public static class AuditCheckpoints
{
    /// <summary>
    /// Signs a checkpoint of the current head, unless the chain has not moved since the last one (the only entries after
    /// it being the events that record checkpoints). <paramref name="db"/> must use the audit trail, so that the event is
    /// sealed. Returns the checkpoint, or null when there was nothing new to sign.
    /// </summary>
    public static async Task<Checkpoint?> SignAsync(DbContext db, CheckpointKey key, ICheckpointSink sink, TimeProvider time, CancellationToken cancellationToken = default)
    {
        var entries = db.Set<AuditEntry>().AsNoTracking();
        var head = await entries.OrderByDescending(e => e.Seq).Select(e => new { e.Seq, e.RowHash }).FirstOrDefaultAsync(cancellationToken);
        var stored = await sink.ReadAllAsync(cancellationToken);
        var previous = stored.Last;
        if (head is null || (previous is not null && !await entries.AnyAsync(e => e.Seq > previous.Seq && e.EventName != AuditEventNames.CheckpointSigned, cancellationToken)))
        {
            return null;
        }

        var count = await entries.LongCountAsync(e => e.Seq <= head.Seq, cancellationToken);
        var checkpoint = new CheckpointSigner(key).Sign(previous, head.Seq, head.RowHash, count, time.GetUtcNow());
        await sink.AppendAsync(checkpoint, cancellationToken);
        await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.CheckpointSigned, "audit-chain", new Dictionary<string, string?>
        {
            ["seq"] = checkpoint.Seq.ToString(CultureInfo.InvariantCulture),
            ["rowHash"] = checkpoint.RowHash,
            ["entryCount"] = checkpoint.EntryCount.ToString(CultureInfo.InvariantCulture),
            ["keyId"] = checkpoint.KeyId,
            ["signature"] = checkpoint.Signature,
        }), cancellationToken);
        return checkpoint;
    }
}
