using System.Text;
using System.Text.Json;

namespace ComplianceConsole.Core.Auditing;

/// <summary>The values an entry keeps for one row change, after the value mode is applied.</summary>
public sealed record ChangeSet(string? OldValues, string? NewValues, string? ChangedColumns)
{
    /// <summary>
    /// Builds the change set from the full old and new row (JSON objects as captured). For an update whose
    /// captured columns are all unchanged, returns null: there is nothing to audit.
    /// Values are compared and copied as raw JSON text, so nothing is re-formatted on the way.
    /// </summary>
    public static ChangeSet? From(string operation, string? oldRow, string? newRow, AuditValueMode mode)
    {
        switch (operation)
        {
            case AuditOperations.Insert:
                return new ChangeSet(null, newRow, null);
            case AuditOperations.Delete:
                return new ChangeSet(oldRow, null, null);
            case AuditOperations.Update:
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(operation), operation, "A row change is an insert, an update or a delete.");
        }

        using var oldDoc = JsonDocument.Parse(oldRow ?? "{}");
        using var newDoc = JsonDocument.Parse(newRow ?? "{}");
        var changed = new List<string>();
        foreach (var property in newDoc.RootElement.EnumerateObject())
        {
            if (!oldDoc.RootElement.TryGetProperty(property.Name, out var before)
                || !JsonEquals(before, property.Value))
            {
                changed.Add(property.Name);
            }
        }

        if (changed.Count == 0)
        {
            return null;
        }

        var changedJson = JsonSerializer.Serialize(changed);
        return mode == AuditValueMode.FullRecord
            ? new ChangeSet(oldRow, newRow, changedJson)
            : new ChangeSet(Subset(oldDoc.RootElement, changed), Subset(newDoc.RootElement, changed), changedJson);
    }

    private static bool JsonEquals(JsonElement a, JsonElement b) =>
        a.ValueKind == b.ValueKind && a.GetRawText() == b.GetRawText();

    private static string Subset(JsonElement row, List<string> names)
    {
        var sb = new StringBuilder("{");
        var first = true;
        foreach (var name in names)
        {
            if (!row.TryGetProperty(name, out var value))
            {
                continue;
            }

            if (!first)
            {
                sb.Append(',');
            }

            first = false;
            sb.Append(JsonSerializer.Serialize(name)).Append(':').Append(value.GetRawText());
        }

        return sb.Append('}').ToString();
    }
}
