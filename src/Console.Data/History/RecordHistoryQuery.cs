using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Diff;
using ComplianceConsole.Core.History;
using ComplianceConsole.Core.Query;
using ComplianceConsole.Data.Queries;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace ComplianceConsole.Data.History;

/// <summary>A record of the trail: its table and its stored key as JSON (<c>{"Id":7}</c>).</summary>
public sealed record RecordRef(string Table, string Key);

/// <summary>A table whose rows belong to another record through a foreign key (tag links, signatories, an account's payments).</summary>
public sealed record LinkPlan(string Table, string Column, string ParentKeyColumn);

/// <summary>One column an update changed, with its value on both sides as the entry recorded them.</summary>
public sealed record ColumnChange(string Column, JsonElement? Before, JsonElement? After);

/// <summary>Why a change was made by a revert: the reason given, and the version restored (or the transaction undone).</summary>
public sealed record RevertInfo(string? Reason, long? RestoredSeq, string? Transaction);

/// <summary>One line of a record's timeline: an entry of the record or of one of its link rows (<see cref="Link"/> set).</summary>
public sealed record TimelineItem(AuditEntry Entry, RecordRef? Link, string? LinkLabel, IReadOnlyList<ColumnChange> Changes, RevertInfo? Revert = null);

public sealed record TimelinePage(IReadOnlyList<TimelineItem> Items, long? OlderCursor);

/// <summary>What the history page says about a record before its timeline: its label, whether it exists, how many versions.</summary>
public sealed record RecordOverview(
    RecordRef Record,
    string? Label,
    bool InTrail,
    bool Exists,
    int Versions,
    DateTime? FirstUtc,
    DateTime? LastUtc,
    IReadOnlyList<RecordRef> Links,
    IReadOnlyDictionary<string, string> ColumnNames,
    long? LatestSeq = null);

/// <summary>Another record changed in the same transaction as one of this record's changes.</summary>
public sealed record RelatedRecord(string Table, string Key, string? Label, int Entries, long LatestSeq, DateTime LatestUtc);

/// <summary>
/// The read side of record history: the timeline of a record and its link rows, its state at any moment, the diff
/// between two versions and the records changed alongside it. State is rebuilt by <see cref="RecordHistory"/> only.
/// </summary>
public sealed class RecordHistoryQuery(AuditSearchService search)
{
    public const int PageSize = 50;

    private static readonly JsonSerializerOptions RelaxedJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The most link rows followed per link table; a record with more shows the newest ones and says so.</summary>
    public const int MaxLinks = 2_000;

    /// <summary>Tables whose rows point at <paramref name="table"/> through a one-column foreign key, from the EF model.</summary>
    public static IReadOnlyList<LinkPlan> LinksOf(IModel model, string table)
    {
        var links = new List<LinkPlan>();
        foreach (var entity in model.GetEntityTypes().Where(t => t.GetTableName() is { } name && name != table && !t.IsOwned()))
        {
            foreach (var fk in entity.GetForeignKeys())
            {
                if (fk.PrincipalEntityType.GetTableName() == table && fk.Properties.Count == 1 && fk.PrincipalKey.Properties.Count == 1)
                {
                    var link = new LinkPlan(entity.GetTableName()!, fk.Properties[0].GetColumnName(), fk.PrincipalKey.Properties[0].GetColumnName());
                    if (!links.Contains(link))
                    {
                        links.Add(link);
                    }
                }
            }
        }

        return links;
    }

