using System.Text.Json;
using ComplianceConsole.Core.Auditing;

namespace ComplianceConsole.Core.History;

/// <summary>
/// A record as the trail knows it at one moment: each column's JSON value, and whether the record existed.
/// A column the trail never saw (its insert was captured before capture began, or was purged) is simply absent.
/// </summary>
public sealed record RecordState(IReadOnlyDictionary<string, JsonElement> Columns, bool Exists, long? AsOfSeq)
{
    public static readonly RecordState None = new(new Dictionary<string, JsonElement>(), false, null);

    public JsonElement? this[string column] => Columns.TryGetValue(column, out var value) ? value : null;
}

/// <summary>A record as replayed: each column's raw JSON text, whether it existed, and the entry it stands at.</summary>
public sealed record RawRecordState(IReadOnlyDictionary<string, string> Columns, bool Exists, long? AsOfSeq);

/// <summary>
/// The one state rebuild (ARCHITECTURE.md, "Read side"): replays a record's entries, oldest first, into its state.
/// The entry page, history, as-of, compare, revert and reconciliation all use it.
/// </summary>
public static class RecordHistory
{
    /// <summary>The record after every entry up to and including <paramref name="throughSeq"/>.</summary>
    public static RecordState Replay(IEnumerable<AuditEntry> entries, long throughSeq = long.MaxValue)
    {
        var raw = ReplayRaw(entries, throughSeq);
        if (raw.AsOfSeq is null)
        {
            return RecordState.None;
        }

        var json = new System.Text.StringBuilder("{");
        foreach (var (name, value) in raw.Columns)
        {
            json.Append(json.Length > 1 ? "," : "").Append(JsonSerializer.Serialize(name)).Append(':').Append(value);
        }

        using var doc = JsonDocument.Parse(json.Append('}').ToString());
        var root = doc.RootElement.Clone();
        return new RecordState(root.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal), raw.Exists, raw.AsOfSeq);
    }

    /// <summary>
    /// The replay itself: the same rules as <see cref="Apply"/>, folded in place over each column's raw JSON text, so that
    /// a record with 10,000 versions replays in milliseconds and reconciliation compares text with text
    /// (docs/benchmarks.md, "Record history"). <see cref="Replay"/> parses the result once.
    /// </summary>
    public static RawRecordState ReplayRaw(IEnumerable<AuditEntry> entries, long throughSeq = long.MaxValue)
    {
        var columns = new Dictionary<string, string>(StringComparer.Ordinal);
        var exists = false;
        long? asOf = null;
        foreach (var entry in entries.Where(e => e.Seq <= throughSeq).OrderBy(e => e.Seq))
        {
            switch (entry.Operation)
            {
                case AuditOperations.Insert:
                    columns.Clear();
                    MergeRaw(columns, entry.NewValues);
                    exists = true;
                    break;
                case AuditOperations.Update:
                    MergeRaw(columns, entry.OldValues, onlyMissing: true);
                    MergeRaw(columns, entry.NewValues);
                    exists = true;
                    break;
                case AuditOperations.Delete:
                    MergeRaw(columns, entry.OldValues);
                    exists = false;
                    break;
                case AuditOperations.Event when AuditEventNames.IsSnapshot(entry.EventName) && entry.NewValues is not null:
                    columns.Clear();
                    MergeRaw(columns, entry.NewValues);
                    exists = true;
                    break;
                default:
                    continue;
            }

            asOf = entry.Seq;
        }

        return new RawRecordState(columns, exists, asOf);
    }

    private static void MergeRaw(Dictionary<string, string> columns, string? json, bool onlyMissing = false)
    {
        if (string.IsNullOrEmpty(json))
        {
            return;
        }

        using var doc = JsonDocument.Parse(json);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var property in doc.RootElement.EnumerateObject())
        {
            if (!onlyMissing || !columns.ContainsKey(property.Name))
            {
                columns[property.Name] = property.Value.GetRawText();
            }
        }
    }

    /// <summary>The record as it stood at <paramref name="atUtc"/>: after every entry that occurred at or before it.</summary>
    public static RecordState AsOf(IEnumerable<AuditEntry> entries, DateTime atUtc)
    {
        var state = RecordState.None;
        foreach (var entry in entries.OrderBy(e => e.Seq))
        {
            if (entry.OccurredAtUtc > atUtc)
            {
                break;
            }

            state = Apply(state, entry);
        }

        return state;
    }

    /// <summary>Every version of the record, oldest first: each entry that changed it, with the record just after it.</summary>
    public static IReadOnlyList<(AuditEntry Entry, RecordState After)> Versions(IEnumerable<AuditEntry> entries)
    {
        var versions = new List<(AuditEntry, RecordState)>();
        var state = RecordState.None;
        foreach (var entry in entries.OrderBy(e => e.Seq))
        {
            var next = Apply(state, entry);
            if (!ReferenceEquals(next, state))
            {
                versions.Add((entry, next));
            }

            state = next;
        }

        return versions;
    }

    /// <summary>Whether an entry changes a record's state (a row change or a snapshot; not another event).</summary>
    public static bool Changes(AuditEntry entry) =>
        entry.Operation != AuditOperations.Event || (AuditEventNames.IsSnapshot(entry.EventName) && entry.NewValues is not null);

    /// <summary>The record just before and just after one of its entries.</summary>
    public static (RecordState Before, RecordState After) Around(IReadOnlyList<AuditEntry> entries, long seq)
    {
        var before = Replay(entries, seq - 1);
        var entry = entries.First(e => e.Seq == seq);
        if (entry.Operation is AuditOperations.Update or AuditOperations.Delete)
        {
            // The entry's own old values are the state before it, even where earlier entries are missing.
            var columns = new Dictionary<string, JsonElement>(before.Columns);
            Merge(columns, entry.OldValues, onlyMissing: true);
            before = before with { Columns = columns };
        }

        return (before, Apply(before, entry));
    }

    /// <summary>One entry applied to a state: an insert sets every column, an update the changed ones, a delete ends the record (keeping its last values).</summary>
    public static RecordState Apply(RecordState state, AuditEntry entry)
    {
        var columns = new Dictionary<string, JsonElement>(state.Columns);
        switch (entry.Operation)
        {
            case AuditOperations.Insert:
                columns.Clear();
                Merge(columns, entry.NewValues);
                return new RecordState(columns, true, entry.Seq);
            case AuditOperations.Update:
                Merge(columns, entry.OldValues, onlyMissing: true);
                Merge(columns, entry.NewValues);
                return new RecordState(columns, true, entry.Seq);
            case AuditOperations.Delete:
                Merge(columns, entry.OldValues);
                return new RecordState(columns, false, entry.Seq);
            case AuditOperations.Event when AuditEventNames.IsSnapshot(entry.EventName) && entry.NewValues is not null:
                // A snapshot (the baseline taken when capture began, or a purge's): the whole record as it stood then.
                columns.Clear();
                Merge(columns, entry.NewValues);
                return new RecordState(columns, true, entry.Seq);
            default:
                return state;
        }
    }

    private static void Merge(Dictionary<string, JsonElement> columns, string? json, bool onlyMissing = false)
    {
        if (string.IsNullOrEmpty(json))
        {
            return;
        }

        using var doc = JsonDocument.Parse(json);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var property in doc.RootElement.EnumerateObject())
        {
            if (!onlyMissing || !columns.ContainsKey(property.Name))
            {
                columns[property.Name] = property.Value.Clone();
            }
        }
    }
}
