namespace ComplianceConsole.Core.Auditing;

/// <summary>Names of the events the console itself records. Custom events use the same <c>resource.verb</c> form.</summary>
public static class AuditEventNames
{
    public const string LoginSucceeded = "auth.login_succeeded";
    public const string LoginFailed = "auth.login_failed";
    public const string Logout = "auth.logout";
    public const string PasswordChanged = "auth.password_changed";
    public const string RoleChanged = "auth.role_changed";
    public const string LockedOut = "auth.locked_out";

    /// <summary>Capture triggers were installed, replaced or dropped to match a policy (metadata: owner, the triggers in force and their hashes).</summary>
    public const string CaptureChanged = "audit.capture_changed";

    /// <summary>A capture trigger or append-only guard was found missing or altered, and re-installed: a tamper signal.</summary>
    public const string CaptureRestored = "audit.capture_restored";

    /// <summary>An Admin acknowledged a tamper signal; /health stops showing it.</summary>
    public const string TamperAcknowledged = "audit.tamper_acknowledged";

    /// <summary>Capture was removed from a table on purpose (API or CLI), with the reason given.</summary>
    public const string CaptureRemoved = "audit.capture_removed";

    /// <summary>The whole chain was verified (metadata: result ok or broken, throughSeq, brokenAtSeq, problem, entries).</summary>
    public const string Verified = "audit.verified";

    /// <summary>A signed checkpoint of the chain was written outside the database (metadata: seq, row hash, signature).</summary>
    public const string CheckpointSigned = "audit.checkpoint_signed";

    /// <summary>
    /// A retention anchor: the only event that lets entries be deleted. Metadata: table (null for events), fromSeq,
    /// throughSeq, before (entries of that table in that range that occurred before this time may be deleted).
    /// </summary>
    public const string RetentionPurged = "retention.purged";

    /// <summary>
    /// A record as it stood when capture began on its table (the baseline): one entry per row that existed without a
    /// trail, with the table and key of the row and its values as NewValues. Replay starts from it (<c>RecordHistory</c>).
    /// </summary>
    public const string CaptureBaseline = "capture.baseline";

    /// <summary>A large table's baseline was started at install and is being taken in chunks (metadata: table, rows).</summary>
    public const string CaptureBaselineStarted = "capture.baseline_started";

    /// <summary>A table's baseline is complete: every row that existed when capture began has its snapshot (metadata: table, rows).</summary>
    public const string CaptureBaselineCompleted = "capture.baseline_completed";

    /// <summary>A retention policy was set (metadata: scope, before, after in days or "forever", reason; approvedBy when a second officer approved a shortening).</summary>
    public const string RetentionPolicyChanged = "retention.policy_changed";

    /// <summary>A shortening of a policy waits for a second officer (metadata: change, scope, before, after, reason).</summary>
    public const string RetentionPolicyRequested = "retention.policy_requested";

    /// <summary>A second officer rejected a pending shortening, or its requester withdrew it (metadata: change, scope, note).</summary>
    public const string RetentionPolicyRejected = "retention.policy_rejected";

    /// <summary>A purge run failed; nothing it had not archived and anchored was deleted (metadata: run, step, reason).</summary>
    public const string RetentionPurgeFailed = "retention.purge_failed";

    /// <summary>A legal hold was placed (target: hold/id; metadata: query, from, to, reason, reference).</summary>
    public const string HoldPlaced = "hold.placed";

    /// <summary>A legal hold was released (metadata: reason, reference).</summary>
    public const string HoldReleased = "hold.released";

    /// <summary>A record's state kept by a retention purge before it deletes the entries behind it (written by the archive; same shape as a baseline).</summary>
    public const string RetentionSnapshot = "retention.snapshot";

    /// <summary>A reconciliation compared the live rows with the state the trail rebuilds (metadata: tables, rows, mismatches).</summary>
    public const string ReconcileCompleted = "audit.reconciled";

    /// <summary>A reconciliation found rows that differ from the trail: changes that bypassed capture (metadata: counts and the first keys).</summary>
    public const string ReconcileMismatch = "audit.reconcile_mismatch";

    /// <summary>An Admin restored a record (or undid a transaction) from its history; in the same transaction as the change (metadata: reason, restoredSeq or transaction, records, columns).</summary>
    public const string RecordReverted = "record.reverted";

    /// <summary>Events that carry a whole record's state: replay starts from them as from an insert.</summary>
    public static bool IsSnapshot(string? name) => name is CaptureBaseline or RetentionSnapshot;

    /// <summary>A page or endpoint was refused (metadata: route, page, needs = the roles that would have been let in).</summary>
    public const string AccessDenied = "access.denied";

    /// <summary>A trail reader ran a search (metadata: query, range). One per search, not per page turn.</summary>
    public const string AuditSearched = "audit.searched";

    /// <summary>A trail reader opened an entry or a record's history (metadata: seq or table and key).</summary>
    public const string AuditViewed = "audit.viewed";

    /// <summary>A trail reader exported a search as a file (metadata: format, rows, query).</summary>
    public const string AuditExported = "audit.exported";

    /// <summary>An export was cancelled before its file was complete: no file was offered (metadata: format, query, rows written).</summary>
    public const string ExportCancelled = "audit.export_cancelled";

    /// <summary>An export failed: no file was offered (metadata: format, query, reason).</summary>
    public const string ExportFailed = "audit.export_failed";

    /// <summary>A ComplianceOfficer or Auditor opened a managed record (target: table/key).</summary>
    public const string RecordViewed = "record.viewed";

    /// <summary>Whether an event records a failure or a refusal (shown differently from a success).</summary>
    public static bool IsFailure(string? name) =>
        name is not null && (name.EndsWith("_failed", StringComparison.Ordinal) || name.EndsWith(".denied", StringComparison.Ordinal)
            || name.EndsWith("locked_out", StringComparison.Ordinal) || name is CaptureRestored or ReconcileMismatch);

    public static bool IsValid(string name)
    {
        var dot = name.IndexOf('.');
        return name.Length <= AuditFieldLimits.EventName && dot > 0 && dot < name.Length - 1 && name.IndexOf('.', dot + 1) < 0
            && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-');
    }
}

/// <summary>A custom or built-in event to append to the audit store.</summary>
public sealed record AuditEventRequest(
    string Name,
    string? Target = null,
    IReadOnlyDictionary<string, string?>? Metadata = null,
    string? Tenant = null,
    AuditActor? Actor = null);