    /// <summary>
    /// The record a history URL names: <c>/history/Customers/7</c> (a one-column key's value) or the whole key as JSON
    /// (<c>/history/AccountSignatories/{"AccountId":"…","CustomerId":2}</c>). The key column and its type come from the
    /// EF model, or from the trail for a table the model does not map. Null when the key cannot be read.
    /// </summary>
    public static async Task<RecordRef?> ResolveAsync(ConsoleDbContext db, string table, string key, CancellationToken cancellationToken = default)
    {
        key = key.Trim();
        if (key.Length == 0 || table.Length == 0)
        {
            return null;
        }

        if (key.StartsWith('{'))
        {
            try
            {
                using var doc = JsonDocument.Parse(key);
                return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.EnumerateObject().Any() ? new RecordRef(table, key) : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }

        var entity = db.Model.GetEntityTypes().FirstOrDefault(t => t.GetTableName() == table && !t.IsOwned() && t.BaseType is null);
        string? column;
        Type? type = null;
        if (entity?.FindPrimaryKey() is { Properties.Count: 1 } pk)
        {
            column = pk.Properties[0].GetColumnName();
            type = Nullable.GetUnderlyingType(pk.Properties[0].ClrType) ?? pk.Properties[0].ClrType;
        }
        else
        {
            var sample = await db.AuditEntries.AsNoTracking().Where(e => e.TableName == table && e.RecordKey != null).Select(e => e.RecordKey!).FirstOrDefaultAsync(cancellationToken);
            column = sample is null ? null : ParentValue(sample)?.Column;
        }

        if (column is null)
        {
            return null;
        }

        var numeric = type is null ? long.TryParse(key, out _) : type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte);
        if (numeric && !long.TryParse(key, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out _))
        {
            return null;
        }

        if (type == typeof(Guid) && !Guid.TryParse(key, out _))
        {
            return null;
        }

        // GUIDs are stored in upper case (SQLite's text, SQL Server's FOR JSON), whatever case the URL has.
        var value = type == typeof(Guid) ? key.ToUpperInvariant() : key;
        return new RecordRef(table, "{" + JsonSerializer.Serialize(column) + ":" + (numeric ? value : JsonSerializer.Serialize(value, RelaxedJson)) + "}");
    }

    public async Task<RecordOverview> OverviewAsync(ConsoleDbContext db, RecordRef record, bool withLinks = true, CancellationToken cancellationToken = default)
    {
        var own = Own(db, record);
        var count = await own.CountAsync(e => e.Operation != AuditOperations.Event || e.EventName == AuditEventNames.CaptureBaseline || e.EventName == AuditEventNames.RetentionSnapshot, cancellationToken);
        var newest = await own.OrderByDescending(e => e.Seq).FirstOrDefaultAsync(cancellationToken);
        var first = await own.OrderBy(e => e.Seq).Select(e => (DateTime?)e.OccurredAtUtc).FirstOrDefaultAsync(cancellationToken);
        string? label = null;
        if (newest is not null)
        {
            label = (await RecordLabels.For(db.Model).ForAsync(db, [newest], cancellationToken)).GetValueOrDefault(newest.Seq);
        }

        var links = withLinks ? await LinkedRecordsAsync(db, record, includeGone: false, cancellationToken) : [];
        return new RecordOverview(record, label, newest is not null, newest is not null && newest.Operation != AuditOperations.Delete,
            count, first, newest?.OccurredAtUtc, links, EntryDetailsQuery.ColumnNames(db.Model, record.Table), newest?.Seq);
    }

