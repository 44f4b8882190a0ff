using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Query;
using ComplianceConsole.Data.Rollups;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Queries;

/// <summary>One page of a search, newest first, with the keyset cursors to the pages around it.</summary>
public sealed record AuditPage(IReadOnlyList<AuditEntry> Items, bool HasNewer, bool HasOlder, IReadOnlyList<string> Notes)
{
    /// <summary>The cursor of the next (older) page: <c>before=</c> this seq.</summary>
    public long? OlderCursor => HasOlder && Items.Count > 0 ? Items[^1].Seq : null;

    /// <summary>The cursor of the previous (newer) page: <c>after=</c> this seq.</summary>
    public long? NewerCursor => HasNewer && Items.Count > 0 ? Items[0].Seq : null;
}

/// <summary>A count that stops at a bound: "10,000+" rather than a slow count of everything.</summary>
public sealed record BoundedCount(int Value, bool AtLeast)
{
    public override string ToString() => AtLeast ? $"{Value:N0}+" : Value.ToString("N0");
}

public sealed record HistogramBar(DateTime StartUtc, IReadOnlyDictionary<string, int> ByOperation)
{
    public int Total => ByOperation.Values.Sum();
}

/// <summary>Entries over time, stacked by operation, in bars of <see cref="BarSize"/> from <see cref="FromUtc"/> to <see cref="ToUtc"/>.</summary>
public sealed record AuditHistogram(DateTime FromUtc, DateTime ToUtc, TimeSpan BarSize, IReadOnlyList<HistogramBar> Bars)
{
    public int Total => Bars.Sum(b => b.Total);
}

/// <summary>
/// A search's entries, as queries over the store. With free text, one text clause drives the read: its matches come from
/// the text index (<see cref="AuditTextIndex"/>) newest first and are joined to the entries by seq, so the newest page
/// stops after a page of hits instead of collecting every match of a common word first. Every reader that orders or pages uses
/// <see cref="NewestFirst"/> and <see cref="OldestFirst"/>, which keep that order.
/// </summary>
public sealed class AuditFilter(IQueryable<AuditEntry> entries, IQueryable<long>? textMatches, List<string> notes, AuditQuery query, AuditVocabularySnapshot vocabulary)
{
    /// <summary>Names that matched nothing, a lagging text index: what the page says above the results.</summary>
    public List<string> Notes => notes;

    /// <summary>The whole query, text clauses included.</summary>
    public AuditQuery Query => query;

    /// <summary>The trail's names the query was resolved against (also what the query bar suggests).</summary>
    public AuditVocabularySnapshot Vocabulary => vocabulary;

    /// <summary>Every matching entry, in no particular order (counts, histograms, exports that sort on their own).</summary>
    public IQueryable<AuditEntry> Entries => textMatches is null ? entries : from seq in textMatches join e in entries on seq equals e.Seq select e;

    /// <summary>Matching entries with a seq strictly between the bounds, newest first.</summary>
    public IQueryable<AuditEntry> NewestFirst(long? before = null, long? after = null)
    {
        if (textMatches is null)
        {
            return Bounded(entries, before, after).OrderByDescending(e => e.Seq);
        }

        return from seq in Bounded(textMatches, before, after) join e in entries on seq equals e.Seq orderby seq descending select e;
    }

    /// <summary>Matching entries with a seq above <paramref name="after"/>, oldest first.</summary>
    public IQueryable<AuditEntry> OldestFirst(long after)
    {
        if (textMatches is null)
        {
            return entries.Where(e => e.Seq > after).OrderBy(e => e.Seq);
        }

        return from seq in textMatches where seq > after join e in entries on seq equals e.Seq orderby seq select e;
    }

    private static IQueryable<AuditEntry> Bounded(IQueryable<AuditEntry> q, long? before, long? after) =>
        (before, after) switch
        {
            ({ } b, { } a) => q.Where(e => e.Seq < b && e.Seq > a),
            ({ } b, null) => q.Where(e => e.Seq < b),
            (null, { } a) => q.Where(e => e.Seq > a),
            _ => q,
        };

    private static IQueryable<long> Bounded(IQueryable<long> q, long? before, long? after) =>
        (before, after) switch
        {
            ({ } b, { } a) => q.Where(s => s < b && s > a),
            ({ } b, null) => q.Where(s => s < b),
            (null, { } a) => q.Where(s => s > a),
            _ => q,
        };
}

/// <summary>
/// The audit browser's reads: a keyset page, a bounded count and a histogram, all over the same filter
/// (<see cref="AuditFilterTranslator"/>). Page 10,000 costs what page 1 costs: a page starts at a seq, never at an offset.
/// </summary>
public sealed class AuditSearchService(AuditVocabulary vocabulary, TimeProvider clock)
{
    public const int DefaultCountBound = 10_000;

