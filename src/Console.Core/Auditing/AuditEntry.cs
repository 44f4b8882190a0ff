namespace ComplianceConsole.Core.Auditing;

/// <summary>
/// One entry of the append-only audit store: a row change or an event, with its place in the hash chain.
/// Values are JSON text exactly as captured; the hash covers that text, so what is shown is what is proven.
/// </summary>
public sealed record AuditEntry
{
    public long Seq { get; init; }
    public int Version { get; init; } = AuditEntryFormat.CurrentVersion;
    public DateTime OccurredAtUtc { get; init; }

    /// <summary>insert, update, delete or event.</summary>
    public required string Operation { get; init; }

    /// <summary>For events: the name in the form <c>resource.verb</c>.</summary>
    public string? EventName { get; init; }
    public string? TableName { get; init; }

    /// <summary>The record's stored key as a JSON object of key column to value (every part of a composite key).</summary>
    public string? RecordKey { get; init; }
    public string? OldValues { get; init; }
    public string? NewValues { get; init; }

    /// <summary>JSON array of the column names whose value changed (updates only).</summary>
    public string? ChangedColumns { get; init; }

    public string? ActorId { get; init; }
    public string? ActorName { get; init; }

    /// <summary>Comma-separated role names the actor held when acting.</summary>
    public string? ActorRoles { get; init; }
    public required string Origin { get; init; }
    public bool OutOfBand { get; init; }
    public string? CorrelationId { get; init; }
    public string? TransactionId { get; init; }
    public string? IpAddress { get; init; }
    public string? UserAgent { get; init; }
    public string? Tenant { get; init; }
    public string? Target { get; init; }

    /// <summary>JSON object with an event's details.</summary>
    public string? Metadata { get; init; }

    /// <summary>Lower-case hex SHA-256 of the canonical JSON of this entry.</summary>
    public string PayloadHash { get; init; } = "";

    /// <summary>Lower-case hex SHA-256 of version, seq, payload hash and the previous row hash.</summary>
    public string RowHash { get; init; } = "";
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
