using System.Text.Json;

namespace ComplianceConsole.Core.Auditing;

/// <summary>One column of a change, as shown side by side: its value before and after (raw JSON, null when absent).</summary>
public sealed record ColumnChange(string Column, string? Before, string? After, bool Changed);

/// <summary>
/// The columns of one entry's change, in capture order: every column of an insert or delete, and for an update
/// the changed columns (and, in full-record mode, the unchanged ones too, marked as such).
/// </summary>
public static class ChangeSet
{
    public static IReadOnlyList<ColumnChange> Of(AuditEntry entry)
    {
        if (entry.Operation == AuditOperations.Event)
        {
            return [];
        }

        var before = Parse(entry.OldValues);
        var after = Parse(entry.NewValues);
        var changed = entry.ChangedColumns is null ? null : JsonSerializer.Deserialize<string[]>(entry.ChangedColumns)?.ToHashSet();
        var columns = after.Keys.Concat(before.Keys).Distinct().ToList();
        return columns.Select(c => new ColumnChange(
            c,
            before.GetValueOrDefault(c),
            after.GetValueOrDefault(c),
            entry.Operation != AuditOperations.Update || changed is null || changed.Contains(c))).ToList();
    }

    private static Dictionary<string, string> Parse(string? json)
    {
        var values = new Dictionary<string, string>();
        if (string.IsNullOrEmpty(json))
        {
            return values;
        }

        using var doc = JsonDocument.Parse(json);
        foreach (var property in doc.RootElement.EnumerateObject())
        {
            values[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
        }

        return values;
    }
}
