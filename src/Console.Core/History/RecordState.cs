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
/// The entry page, history, as-of, compare, revert and reconciliation all use it. Every method folds entries with
/// <see cref="Fold"/>, over each column's raw JSON text, and parses the result once: a record with 10,000 versions
/// replays in milliseconds, and reconciliation compares text with text (docs/benchmarks.md, "Record history").
/// </summary>
public static class RecordHistory
{
    /// <summary>The record after every entry up to and including <paramref name="throughSeq"/>.</summary>
    public static RecordState Replay(IEnumerable<AuditEntry> entries, long throughSeq = long.MaxValue) => Build(ReplayRaw(entries, throughSeq));

    /// <summary>The replay without the final parse: each column's raw JSON text.</summary>
    public static RawRecordState ReplayRaw(IEnumerable<AuditEntry> entries, long throughSeq = long.MaxValue)
    {
        var columns = new Dictionary<string, string>(StringComparer.Ordinal);
        var exists = false;
        long? asOf = null;
        foreach (var entry in InReplayOrder(entries).Where(e => At(e) <= throughSeq))
        {
            if (Fold(columns, ref exists, entry))
            {
                asOf = entry.Seq;
            }
        }

        return new RawRecordState(columns, exists, asOf);
    }

    /// <summary>The record as it stood at <paramref name="atUtc"/>: after every entry that occurred at or before it.</summary>
    public static RecordState AsOf(IEnumerable<AuditEntry> entries, DateTime atUtc) =>
        Replay(InReplayOrder(entries).TakeWhile(e => e.OccurredAtUtc <= atUtc || IsRetentionSnapshot(e)));

    /// <summary>Every version of the record, oldest first: each entry that changed it, with the record just after it.</summary>
    public static IReadOnlyList<(AuditEntry Entry, RecordState After)> Versions(IEnumerable<AuditEntry> entries)
    {
        var versions = new List<(AuditEntry, RecordState)>();
        var columns = new Dictionary<string, string>(StringComparer.Ordinal);
        var exists = false;
        foreach (var entry in InReplayOrder(entries))
        {
            if (Fold(columns, ref exists, entry))
            {
                versions.Add((entry, Build(new RawRecordState(columns, exists, entry.Seq))));
            }
        }

        return versions;
    }

    /// <summary>
    /// Entries in the order a replay takes them: by seq, except a retention purge's snapshot, which stands for the record
    /// as it was just after the last entry the purge removed (its <c>atSeq</c>), and so goes there, before any later entry
    /// of the record that stayed in the store.
    /// </summary>
    public static IEnumerable<AuditEntry> InReplayOrder(IEnumerable<AuditEntry> entries) =>
        entries.OrderBy(At).ThenBy(e => IsRetentionSnapshot(e) ? 1 : 0);

    /// <summary>The seq an entry stands at in a replay: its own, or a purge snapshot's <c>atSeq</c>.</summary>
    public static long At(AuditEntry entry) =>
        IsRetentionSnapshot(entry) && SnapshotAt(entry.Metadata) is { } at ? at : entry.Seq;

    private static bool IsRetentionSnapshot(AuditEntry entry) => entry.EventName == AuditEventNames.RetentionSnapshot;

    private static long? SnapshotAt(string? metadata)
    {
        if (string.IsNullOrEmpty(metadata))
        {
            return null;
        }

        using var doc = JsonDocument.Parse(metadata);
        return doc.RootElement.TryGetProperty("atSeq", out var at) && long.TryParse(at.GetString(), System.Globalization.CultureInfo.InvariantCulture, out var seq) ? seq : null;
    }

    /// <summary>Whether an entry changes a record's state (a row change or a snapshot; not another event).</summary>
    public static bool Changes(AuditEntry entry) =>
        entry.Operation != AuditOperations.Event || (AuditEventNames.IsSnapshot(entry.EventName) && entry.NewValues is not null);

    /// <summary>The record just before and just after one of its entries.</summary>
    public static (RecordState Before, RecordState After) Around(IReadOnlyList<AuditEntry> entries, long seq)
    {
        var raw = ReplayRaw(entries, seq - 1);
        var columns = new Dictionary<string, string>(raw.Columns, StringComparer.Ordinal);
        var entry = entries.First(e => e.Seq == seq);
        if (entry.Operation is AuditOperations.Update or AuditOperations.Delete)
        {
            // The entry's own old values are the state before it, even where earlier entries are missing.
            MergeRaw(columns, entry.OldValues, onlyMissing: true);
        }

        var before = Build(new RawRecordState(columns, raw.Exists, raw.AsOfSeq));
        var exists = raw.Exists;
        return (before, Fold(columns, ref exists, entry) ? Build(new RawRecordState(columns, exists, entry.Seq)) : before);
    }

    /// <summary>One entry applied to a state: an insert sets every column, an update the changed ones, a delete ends the record (keeping its last values).</summary>
    public static RecordState Apply(RecordState state, AuditEntry entry)
    {
        var columns = state.Columns.ToDictionary(c => c.Key, c => c.Value.GetRawText(), StringComparer.Ordinal);
        var exists = state.Exists;
        return Fold(columns, ref exists, entry) ? Build(new RawRecordState(columns, exists, entry.Seq)) : state;
    }

    /// <summary>
    /// The rules, in one place: an insert or a snapshot (a baseline, a purge's) sets every column; an update takes the
    /// changed ones, and fills in from its old values the columns not seen yet; a delete ends the record, keeping its
    /// last values. Other events change nothing (returns false).
    /// </summary>
    public static bool Fold(Dictionary<string, string> columns, ref bool exists, AuditEntry entry)
    {
        switch (entry.Operation)
        {
            case AuditOperations.Insert:
                columns.Clear();
                MergeRaw(columns, entry.NewValues);
                exists = true;
                return true;
            case AuditOperations.Update:
                MergeRaw(columns, entry.OldValues, onlyMissing: true);
                MergeRaw(columns, entry.NewValues);
                exists = true;
                return true;
            case AuditOperations.Delete:
                MergeRaw(columns, entry.OldValues);
                exists = false;
                return true;
            case AuditOperations.Event when AuditEventNames.IsSnapshot(entry.EventName) && entry.NewValues is not null:
                columns.Clear();
                MergeRaw(columns, entry.NewValues);
                exists = true;
                return true;
            default:
                return false;
        }
    }

    /// <summary>The parsed state: the raw columns as one JSON object, parsed once.</summary>
    private static RecordState Build(RawRecordState raw)
    {
        if (raw.AsOfSeq is null && raw.Columns.Count == 0)
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
}