    /// <summary>An origin pattern with at least this many entries is "broad": scanning newest first finds a page sooner than the index.</summary>
    private const int BroadPattern = 20_000;

    private static readonly TimeSpan[] BarSizes =
    [
        TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(30), TimeSpan.FromHours(1),
        TimeSpan.FromHours(3), TimeSpan.FromHours(6), TimeSpan.FromHours(12), TimeSpan.FromDays(1), TimeSpan.FromDays(7), TimeSpan.FromDays(30),
    ];

    public AuditVocabulary Vocabulary => vocabulary;

    public DateTime NowUtc => clock.GetUtcNow().UtcDateTime;

    /// <summary>The search's entries (<see cref="AuditFilter"/>), with notes on names that matched nothing.</summary>
    public async Task<AuditFilter> FilterAsync(ConsoleDbContext db, AuditQuery query, TimeRange range, CancellationToken cancellationToken = default)
    {
        var whole = query;
        var notes = new List<string>();
        var words = await vocabulary.CurrentAsync(db, cancellationToken);
        Func<string, IQueryable<long>> fullText = text => AuditTextIndex.Matching(db, text);
        IQueryable<long>? driving = null;
        if (query.Clauses.Any(c => c.IsText))
        {
            await AuditTextIndex.CatchUpAsync(db, AuditTextIndex.SearchCatchUp, cancellationToken);
            if (await AuditTextIndex.LagAsync(db, cancellationToken) is var lag and > 0)
            {
                notes.Add($"The text index is {lag:N0} entries behind the chain: free text does not find the newest {lag:N0} entries yet. It catches up in the background; search again in a minute.");
            }

            if (query.Clauses.FirstOrDefault(c => c.IsText && !c.Negated && c.Values.Count == 1) is { } drives)
            {
                driving = fullText(drives.Values[0]);
                query = query.Without(drives);
            }
        }

        // Origin patterns: a bounded count through the index tells a broad pattern from a narrow one (see the translator).
        var broad = new HashSet<string>(StringComparer.Ordinal);
        if (db.Database.IsSqlite())
        {
            foreach (var pattern in query.For(QueryFields.Origin).SelectMany(c => c.Values).Where(v => v.Contains('*')))
            {
                var glob = AuditFilterTranslator.Glob(pattern);
                if (await db.AuditEntries.Where(e => EF.Functions.Glob(e.Origin, glob)).Select(e => e.Seq).Take(BroadPattern).CountAsync(cancellationToken) == BroadPattern)
                {
                    broad.Add(pattern);
                }
            }
        }

        var entries = AuditFilterTranslator.Apply(db.AuditEntries.AsNoTracking(), query, range, NowUtc, words, notes, fullText, db.Database.IsSqlite(), broad);
        return new AuditFilter(entries, driving, notes, whole, words);
    }

    public async Task<AuditPage> PageAsync(ConsoleDbContext db, AuditSearch search, int pageSize, CancellationToken cancellationToken = default) =>
        await PageAsync(await FilterAsync(db, search.Query, search.Range, cancellationToken), search, pageSize, cancellationToken);

    /// <summary>The page at the search's cursor, read through a filter made once for the search (page, count and histogram share it).</summary>
    public static async Task<AuditPage> PageAsync(AuditFilter filter, AuditSearch search, int pageSize, CancellationToken cancellationToken = default)
    {
        pageSize = Math.Clamp(pageSize, 1, 500);
        if (search.After is { } after)
        {
            var newer = await filter.OldestFirst(after).Take(pageSize + 1).ToListAsync(cancellationToken);
            if (newer.Count > pageSize)
            {
                newer.RemoveAt(newer.Count - 1);
                newer.Reverse();
                return new AuditPage(newer, HasNewer: true, HasOlder: true, filter.Notes);
            }

            // Fewer than a page above: this is the newest page.
            search = search with { After = null, Before = null };
        }

        var items = await filter.NewestFirst(search.Before).Take(pageSize + 1).ToListAsync(cancellationToken);
        var hasOlder = items.Count > pageSize;
        if (hasOlder)
        {
            items.RemoveAt(items.Count - 1);
        }

        var hasNewer = search.Before is { } b && await filter.OldestFirst(b - 1).AnyAsync(cancellationToken);
        return new AuditPage(items, hasNewer, hasOlder, filter.Notes);
    }

