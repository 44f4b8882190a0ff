namespace ComplianceConsole.Data.Capture;

/// <summary>
/// A captured change or event that is not yet in the chain. The capture triggers write these rows in the
/// writer's own transaction; the sealer turns them into chained entries before that transaction commits
/// (or, for writes from outside the app, in the next sealing transaction).
/// </summary>
public sealed class AuditPendingRow
{
    public long Id { get; set; }
    public string? TableName { get; set; }
    public string Operation { get; set; } = "";
    public string? RecordKey { get; set; }
    public string? OldValues { get; set; }
    public string? NewValues { get; set; }

    /// <summary>JSON array of the changed column names (updates), computed by the trigger.</summary>
    public string? ChangedColumns { get; set; }
    public string? EventName { get; set; }
    public string? Target { get; set; }
    public string? Metadata { get; set; }
    public string? Tenant { get; set; }
    public string? ActorId { get; set; }
    public string? ActorName { get; set; }
    public DateTime CapturedAtUtc { get; set; }
}
