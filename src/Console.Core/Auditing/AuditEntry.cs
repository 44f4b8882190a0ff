namespace ComplianceConsole.Core.Auditing;

/// <summary>
/// One entry of the append-only audit store: a row change or an event, with its place in the hash chain.
/// Values are JSON text exactly as captured; the hash covers that text, so what is shown is what is proven.
/// Not sealed, and its properties virtual, so that a context with lazy-loading or change-tracking proxies can map it.
/// </summary>
public record AuditEntry
{
    public virtual long Seq { get; init; }
    public virtual int Version { get; init; } = AuditEntryFormat.CurrentVersion;
    public virtual DateTime OccurredAtUtc { get; init; }

    /// <summary>insert, update, delete or event.</summary>
    public required virtual string Operation { get; init; }

    /// <summary>For events: the name in the form <c>resource.verb</c>.</summary>
    public virtual string? EventName { get; init; }
    public virtual string? TableName { get; init; }

    /// <summary>The record's stored key as a JSON object of key column to value (every part of a composite key).</summary>
    public virtual string? RecordKey { get; init; }
    public virtual string? OldValues { get; init; }
    public virtual string? NewValues { get; init; }

    /// <summary>JSON array of the column names whose value changed (updates only).</summary>
    public virtual string? ChangedColumns { get; init; }

    public virtual string? ActorId { get; init; }
    public virtual string? ActorName { get; init; }

    /// <summary>Comma-separated role names the actor held when acting.</summary>
    public virtual string? ActorRoles { get; init; }
    public required virtual string Origin { get; init; }
    public virtual bool OutOfBand { get; init; }
    public virtual string? CorrelationId { get; init; }
    public virtual string? TransactionId { get; init; }
    public virtual string? IpAddress { get; init; }
    public virtual string? UserAgent { get; init; }
    public virtual string? Tenant { get; init; }
    public virtual string? Target { get; init; }

    /// <summary>JSON object with an event's details.</summary>
    public virtual string? Metadata { get; init; }

    /// <summary>Lower-case hex SHA-256 of the canonical JSON of this entry.</summary>
    public virtual string PayloadHash { get; init; } = "";

    /// <summary>Lower-case hex SHA-256 of version, seq, payload hash and the previous row hash.</summary>
    public virtual string RowHash { get; init; } = "";
}

public static class AuditOperations
{
    public const string Insert = "insert";
    public const string Update = "update";
    public const string Delete = "delete";
    public const string Event = "event";

    public static readonly IReadOnlyList<string> All = [Insert, Update, Delete, Event];
}

public static class AuditEntryFormat
{
    public const int CurrentVersion = 1;
}
