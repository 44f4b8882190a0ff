namespace ComplianceConsole.Data.Capture;

/// <summary>
/// A captured change or event that is not yet in the chain. The capture triggers write these rows in the
/// writer's own transaction; the sealer turns them into chained entries before that transaction commits
/// (or, for writes from outside the app, in the next sealing transaction).
/// </summary>
public class AuditPendingRow
{
    public virtual long Id { get; set; }
    public virtual string? TableName { get; set; }
    public virtual string Operation { get; set; } = "";
    public virtual string? RecordKey { get; set; }
    public virtual string? OldValues { get; set; }
    public virtual string? NewValues { get; set; }

    /// <summary>JSON array of the changed column names (updates), computed by the trigger.</summary>
    public virtual string? ChangedColumns { get; set; }
    public virtual string? EventName { get; set; }
    public virtual string? Target { get; set; }
    public virtual string? Metadata { get; set; }
    public virtual string? Tenant { get; set; }
    public virtual string? ActorId { get; set; }
    public virtual string? ActorName { get; set; }
    public virtual DateTime CapturedAtUtc { get; set; }
}

/// <summary>
/// SQLite only: a row that the statement in progress may delete through REPLACE conflict resolution, noted with its
/// key and values before the write, so that its deletion can be recorded after it. Cleared as it goes; never sealed.
/// </summary>
public class AuditStashRow
{
    public virtual long Id { get; set; }
    public virtual string TableName { get; set; } = "";
    public virtual string? RecordKey { get; set; }
    public virtual string? OldValues { get; set; }
}

/// <summary>
/// Never-block mode: written in the same transaction as a change whose entries went to the spool, so that replay
/// seals a spooled record only if its change really committed. Replay deletes it in the transaction that seals.
/// </summary>
public class AuditSpoolMark
{
    public virtual string Id { get; set; } = "";
    public virtual DateTime CreatedAtUtc { get; set; }
}
