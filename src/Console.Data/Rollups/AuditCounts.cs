using System.Linq.Expressions;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Query;
using ComplianceConsole.Data.Queries;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Rollups;

/// <summary>What a count is split by, besides the operation.</summary>
public enum CountBy
{
    /// <summary>Only the operation (and the bar, with bars).</summary>
    Operation,
    Actor,
    Table,

    /// <summary>The entry's target (an event's subject, such as the account of a failed sign-in). Read from the entries.</summary>
    Target,

    /// <summary>The client IP address. Read from the entries.</summary>
    Ip,
}

/// <summary>Bars of time: bar 0 starts at <see cref="OriginUtc"/>, each is <see cref="Size"/> long.</summary>
public sealed record CountBars(DateTime OriginUtc, TimeSpan Size);

/// <summary>One cell of a count: entries in a bar (0 without bars), of a key (the actor, table, …; "" for none) and an operation (a caller may rename it to its series).</summary>
public sealed record CountCell(long Bar, string Key, string Operation, long Count);

/// <summary>
/// Exact counts of a filter's entries over a time range, split by one dimension and the operation, and by bars of time.
/// Whole days come from the per-actor daily rows (when the split or the filter is by actor), whole hours from the hourly
/// rows, both only up to the rollups' mark; the part-hours at the range's ends and every entry above the mark are counted
/// from the trail itself. So a figure is exact however far the rollups lag, and a year costs what a few hundred thousand
/// rollup rows cost. The histogram, the dashboard and the findings all count through here.
/// </summary>
public static class AuditCounts
{
    private sealed class Key
    {
        public long Bar { get; init; }
        public string Name { get; init; } = "";
        public string Operation { get; init; } = "";
    }

    /// <param name="fromUtc">Inclusive; null: from the first entry.</param>
    /// <param name="toUtc">Exclusive; null: no end.</param>
    public static async Task<List<CountCell>> CountAsync(ConsoleDbContext db, AuditFilter filter, DateTime? fromUtc, DateTime? toUtc, CountBy by, CountBars? bars = null,
        bool useRollups = true, CancellationToken cancellationToken = default)
    {
        var counts = new Dictionary<(long, string, string), long>();
        var originEpoch = bars is null ? 0 : Epoch(bars.OriginUtc);
        var seconds = bars is null ? 0 : (long)bars.Size.TotalSeconds;
        var byActor = by == CountBy.Actor || filter.Query.For(QueryFields.Actor).Any();

        async Task AddAsync(IQueryable<CountCell> cells)
        {
            foreach (var c in await cells.ToListAsync(cancellationToken))
            {
                counts[(c.Bar, c.Key, c.Operation)] = counts.GetValueOrDefault((c.Bar, c.Key, c.Operation)) + c.Count;
            }
        }

        // The filter's entries within [after, before), above a seq. A narrow part (an hour at an end of the range, the few
        // entries above the mark) is marked selective, so the planner reads it through its own index.
        Task EntriesAsync(DateTime? after = null, DateTime? before = null, long aboveSeq = 0, bool narrow = false)
        {
            var entries = filter.Entries;
            if (after is { } a)
            {
                entries = narrow ? entries.Where(e => AuditDbFunctions.Selective(e.OccurredAtUtc >= a)) : entries.Where(e => e.OccurredAtUtc >= a);
            }

            if (before is { } b)
            {
                entries = narrow ? entries.Where(e => AuditDbFunctions.Selective(e.OccurredAtUtc < b)) : entries.Where(e => e.OccurredAtUtc < b);
            }

            if (aboveSeq > 0)
            {
                entries = entries.Where(e => AuditDbFunctions.Selective(e.Seq > aboveSeq));
            }

            Expression<Func<AuditEntry, long>>? bar = bars is null ? null : e => (AuditDbFunctions.EpochSeconds(e.OccurredAtUtc) - originEpoch) / seconds;
            Expression<Func<AuditEntry, string>>? name = by switch
            {
                CountBy.Actor => e => e.ActorName ?? "",
                CountBy.Table => e => e.TableName ?? "",
                CountBy.Target => e => e.Target ?? "",
                CountBy.Ip => e => e.IpAddress ?? "",
                _ => null,
            };
            return AddAsync(entries.GroupBy(KeyOf(bar, name)).Select(g => new CountCell(g.Key.Bar, g.Key.Name, g.Key.Operation, g.LongCount())));
        }

        var rollable = useRollups && by is not (CountBy.Target or CountBy.Ip) && AuditFilterTranslator.FitsRollups(filter.Query)
            && (bars is null || (bars.Size >= TimeSpan.FromHours(1) && bars.Size.Ticks % TimeSpan.TicksPerHour == 0 && originEpoch % 3600 == 0));
        var through = rollable ? await AuditRollups.ThroughAsync(db, cancellationToken) : 0;
        if (through == 0)
        {
            await EntriesAsync(fromUtc, toUtc);
            return Cells(counts);
        }

        // Whole hours inside the range: [firstHour, endHour); of them, whole days [firstDay, endDay) when the daily rows serve.
        long? firstHour = fromUtc is { } f ? (Epoch(f) + 3599) / 3600 : null;
        long? endHour = toUtc is { } t ? Epoch(t) / 3600 : null;
        if (firstHour is { } lo0 && endHour is { } hi0 && hi0 < lo0)
        {
            endHour = firstHour; // a range inside one hour: no whole hour
        }

        var days = byActor && (bars is null || (bars.Size.Ticks % TimeSpan.TicksPerDay == 0 && originEpoch % 86400 == 0));
        long? firstDay = days ? (firstHour is { } fh ? (fh + 23) / 24 * 24 : null) : null;
        long? endDay = days ? (endHour is { } eh ? eh / 24 * 24 : null) : null;
        if (days && firstDay is { } d0 && endDay is { } d1 && d1 <= d0)
        {
            days = false; // no whole day
        }

        var notes = new List<string>(); // the filter said them already
        if (days)
        {
            await RollupAsync(db.AuditActorDayCounts, firstDay, endDay);
            if (firstHour is { } lo && firstDay is { } dayLo && dayLo > lo)
            {
                await RollupAsync(db.AuditActorHourCounts, lo, dayLo);
            }

            if (endHour is { } hi && endDay is { } dayHi && dayHi < hi)
            {
                await RollupAsync(db.AuditActorHourCounts, dayHi, hi);
            }
        }
        else if (byActor)
        {
            await RollupAsync(db.AuditActorHourCounts, firstHour, endHour);
        }
        else
        {
            await RollupAsync(db.AuditHourCounts, firstHour, endHour);
        }

        DateTime? Time(long? hour) => hour is { } h ? DateTime.UnixEpoch.AddHours(h) : null;
        if (fromUtc is { } rangeStart && Time(firstHour)!.Value > rangeStart)
        {
            await EntriesAsync(rangeStart, Time(firstHour), narrow: true);
        }

        if (toUtc is { } rangeEnd && Time(endHour)!.Value < rangeEnd)
        {
            await EntriesAsync(Time(endHour), rangeEnd, narrow: true);
        }

        await EntriesAsync(Time(firstHour), Time(endHour), aboveSeq: through);
        return Cells(counts);

        Task RollupAsync<T>(IQueryable<T> rows, long? fromHour, long? toHour) where T : class, IAuditCountRow
        {
            rows = AuditFilterTranslator.ApplyToRollup(rows.AsNoTracking(), filter.Query, filter.Vocabulary, notes);
            if (fromHour is { } a)
            {
                rows = rows.Where(r => r.Hour >= a);
            }

            if (toHour is { } b)
            {
                rows = rows.Where(r => r.Hour < b);
            }

            Expression<Func<T, long>>? bar = bars is null ? null : r => (r.Hour * 3600 - originEpoch) / seconds;
            Expression<Func<T, string>>? name = by switch
            {
                CountBy.Actor => ActorOf<T>(),
                CountBy.Table => r => r.TableName,
                _ => null,
            };
            return AddAsync(rows.GroupBy(KeyOf(bar, name)).Select(g => new CountCell(g.Key.Bar, g.Key.Name, g.Key.Operation, g.Sum(r => r.Count))));
        }
    }