    /// <summary>
    /// The newest changes of the record and its link rows, before <paramref name="beforeSeq"/>: a keyset page over the
    /// (table, record) index, one walk per link table, merged by seq.
    /// </summary>
    public async Task<TimelinePage> TimelineAsync(ConsoleDbContext db, RecordRef record, IReadOnlyList<RecordRef> links, long? beforeSeq = null, int size = PageSize, CancellationToken cancellationToken = default)
    {
        var bound = beforeSeq ?? long.MaxValue;
        var batches = new List<AuditEntry>();
        batches.AddRange(await Own(db, record).Where(e => e.Seq < bound).OrderByDescending(e => e.Seq).Take(size + 1).ToListAsync(cancellationToken));
        foreach (var group in links.GroupBy(l => l.Table))
        {
            var table = group.Key;
            var keys = group.Select(l => l.Key).ToList();
            batches.AddRange(await db.AuditEntries.AsNoTracking()
                .Where(e => e.TableName == table && keys.Contains(e.RecordKey!) && e.Seq < bound)
                .OrderByDescending(e => e.Seq).Take(size + 1).ToListAsync(cancellationToken));
        }

        var page = batches.OrderByDescending(e => e.Seq).Take(size + 1).ToList();
        var more = page.Count > size;
        page = page.Take(size).ToList();
        var labels = await RecordLabels.For(db.Model).ForAsync(db, page.Where(e => e.TableName != record.Table || e.RecordKey != record.Key).ToList(), cancellationToken);
        // A revert's reason and restored version are on its record.reverted event, in the same transaction.
        var revertTransactions = page.Where(e => e.Origin == AuditContext.RevertOrigin && e.TransactionId is not null).Select(e => e.TransactionId!).Distinct().ToList();
        var reverts = revertTransactions.Count == 0 ? [] : (await db.AuditEntries.AsNoTracking()
                .Where(e => e.EventName == AuditEventNames.RecordReverted && revertTransactions.Contains(e.TransactionId!))
                .Select(e => new { e.TransactionId, e.Metadata }).ToListAsync(cancellationToken))
            .GroupBy(e => e.TransactionId!).ToDictionary(g => g.Key, g =>
            {
                var metadata = EventSummary.Metadata(g.First().Metadata);
                return new RevertInfo(metadata.GetValueOrDefault("reason"),
                    long.TryParse(metadata.GetValueOrDefault("restoredSeq"), out var restored) ? restored : null, metadata.GetValueOrDefault("transaction"));
            });
        var items = page.Select(e => new TimelineItem(
            e,
            e.TableName == record.Table && e.RecordKey == record.Key ? null : new RecordRef(e.TableName!, e.RecordKey!),
            labels.GetValueOrDefault(e.Seq),
            Changes(e),
            e.Origin == AuditContext.RevertOrigin && e.TransactionId is { } tx ? reverts.GetValueOrDefault(tx) : null)).ToList();
        return new TimelinePage(items, more ? items[^1].Entry.Seq : null);
    }

    /// <summary>The record as it stood at <paramref name="atUtc"/>, rebuilt from its entries up to then.</summary>
    public async Task<RecordState> AsOfAsync(ConsoleDbContext db, RecordRef record, DateTime atUtc, CancellationToken cancellationToken = default)
    {
        var through = await Own(db, record).Where(e => e.OccurredAtUtc <= atUtc).OrderByDescending(e => e.Seq).Select(e => (long?)e.Seq).FirstOrDefaultAsync(cancellationToken);
        return through is null ? RecordState.None : await StateAtAsync(db, record, through.Value, cancellationToken);
    }

    /// <summary>The record just after its entry <paramref name="seq"/> (or the newest entry before it).</summary>
    public async Task<RecordState> StateAtAsync(ConsoleDbContext db, RecordRef record, long seq, CancellationToken cancellationToken = default)
    {
        var entries = await ReplayableAsync(db, record, seq, cancellationToken);
        return RecordHistory.Replay(entries, seq);
    }

    /// <summary>The record at two versions, and the diff between them (older first, whatever order they are given in).</summary>
    public async Task<(RecordState Older, RecordState Newer, IReadOnlyList<DiffRow> Diff)> CompareAsync(ConsoleDbContext db, RecordRef record, long seqA, long seqB, CancellationToken cancellationToken = default)
    {
        var (low, high) = seqA <= seqB ? (seqA, seqB) : (seqB, seqA);
        var entries = await ReplayableAsync(db, record, low, cancellationToken, through: high);
        var older = RecordHistory.Replay(entries, low);
        var newer = RecordHistory.Replay(entries, high);
        return (older, newer, EntryDiff.Compare(older, newer));
    }

    /// <summary>
    /// Other records changed in the same transactions as the record's latest 200 changes, most recent first; its link
    /// rows are left out (the timeline shows them already). A snapshot (a baseline, or what a retention purge kept) is not
    /// a change: the hundreds of records one purge or one baseline snapshots together are not related by it.
    /// </summary>
    private static IQueryable<AuditEntry> Changes(IQueryable<AuditEntry> entries) =>
        entries.Where(e => e.EventName == null || (e.EventName != AuditEventNames.CaptureBaseline && e.EventName != AuditEventNames.RetentionSnapshot));