    /// <summary>Entries of the search sealed after <paramref name="newestSeq"/>, newest first (live tail).</summary>
    public async Task<List<AuditEntry>> NewerThanAsync(ConsoleDbContext db, AuditSearch search, long newestSeq, int max, CancellationToken cancellationToken = default)
    {
        var filter = await FilterAsync(db, search.Query, search.Range, cancellationToken);
        return await filter.NewestFirst(after: newestSeq).Take(max).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// "Jump to": a seq puts that entry at the top of the page; a time (read in <paramref name="zone"/>) puts the newest entry of
    /// the search at or before it there. Returns the search to show, or a message saying why it cannot.
    /// </summary>
    public async Task<(AuditSearch? Search, string? Problem)> JumpAsync(ConsoleDbContext db, AuditSearch search, string? text, TimeZoneInfo zone, CancellationToken cancellationToken = default)
    {
        var value = text?.Trim() ?? "";
        if (long.TryParse(value, out var seq) && seq > 0)
        {
            return (search with { After = null, Before = seq + 1 }, null);
        }

        if (!TimeFormat.TryParse(value, zone, out var utc))
        {
            return (null, $"\"{AuditSearch.Clip(value)}\" is neither a seq nor a time. Write a seq such as 1200, or a time such as 2026-11-30 12:00.");
        }

        var filter = await FilterAsync(db, search.Query, TimeRange.Between(null, utc.AddTicks(1)), cancellationToken);
        var at = await filter.NewestFirst().Select(e => (long?)e.Seq).FirstOrDefaultAsync(cancellationToken);
        return at is { } found
            ? (search with { Range = TimeRange.All, After = null, Before = found + 1 }, null)
            : (null, $"No entry of this search at or before {TimeFormat.Format(utc, zone)}.");
    }

    /// <summary>How many entries match, counted up to <paramref name="bound"/>.</summary>
    public async Task<BoundedCount> CountAsync(ConsoleDbContext db, AuditSearch search, int bound = DefaultCountBound, CancellationToken cancellationToken = default) =>
        await CountAsync(await FilterAsync(db, search.Query, search.Range, cancellationToken), bound, cancellationToken);

    public static async Task<BoundedCount> CountAsync(AuditFilter filter, int bound = DefaultCountBound, CancellationToken cancellationToken = default)
    {
        // Newest first, as the page reads: the matches of a common word are counted from the top of the index, not the oldest.
        var count = await filter.NewestFirst().Select(e => e.Seq).Take(bound + 1).CountAsync(cancellationToken);
        return count > bound ? new BoundedCount(bound, true) : new BoundedCount(count, false);
    }

    /// <summary>
    /// Matching entries per bar of time and operation, over the search's range (for "all": from the first entry). With bars
    /// of an hour or more and a filter the rollups count by, whole hours come from the hourly rollups
    /// (<see cref="AuditRollups"/>) up to their mark; the entries above the mark and the part-hours at the range's ends are
    /// counted from the trail itself, so the figure is exact however far the rollups lag.
    /// </summary>
    public async Task<AuditHistogram> HistogramAsync(ConsoleDbContext db, AuditSearch search, int maxBars = 120, bool useRollups = true, CancellationToken cancellationToken = default) =>
        await HistogramAsync(db, await FilterAsync(db, search.Query, search.Range, cancellationToken), search.Range, maxBars, useRollups, cancellationToken);

    /// <summary>The histogram of a filter made for <paramref name="range"/> on <paramref name="db"/>.</summary>
    public async Task<AuditHistogram> HistogramAsync(ConsoleDbContext db, AuditFilter filter, TimeRange range, int maxBars = 120, bool useRollups = true, CancellationToken cancellationToken = default)
    {
        var now = NowUtc;
        var (from, to) = range.Resolve(now);
        var end = to ?? now;
        var start = from ?? await db.AuditEntries.MinAsync(e => (DateTime?)e.OccurredAtUtc, cancellationToken) ?? end.AddHours(-1);
        var size = BarSizes.FirstOrDefault(s => (end - start) / s <= maxBars, BarSizes[^1]);
        var origin = Floor(start, size);
        var cells = await AuditCounts.CountAsync(db, filter, from, to, CountBy.Operation, new CountBars(origin, size), useRollups, cancellationToken);
        var count = (int)Math.Floor((end - origin) / size) + 1; // the bar holding "now" too
        var byBar = cells.ToLookup(c => c.Bar);
        var bars = Enumerable.Range(0, Math.Max(count, 1))
            .Select(i => new HistogramBar(origin + size * i, byBar[i].ToDictionary(c => c.Operation, c => (int)c.Count)))
            .ToList();
        return new AuditHistogram(start, end, size, bars);
    }

    private static DateTime Floor(DateTime utc, TimeSpan size)
    {
        if (size >= TimeSpan.FromDays(1))
        {
            return DateTime.SpecifyKind(utc.Date, DateTimeKind.Utc);
        }

        return new DateTime(utc.Ticks - utc.Ticks % size.Ticks, DateTimeKind.Utc);
    }
}