    private static List<CountCell> Cells(Dictionary<(long Bar, string Key, string Operation), long> counts) =>
        counts.Where(c => c.Value != 0).Select(c => new CountCell(c.Key.Bar, c.Key.Key, c.Key.Operation, c.Value)).ToList();

    private static Expression<Func<T, string>> ActorOf<T>()
    {
        var row = Expression.Parameter(typeof(T), "r");
        return Expression.Lambda<Func<T, string>>(Expression.Property(row, nameof(IAuditActorCountRow.ActorName)), row);
    }

    /// <summary><c>r => new Key { Bar = bar(r), Name = name(r), Operation = r.Operation }</c>, leaving out what is not split by.</summary>
    private static Expression<Func<T, Key>> KeyOf<T>(Expression<Func<T, long>>? bar, Expression<Func<T, string>>? name)
    {
        var row = Expression.Parameter(typeof(T), "r");
        var bindings = new List<MemberBinding> { Expression.Bind(typeof(Key).GetProperty(nameof(Key.Operation))!, Expression.Property(row, nameof(AuditEntry.Operation))) };
        if (bar is not null)
        {
            bindings.Add(Expression.Bind(typeof(Key).GetProperty(nameof(Key.Bar))!, Queries.Rebind.Body(bar, row)));
        }

        if (name is not null)
        {
            bindings.Add(Expression.Bind(typeof(Key).GetProperty(nameof(Key.Name))!, Queries.Rebind.Body(name, row)));
        }

        return Expression.Lambda<Func<T, Key>>(Expression.MemberInit(Expression.New(typeof(Key)), bindings), row);
    }

    internal static long Epoch(DateTime utc) => new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)).ToUnixTimeSeconds();
}