    public async Task<IReadOnlyList<RelatedRecord>> RelatedAsync(ConsoleDbContext db, RecordRef record, IReadOnlyList<RecordRef> links, int max = 30, CancellationToken cancellationToken = default)
    {
        var transactions = await Changes(Own(db, record)).Where(e => e.TransactionId != null).OrderByDescending(e => e.Seq).Take(200)
            .Select(e => e.TransactionId!).Distinct().ToListAsync(cancellationToken);
        if (transactions.Count == 0)
        {
            return [];
        }

        var rows = await Changes(db.AuditEntries.AsNoTracking())
            .Where(e => transactions.Contains(e.TransactionId!) && e.TableName != null && e.RecordKey != null && !(e.TableName == record.Table && e.RecordKey == record.Key))
            .OrderByDescending(e => e.Seq).Take(2_000).ToListAsync(cancellationToken);
        var linked = links.ToHashSet();
        var groups = rows.GroupBy(e => (e.TableName!, e.RecordKey!)).Where(g => !linked.Contains(new RecordRef(g.Key.Item1, g.Key.Item2))).Take(max).ToList();
        var labels = await RecordLabels.For(db.Model).ForAsync(db, groups.Select(g => g.First()).ToList(), cancellationToken);
        return groups.Select(g => new RelatedRecord(g.Key.Item1, g.Key.Item2, labels.GetValueOrDefault(g.First().Seq), g.Count(), g.First().Seq, g.First().OccurredAtUtc)).ToList();
    }

    /// <summary>
    /// The link rows of a record: rows of the tables that point at it (<see cref="LinksOf"/>), live ones found through
    /// their foreign key, gone ones through the trail (a composite key that starts with the parent's key, or, with
    /// <paramref name="includeGone"/>, the text index on the parent's key value, checked against the entry's values).
    /// </summary>
    public async Task<IReadOnlyList<RecordRef>> LinkedRecordsAsync(ConsoleDbContext db, RecordRef record, bool includeGone = true, CancellationToken cancellationToken = default)
    {
        var plans = LinksOf(db.Model, record.Table);
        if (plans.Count == 0 || ParentValue(record.Key) is not { } parent)
        {
            return [];
        }

        var found = new List<RecordRef>();
        var policy = Capture.AuditPolicyResolver.Resolve(db.Model, new AuditOptions()); // key columns only: the options do not matter
        foreach (var plan in plans.Where(p => p.ParentKeyColumn == parent.Column))
        {
            var keys = new HashSet<string>(StringComparer.Ordinal);
            if (policy.Find(plan.Table) is { } tablePlan)
            {
                keys.UnionWith(await LiveRow.KeysWhereAsync(db, tablePlan, plan.Column, parent.Value, MaxLinks, cancellationToken));
            }

            // A link table keyed by the parent first (CustomerTags, AccountSignatories): its gone rows by key range.
            var prefix = "{" + JsonSerializer.Serialize(plan.Column) + ":" + parent.Raw;
            var (low, high) = (prefix + ",", prefix + ",\uffff");
            var single = prefix + "}";
            foreach (var key in await db.AuditEntries.AsNoTracking()
                .Where(e => e.TableName == plan.Table && ((string.Compare(e.RecordKey, low) > 0 && string.Compare(e.RecordKey, high) < 0) || e.RecordKey == single))
                .Select(e => e.RecordKey!).Distinct().Take(MaxLinks).ToListAsync(cancellationToken))
            {
                keys.Add(key);
            }

            // Other gone rows: entries of the link table that mention the parent's key, checked column by column. This reads
            // the text index for the key's value, which for a small number is a common word: the page runs it second.
            if (!includeGone)
            {
                found.AddRange(keys.Take(MaxLinks).Select(k => new RecordRef(plan.Table, k)));
                continue;
            }

            var query = new AuditQuery([QueryClause.Of(QueryFields.Table, plan.Table), QueryClause.Of(QueryFields.Text, parent.Text)]);
            var filter = await search.FilterAsync(db, query, TimeRange.All, cancellationToken);
            foreach (var entry in await filter.NewestFirst().Where(e => e.Operation == AuditOperations.Insert || e.Operation == AuditOperations.Delete || e.Operation == AuditOperations.Update)
                .Take(MaxLinks).ToListAsync(cancellationToken))
            {
                if (entry.RecordKey is { } key && (Mentions(entry.NewValues, plan.Column, parent.Raw) || Mentions(entry.OldValues, plan.Column, parent.Raw)))
                {
                    keys.Add(key);
                }
            }

            found.AddRange(keys.Take(MaxLinks).Select(k => new RecordRef(plan.Table, k)));
        }

        return found;
    }

