using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Query;
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

    /// <summary>The filtered entries, unordered, with notes on names that matched nothing.</summary>
    public async Task<(IQueryable<AuditEntry> Entries, List<string> Notes)> FilterAsync(ConsoleDbContext db, AuditQuery query, TimeRange range, CancellationToken cancellationToken = default)
    {
        var notes = new List<string>();
        var words = await vocabulary.CurrentAsync(db, cancellationToken);
        Func<string, IQueryable<long>>? fullText = null;
        if (query.Clauses.Any(c => c.IsText) && AuditTextIndex.IsAvailable(db))
        {
            await AuditTextIndex.CatchUpAsync(db, AuditTextIndex.SearchCatchUp, cancellationToken);
            if (await AuditTextIndex.LagAsync(db, cancellationToken) is var lag and > 0)
            {
                notes.Add($"The text index is {lag:N0} entries behind the chain: free text does not find the newest {lag:N0} entries yet. It catches up in the background; search again in a minute.");
            }

            fullText = text => AuditTextIndex.Matching(db, text);
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

        return (AuditFilterTranslator.Apply(db.AuditEntries.AsNoTracking(), query, range, NowUtc, words, notes, fullText, db.Database.IsSqlite(), broad), notes);
    }

    public async Task<AuditPage> PageAsync(ConsoleDbContext db, AuditSearch search, int pageSize, CancellationToken cancellationToken = default)
    {
        pageSize = Math.Clamp(pageSize, 1, 500);
        var (entries, notes) = await FilterAsync(db, search.Query, search.Range, cancellationToken);
        if (search.After is { } after)
        {
            var newer = await entries.Where(e => e.Seq > after).OrderBy(e => e.Seq).Take(pageSize + 1).ToListAsync(cancellationToken);
            if (newer.Count > pageSize)
            {
                newer.RemoveAt(newer.Count - 1);
                newer.Reverse();
                return new AuditPage(newer, HasNewer: true, HasOlder: true, notes);
            }

            // Fewer than a page above: this is the newest page.
            search = search with { After = null, Before = null };
        }

        var page = search.Before is { } before ? entries.Where(e => e.Seq < before) : entries;
        var items = await page.OrderByDescending(e => e.Seq).Take(pageSize + 1).ToListAsync(cancellationToken);
        var hasOlder = items.Count > pageSize;
        if (hasOlder)
        {
            items.RemoveAt(items.Count - 1);
        }

        var hasNewer = search.Before is { } b && await entries.AnyAsync(e => e.Seq >= b, cancellationToken);
        return new AuditPage(items, hasNewer, hasOlder, notes);
    }

    /// <summary>Entries of the search sealed after <paramref name="newestSeq"/>, newest first (live tail).</summary>
    public async Task<List<AuditEntry>> NewerThanAsync(ConsoleDbContext db, AuditSearch search, long newestSeq, int max, CancellationToken cancellationToken = default)
    {
        var (entries, _) = await FilterAsync(db, search.Query, search.Range, cancellationToken);
        return await entries.Where(e => e.Seq > newestSeq).OrderByDescending(e => e.Seq).Take(max).ToListAsync(cancellationToken);
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

        var (entries, _) = await FilterAsync(db, search.Query, TimeRange.Between(null, utc.AddTicks(1)), cancellationToken);
        var at = await entries.OrderByDescending(e => e.Seq).Select(e => (long?)e.Seq).FirstOrDefaultAsync(cancellationToken);
        return at is { } found
            ? (search with { Range = TimeRange.All, After = null, Before = found + 1 }, null)
            : (null, $"No entry of this search at or before {TimeFormat.Format(utc, zone)}.");
    }

    /// <summary>How many entries match, counted up to <paramref name="bound"/>.</summary>
    public async Task<BoundedCount> CountAsync(ConsoleDbContext db, AuditSearch search, int bound = DefaultCountBound, CancellationToken cancellationToken = default)
    {
        var (entries, _) = await FilterAsync(db, search.Query, search.Range, cancellationToken);
        var count = await entries.Select(e => e.Seq).Take(bound + 1).CountAsync(cancellationToken);
        return count > bound ? new BoundedCount(bound, true) : new BoundedCount(count, false);
    }

    /// <summary>Matching entries per bar of time and operation, over the search's range (for "all": from the first entry).</summary>
    public async Task<AuditHistogram> HistogramAsync(ConsoleDbContext db, AuditSearch search, int maxBars = 120, CancellationToken cancellationToken = default)
    {
        var now = NowUtc;
        var (from, to) = search.Range.Resolve(now);
        var end = to ?? now;
        var start = from ?? await db.AuditEntries.MinAsync(e => (DateTime?)e.OccurredAtUtc, cancellationToken) ?? end.AddHours(-1);
        var size = BarSizes.FirstOrDefault(s => (end - start) / s <= maxBars, BarSizes[^1]);
        var origin = Floor(start, size);
        var seconds = (long)size.TotalSeconds;
        var originEpoch = new DateTimeOffset(origin, TimeSpan.Zero).ToUnixTimeSeconds();

        var (entries, _) = await FilterAsync(db, search.Query, search.Range, cancellationToken);
        var rows = await entries
            .GroupBy(e => new { Bar = (AuditDbFunctions.EpochSeconds(e.OccurredAtUtc) - originEpoch) / seconds, e.Operation })
            .Select(g => new { g.Key.Bar, g.Key.Operation, Count = g.Count() })
            .ToListAsync(cancellationToken);

        var count = (int)Math.Floor((end - origin) / size) + 1; // the bar holding "now" too
        var bars = Enumerable.Range(0, Math.Max(count, 1))
            .Select(i => new HistogramBar(origin + size * i, rows.Where(r => r.Bar == i).ToDictionary(r => r.Operation, r => r.Count)))
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
