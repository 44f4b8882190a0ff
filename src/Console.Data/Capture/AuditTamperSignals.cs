using ComplianceConsole.Core.Auditing;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Capture;

/// <summary>An <see cref="AuditEventNames.CaptureRestored"/> event not yet acknowledged: what was missing or altered, and since when.</summary>
public sealed record TamperSignal(long Seq, DateTime OccurredAtUtc, string Restored, string? Since);

/// <summary>
/// Tamper signals stay visible (on /health and the audit log) until an Admin acknowledges them; the acknowledgement is
/// itself an entry of the chain (<see cref="AuditEventNames.TamperAcknowledged"/>, naming the seq it covers).
/// </summary>
public static class AuditTamperSignals
{
    public static async Task<List<TamperSignal>> OpenAsync(DbContext db, CancellationToken cancellationToken = default)
    {
        var acknowledged = 0L;
        var acks = await db.Set<AuditEntry>().AsNoTracking().Where(e => e.EventName == AuditEventNames.TamperAcknowledged)
            .OrderByDescending(e => e.Seq).Select(e => e.Metadata).Take(1).ToListAsync(cancellationToken);
        if (acks is [{ } metadata] && EventSummary.Metadata(metadata).GetValueOrDefault("throughSeq") is { } through)
        {
            acknowledged = long.Parse(through, System.Globalization.CultureInfo.InvariantCulture);
        }

        var restored = await db.Set<AuditEntry>().AsNoTracking()
            .Where(e => e.EventName == AuditEventNames.CaptureRestored && e.Seq > acknowledged).OrderBy(e => e.Seq).ToListAsync(cancellationToken);
        return restored.Select(e =>
        {
            var m = EventSummary.Metadata(e.Metadata);
            return new TamperSignal(e.Seq, e.OccurredAtUtc, m.GetValueOrDefault("restored") ?? "", m.GetValueOrDefault("since"));
        }).ToList();
    }

    /// <summary>Records that the signals up to <paramref name="throughSeq"/> were seen and dealt with, by the context's actor.</summary>
    public static Task AcknowledgeAsync(DbContext db, long throughSeq, string note, CancellationToken cancellationToken = default) =>
        db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.TamperAcknowledged, "audit-capture",
            new Dictionary<string, string?> { ["throughSeq"] = throughSeq.ToString(System.Globalization.CultureInfo.InvariantCulture), ["note"] = note }), cancellationToken);
}
