using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.History;

namespace ComplianceConsole.Core.Diff;

public enum DiffKind
{
    Unchanged,
    Changed,
    Added,
    Removed,
}

/// <summary>
/// One column of the record around an entry. <see cref="Before"/> and <see cref="After"/> are the JSON values, null
/// when the record did not exist on that side; <see cref="Known"/> is false when the trail never saw the column's value
/// before this entry. JSON documents get <see cref="Children"/>: the same diff per path inside them.
/// </summary>
public sealed record DiffRow(string Column, JsonElement? Before, JsonElement? After, DiffKind Kind, bool Redacted, bool Known, IReadOnlyList<DiffRow> Children)
{
    public bool IsJson => Children.Count > 0;
}

/// <summary>
/// The diff of one entry over the whole record: every column as it stood before and after, not only the changed
/// ones, so that a reader sees the change in context (GitHub collapses the unchanged lines; the page does the same).
/// </summary>
public static class EntryDiff
{
    public static IReadOnlyList<DiffRow> Build(AuditEntry entry, RecordState before, RecordState after)
    {
        var changed = ChangedColumns(entry).ToHashSet();
        var columns = before.Columns.Keys.Concat(after.Columns.Keys).Distinct().ToList();
        var rows = new List<DiffRow>();
        foreach (var column in columns)
        {
            JsonElement? b = entry.Operation == AuditOperations.Insert ? null : before[column];
            JsonElement? a = entry.Operation == AuditOperations.Delete ? null : after[column];
            var kind = entry.Operation switch
            {
                AuditOperations.Insert => DiffKind.Added,
                AuditOperations.Delete => DiffKind.Removed,
                _ => changed.Contains(column) || !SameJson(b, a) ? DiffKind.Changed : DiffKind.Unchanged,
            };
            var redacted = IsRedacted(b) || IsRedacted(a);
            var known = entry.Operation != AuditOperations.Update || before.Columns.ContainsKey(column);
            rows.Add(new DiffRow(column, b, a, kind, redacted, known, redacted ? [] : JsonChildren(b, a, kind)));
        }

        // Changed columns first, in capture order; then the rest in the record's column order.
        return rows.OrderBy(r => r.Kind == DiffKind.Unchanged ? 1 : 0).ToList();
    }

    /// <summary>
    /// The diff between two states of one record (two versions, or a version and the live row): every column, changed
    /// first. A column that one side never saw is not known there; a record that did not exist on a side is added or removed.
    /// </summary>
    public static IReadOnlyList<DiffRow> Compare(RecordState older, RecordState newer)
    {
        var rows = new List<DiffRow>();
        foreach (var column in older.Columns.Keys.Concat(newer.Columns.Keys).Distinct())
        {
            JsonElement? b = older.Exists ? older[column] : null;
            JsonElement? a = newer.Exists ? newer[column] : null;
            var redacted = IsRedacted(b) || IsRedacted(a);
            var kind = !older.Exists && newer.Exists ? DiffKind.Added
                : older.Exists && !newer.Exists ? DiffKind.Removed
                : !older.Exists ? DiffKind.Unchanged
                : SameJson(b, a) ? DiffKind.Unchanged : DiffKind.Changed;
            var known = !older.Exists || !newer.Exists || (older.Columns.ContainsKey(column) && newer.Columns.ContainsKey(column));
            rows.Add(new DiffRow(column, b, a, kind, redacted, known, redacted ? [] : JsonChildren(b, a, kind)));
        }

        return rows.OrderBy(r => r.Kind == DiffKind.Unchanged ? 1 : 0).ToList();
    }

    public static bool IsRedacted(JsonElement? value) =>
        value is { ValueKind: JsonValueKind.String } v && v.GetString() is AuditRedaction.Placeholder or AuditRedaction.ChangedPlaceholder;

    /// <summary>A JSON document inside a column, if the value is one (an object or array, or a string holding one).</summary>
    public static JsonElement? Document(JsonElement? value)
    {
        if (value is not { } v)
        {
            return null;
        }

        if (v.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
        {
            return v;
        }

        if (v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 1 } text && (text[0] == '{' || text[0] == '['))
        {
            try
            {
                using var doc = JsonDocument.Parse(text);
                return doc.RootElement.Clone();
            }
            catch (JsonException)
            {
                return null;
            }
        }

        return null;
    }

    private static IReadOnlyList<DiffRow> JsonChildren(JsonElement? before, JsonElement? after, DiffKind kind)
    {
        var b = Document(before);
        var a = Document(after);
        if (b is null && a is null)
        {
            return [];
        }

        var left = Flatten(b);
        var right = Flatten(a);
        return left.Keys.Concat(right.Keys).Distinct().Select(path =>
        {
            JsonElement? x = left.TryGetValue(path, out var lv) ? lv : null;
            JsonElement? y = right.TryGetValue(path, out var rv) ? rv : null;
            var k = x is null && y is not null ? DiffKind.Added
                : y is null && x is not null ? DiffKind.Removed
                : SameJson(x, y) ? DiffKind.Unchanged : DiffKind.Changed;
            return new DiffRow(path, x, y, kind == DiffKind.Unchanged ? DiffKind.Unchanged : k, false, true, []);
        }).ToList();
    }

    /// <summary>Leaf values by path: <c>Address › City</c>, <c>Items › 0 › Sku</c>.</summary>
    public static Dictionary<string, JsonElement> Flatten(JsonElement? document)
    {
        var leaves = new Dictionary<string, JsonElement>();
        void Walk(JsonElement element, string path)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var p in element.EnumerateObject())
                    {
                        Walk(p.Value, path.Length == 0 ? p.Name : path + " › " + p.Name);
                    }

                    break;
                case JsonValueKind.Array:
                    var i = 0;
                    foreach (var item in element.EnumerateArray())
                    {
                        Walk(item, path.Length == 0 ? $"{i}" : $"{path} › {i}");
                        i++;
                    }

                    break;
                default:
                    leaves[path.Length == 0 ? "(value)" : path] = element.Clone();
                    break;
            }
        }

        if (document is { } d)
        {
            Walk(d, "");
        }

        return leaves;
    }

    /// <summary>The columns an update changed, in capture order (none for other operations, or when the list cannot be read).</summary>
    public static IReadOnlyList<string> ChangedColumns(AuditEntry entry)
    {
        try
        {
            return entry.ChangedColumns is null ? [] : JsonSerializer.Deserialize<List<string>>(entry.ChangedColumns) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private static bool SameJson(JsonElement? a, JsonElement? b) =>
        (a, b) switch
        {
            (null, null) => true,
            ({ } x, { } y) => JsonElement.DeepEquals(x, y),
            _ => false,
        };
}
