using System.Globalization;
using System.Text;
using ComplianceConsole.Core.Auditing;

namespace ComplianceConsole.Core.Chain;

/// <summary>
/// The canonical JSON of an entry: every field but seq and the hashes, keys in ordinal order, no white space,
/// nulls written out. Hand-written rather than System.Text.Json so that a runtime upgrade cannot change the
/// escaping and with it every hash in an existing chain.
/// </summary>
public static class CanonicalJson
{
    public static string Of(AuditEntry e)
    {
        var sb = new StringBuilder(256 + (e.OldValues?.Length ?? 0) + (e.NewValues?.Length ?? 0));
        sb.Append('{');
        // Keys below are already in ordinal order; keep them so when adding fields (and bump the version).
        Field(sb, "actorId", e.ActorId, first: true);
        Field(sb, "actorName", e.ActorName);
        Field(sb, "actorRoles", e.ActorRoles);
        Field(sb, "changedColumns", e.ChangedColumns);
        Field(sb, "correlationId", e.CorrelationId);
        Field(sb, "eventName", e.EventName);
        Field(sb, "ipAddress", e.IpAddress);
        Field(sb, "metadata", e.Metadata);
        Field(sb, "newValues", e.NewValues);
        Field(sb, "occurredAtUtc", FormatTimestamp(e.OccurredAtUtc));
        Field(sb, "oldValues", e.OldValues);
        Field(sb, "operation", e.Operation);
        Field(sb, "origin", e.Origin);
        sb.Append(",\"outOfBand\":").Append(e.OutOfBand ? "true" : "false");
        Field(sb, "recordKey", e.RecordKey);
        Field(sb, "tableName", e.TableName);
        Field(sb, "target", e.Target);
        Field(sb, "tenant", e.Tenant);
        Field(sb, "transactionId", e.TransactionId);
        Field(sb, "userAgent", e.UserAgent);
        sb.Append('}');
        return sb.ToString();
    }

    /// <summary>UTC, 100 ns precision, whatever DateTimeKind the value came back from the database with.</summary>
    public static string FormatTimestamp(DateTime value) =>
        value.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static void Field(StringBuilder sb, string name, string? value, bool first = false)
    {
        if (!first)
        {
            sb.Append(',');
        }

        sb.Append('"').Append(name).Append("\":");
        if (value is null)
        {
            sb.Append("null");
            return;
        }

        WriteString(sb, value);
    }

    private static void WriteString(StringBuilder sb, string value)
    {
        sb.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
    }
}