    private static IQueryable<AuditEntry> Own(ConsoleDbContext db, RecordRef record) =>
        db.AuditEntries.AsNoTracking().Where(e => e.TableName == record.Table && e.RecordKey == record.Key);

    /// <summary>
    /// The record's entries that a replay through <paramref name="through"/> (default <paramref name="seq"/>) needs: from its
    /// newest whole-state entry (insert or snapshot) at or before <paramref name="seq"/>, or from its first entry.
    /// </summary>
    private static async Task<List<AuditEntry>> ReplayableAsync(ConsoleDbContext db, RecordRef record, long seq, CancellationToken cancellationToken, long? through = null)
    {
        // A purge's snapshots stand at the seq of the last entry they replace (RecordHistory.InReplayOrder): few per record, read whole.
        var snapshots = (await Own(db, record).Where(e => e.EventName == AuditEventNames.RetentionSnapshot)
                .Select(e => new AuditEntry { Seq = e.Seq, Operation = e.Operation, EventName = e.EventName, NewValues = e.NewValues, Metadata = e.Metadata, OccurredAtUtc = e.OccurredAtUtc, Origin = "" })
                .ToListAsync(cancellationToken))
            .Where(e => RecordHistory.At(e) <= seq).ToList();
        var start = await Own(db, record)
            .Where(e => e.Seq <= seq && (e.Operation == AuditOperations.Insert || e.EventName == AuditEventNames.CaptureBaseline))
            .OrderByDescending(e => e.Seq).Select(e => (long?)e.Seq).FirstOrDefaultAsync(cancellationToken) ?? 0;
        var newestSnapshot = snapshots.Select(RecordHistory.At).DefaultIfEmpty(0).Max();
        start = Math.Max(start, newestSnapshot);
        var end = through ?? seq;
        // Only what the replay reads: a record with thousands of versions loads a fraction of each entry.
        var entries = await Own(db, record).Where(e => e.Seq >= start && e.Seq <= end && e.EventName != AuditEventNames.RetentionSnapshot).OrderBy(e => e.Seq)
            .Select(e => new AuditEntry { Seq = e.Seq, Operation = e.Operation, EventName = e.EventName, OldValues = e.OldValues, NewValues = e.NewValues, OccurredAtUtc = e.OccurredAtUtc, Origin = "" })
            .ToListAsync(cancellationToken);
        entries.AddRange(snapshots.Where(e => RecordHistory.At(e) >= start));
        return [.. RecordHistory.InReplayOrder(entries)];
    }

    /// <summary>What an update changed, column by column, as its entry recorded it; nothing for other entries.</summary>
    public static IReadOnlyList<ColumnChange> Changes(AuditEntry entry)
    {
        if (entry.Operation != AuditOperations.Update)
        {
            return [];
        }

        var old = Parse(entry.OldValues);
        var @new = Parse(entry.NewValues);
        return EntryDiff.ChangedColumns(entry).Select(c => new ColumnChange(c, Get(old, c), Get(@new, c))).ToList();
    }

    /// <summary>A one-column key's column, value, raw JSON and searchable text; null for a composite key.</summary>
    private static (string Column, JsonElement Value, string Raw, string Text)? ParentValue(string key)
    {
        try
        {
            using var doc = JsonDocument.Parse(key);
            var properties = doc.RootElement.EnumerateObject().ToList();
            if (properties.Count != 1 || properties[0].Value.ValueKind is not (JsonValueKind.Number or JsonValueKind.String))
            {
                return null;
            }

            var value = properties[0].Value.Clone();
            return (properties[0].Name, value, value.GetRawText(), value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText());
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool Mentions(string? json, string column, string raw) =>
        Parse(json) is { } values && Get(values, column) is { } v && v.GetRawText() == raw;

    private static JsonElement? Get(JsonElement? values, string column) =>
        values is { ValueKind: JsonValueKind.Object } v && v.TryGetProperty(column, out var p) ? p : null;

    private static JsonElement? Parse(string? json) => RecordLabels.Parse(json);
}
