using ComplianceConsole.Core.Analytics;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Query;
using ComplianceConsole.Data.Rollups;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Queries;

/// <summary>Everything the dashboard draws for one range. Charts a reader may not see are null.</summary>
public sealed record AuditDashboard(
    DateTime FromUtc,
    DateTime ToUtc,
    string? OwnActor,
    ChartData Operations,
    ChartData Tables,
    ChartData? TopUsers,
    ChartData? FailedLogins,
    ChartData? TopTargets,
    ChartData? TopIps,
    ChartData? OutOfBand,
    IReadOnlyList<Finding>? Findings,
    long CountedThroughSeq,
    DateTime? CountedAtUtc,
    long HeadSeq);

/// <summary>What a dashboard counts: [<see cref="From"/>, <see cref="To"/>) in <see cref="Bars"/>, everyone's work or <see cref="OwnActor"/>'s.</summary>
public sealed record DashboardWindow(DateTime From, DateTime To, CountBars Bars, string? OwnActor)
{
    /// <summary>The query every chart starts from: nothing, or the Operator's own actor.</summary>
    public AuditQuery Mine => OwnActor is null ? AuditQuery.Empty : new AuditQuery([QueryClause.Of(QueryFields.Actor, OwnActor)]);

    /// <summary>The audit search of a chart element, clipped to the window; none on an Operator's dashboard (they never see the trail).</summary>
    public AuditSearch? Link(AuditQuery query, DateTime start, DateTime end) =>
        OwnActor is null ? new AuditSearch(query, TimeRange.Between(start < From ? From : start, end > To ? To : end)) : null;
}

/// <summary>
/// The dashboard's reads (docs/analytics.md). Every chart is an exact count through <see cref="AuditCounts"/> over the one
/// filter model, and every element carries the audit search of exactly the entries it counts, so a click shows the same
/// number. The findings read the rollups (<see cref="AuditActorFirst"/>, the hourly and daily rows) up to their mark.
/// </summary>
public sealed class AuditDashboardQuery(AuditSearchService search, AnalyticsOptions options)
{
    private static readonly string[] Changes = [AuditOperations.Insert, AuditOperations.Update, AuditOperations.Delete];
    private static readonly string[] SignInEvents = [AuditEventNames.LoginFailed, AuditEventNames.LockedOut];

    public AnalyticsOptions Options => options;

    /// <summary>
    /// The range's bounds, to the start of the second (links carry whole seconds), its bars (hours up to a week, days up to
    /// 90, weeks beyond), and whose work it counts.
    /// </summary>
    /// <param name="ownActor">Set for an Operator: only their own work is counted, and nothing links into the trail.</param>
    public async Task<DashboardWindow> WindowAsync(ConsoleDbContext db, TimeRange range, string? ownActor = null, CancellationToken cancellationToken = default)
    {
        static DateTime Second(DateTime utc) => new(utc.Ticks - utc.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
        var now = Second(search.NowUtc);
        var (from, to) = range.Resolve(now);
        var end = to ?? now;
        var start = Second(from ?? await db.AuditEntries.MinAsync(e => (DateTime?)e.OccurredAtUtc, cancellationToken) ?? end.AddDays(-30));
        var size = end - start <= TimeSpan.FromDays(7) ? TimeSpan.FromHours(1) : end - start <= TimeSpan.FromDays(90) ? TimeSpan.FromDays(1) : TimeSpan.FromDays(7);
        var origin = size >= TimeSpan.FromDays(1) ? start.Date : new DateTime(start.Ticks - start.Ticks % size.Ticks, DateTimeKind.Utc);
        return new DashboardWindow(start, end, new CountBars(origin, size), ownActor);
    }

    public async Task<AuditDashboard> LoadAsync(ConsoleDbContext db, TimeRange range, string? ownActor = null, CancellationToken cancellationToken = default)
    {
        var w = await WindowAsync(db, range, ownActor, cancellationToken);
        var operations = await OperationsAsync(db, w, cancellationToken);
        var tables = await TablesAsync(db, w, cancellationToken);
        var head = await db.AuditEntries.MaxAsync(e => (long?)e.Seq, cancellationToken) ?? 0;
        var mark = await db.AuditRollupMarks.AsNoTracking().Where(m => m.Name == AuditRollupMark.Hourly).FirstOrDefaultAsync(cancellationToken);
        if (ownActor is not null)
        {
            return new AuditDashboard(w.From, w.To, ownActor, operations, tables, null, null, null, null, null, null, mark?.ThroughSeq ?? 0, mark?.UpdatedAtUtc, head);
        }

        var topUsers = await TopUsersAsync(db, w, cancellationToken);
        var (failed, targets, ips) = await SignInsAsync(db, w, cancellationToken);
        var (outOfBand, byTable) = await OutOfBandAsync(db, w, cancellationToken);
        var findings = await FindingsAsync(db, w.From, w.To, byTable, cancellationToken);
        return new AuditDashboard(w.From, w.To, null, operations, tables, topUsers, failed, targets, ips, outOfBand, findings, mark?.ThroughSeq ?? 0, mark?.UpdatedAtUtc, head);
    }

    /// <summary>Every entry of the window over time, stacked by operation.</summary>
    public async Task<ChartData> OperationsAsync(ConsoleDbContext db, DashboardWindow w, CancellationToken cancellationToken = default) =>
        Over(w, "operations", "Operations over time", w.Mine, await CountAsync(db, w, w.Mine, CountBy.Operation, w.Bars, cancellationToken), AuditOperations.All, QueryFields.Op);

    /// <summary>Changes per table and operation (the heat map), tables by name.</summary>
    public async Task<ChartData> TablesAsync(ConsoleDbContext db, DashboardWindow w, CancellationToken cancellationToken = default)
    {
        var changes = w.Mine.With(new QueryClause(QueryFields.Op, Changes));
        var cells = await CountAsync(db, w, changes, CountBy.Table, null, cancellationToken);
        return Ranked(w, "tables", "Table activity", "table", changes, cells, Changes, QueryFields.Table, QueryFields.Op,
            cells.Where(c => c.Key != "").Select(c => c.Key).Distinct().Order(StringComparer.Ordinal));
    }

    /// <summary>The actors with the most changes, split by operation.</summary>
    public async Task<ChartData> TopUsersAsync(ConsoleDbContext db, DashboardWindow w, CancellationToken cancellationToken = default)
    {
        var changes = w.Mine.With(new QueryClause(QueryFields.Op, Changes));
        return Ranked(w, "users", "Top users", "actor", changes, await CountAsync(db, w, changes, CountBy.Actor, null, cancellationToken), Changes, QueryFields.Actor, QueryFields.Op);
    }

    /// <summary>Failed sign-ins and lockouts over time, the accounts they targeted and the addresses they came from.</summary>
    public async Task<(ChartData OverTime, ChartData Targets, ChartData Addresses)> SignInsAsync(ConsoleDbContext db, DashboardWindow w, CancellationToken cancellationToken = default)
    {
        var signIns = new AuditQuery([new QueryClause(QueryFields.Event, SignInEvents)]);

        // Split by event: each event counted on its own, its cells named after it (a cell's Operation is its series).
        async Task<List<CountCell>> ByEvent(CountBy by, CountBars? bars = null)
        {
            var cells = new List<CountCell>();
            foreach (var name in SignInEvents)
            {
                cells.AddRange((await CountAsync(db, w, Narrow(signIns, QueryFields.Event, name), by, bars, cancellationToken)).Select(c => c with { Operation = name }));
            }

            return cells;
        }

        return (Over(w, "sign-ins", "Failed sign-ins and lockouts", signIns, await ByEvent(CountBy.Operation, w.Bars), SignInEvents, QueryFields.Event),
            Ranked(w, "targets", "Most targeted accounts", "account", signIns, await ByEvent(CountBy.Target), SignInEvents, QueryFields.Target, QueryFields.Event),
            Ranked(w, "addresses", "Top source addresses", "address", signIns, await ByEvent(CountBy.Ip), SignInEvents, QueryFields.Ip, QueryFields.Event));
    }

    /// <summary>Out-of-band changes over time, and per table (for the findings; empty when there are none).</summary>
    public async Task<(ChartData OverTime, List<CountCell> ByTable)> OutOfBandAsync(ConsoleDbContext db, DashboardWindow w, CancellationToken cancellationToken = default)
    {
        var oob = new AuditQuery([QueryClause.Of(QueryFields.OutOfBand, "true")]);
        var chart = Over(w, "out-of-band", "Out-of-band changes", oob, await CountAsync(db, w, oob, CountBy.Operation, w.Bars, cancellationToken), Changes, QueryFields.Op);
        return (chart, chart.Total > 0 ? await CountAsync(db, w, oob, CountBy.Table, null, cancellationToken) : []);
    }

    private static ChartData Over(DashboardWindow w, string id, string title, AuditQuery query, List<CountCell> cells, IReadOnlyList<string> series, string field)
    {
        var size = w.Bars.Size;
        var count = (int)Math.Ceiling((w.To - w.Bars.OriginUtc) / size);
        var byBar = cells.ToLookup(c => c.Bar);
        var rows = Enumerable.Range(0, Math.Max(count, 1)).Select(i =>
        {
            var start = w.Bars.OriginUtc + size * i;
            var inBar = byBar[i].ToList();
            return new ChartRow("", series.Select(s => new ChartCell(s, inBar.Where(c => c.Operation == s).Sum(c => c.Count),
                w.Link(Narrow(query, field, s), start, start + size))).ToList(), start < w.From ? w.From : start, w.Link(query, start, start + size));
        }).ToList();
        return new ChartData(id, title, "time", series, rows, size);
    }

    private ChartData Ranked(DashboardWindow w, string id, string title, string header, AuditQuery query, List<CountCell> cells, IReadOnlyList<string> series, string keyField, string seriesField,
        IEnumerable<string>? order = null)
    {
        var byKey = cells.Where(c => c.Key != "").GroupBy(c => c.Key).ToDictionary(g => g.Key, g => g.ToList());
        var keys = order ?? byKey.OrderByDescending(k => k.Value.Sum(c => c.Count)).ThenBy(k => k.Key, StringComparer.Ordinal).Select(k => k.Key).Take(options.TopCount);
        var rows = keys.Where(byKey.ContainsKey).Select(key =>
        {
            var keyed = query.With(QueryClause.Of(keyField, key));
            return new ChartRow(key, series.Select(s => new ChartCell(s, byKey[key].Where(c => c.Operation == s).Sum(c => c.Count),
                w.Link(Narrow(keyed, seriesField, s), w.From, w.To))).ToList(), Link: w.Link(keyed, w.From, w.To));
        }).ToList();
        return new ChartData(id, title, header, series, rows);
    }

    /// <summary>The query with <paramref name="field"/> narrowed to one value: <c>op:(insert OR update OR delete)</c> becomes <c>op:update</c>.</summary>
    private static AuditQuery Narrow(AuditQuery query, string field, string value) =>
        new AuditQuery(query.Clauses.Where(c => c.Field != field || c.Negated).ToList()).With(QueryClause.Of(field, value));

    private Task<List<CountCell>> CountAsync(ConsoleDbContext db, DashboardWindow w, AuditQuery query, CountBy by, CountBars? bars, CancellationToken cancellationToken) =>
        CountAsync(db, query, w.From, w.To, by, bars, cancellationToken);

    /// <summary>Exact counts of a query's entries in [from, to) (<see cref="AuditCounts"/>).</summary>
    private async Task<List<CountCell>> CountAsync(ConsoleDbContext db, AuditQuery query, DateTime from, DateTime to, CountBy by, CountBars? bars, CancellationToken cancellationToken) =>
        await AuditCounts.CountAsync(db, await search.FilterAsync(db, query, TimeRange.Between(from, to), cancellationToken), from, to, by, bars, cancellationToken: cancellationToken);

    /// <summary>The unusual-activity findings of [from, to), newest first (docs/analytics.md says each rule).</summary>
    public async Task<List<Finding>> FindingsAsync(ConsoleDbContext db, DateTime from, DateTime to, IReadOnlyList<CountCell> outOfBandByTable, CancellationToken cancellationToken = default)
    {
        var findings = new List<Finding>();
        var fromHour = AuditCounts.Epoch(from) / 3600;
        var toHour = (AuditCounts.Epoch(to) + 3599) / 3600;
        DateTime Time(long hour) => DateTime.UnixEpoch.AddHours(hour);
        AuditSearch HourLink(AuditQuery query, long hour) => new(query, TimeRange.Between(Time(hour), Time(hour + 1)));

        // One actor deleting or updating many rows within an hour: the days whose peak hour reaches the threshold, then their hours.
        var deletes = options.BulkDeleteRowsPerHour;
        var updates = options.BulkUpdateRowsPerHour;
        var days = await db.AuditActorDayPeaks.AsNoTracking()
            .Where(p => p.Hour >= fromHour / 24 * 24 && p.Hour < toHour && p.ActorName != ""
                        && ((p.Operation == AuditOperations.Delete && p.Peak >= deletes) || (p.Operation == AuditOperations.Update && p.Peak >= updates)))
            .ToListAsync(cancellationToken);
        foreach (var day in days)
        {
            var threshold = day.Operation == AuditOperations.Delete ? deletes : updates;
            var hours = await db.AuditActorHourCounts.AsNoTracking()
                .Where(r => r.ActorName == day.ActorName && r.Hour >= Math.Max(day.Hour, fromHour) && r.Hour < Math.Min(day.Hour + 24, toHour) && r.Operation == day.Operation)
                .GroupBy(r => r.Hour)
                .Select(g => new { Hour = g.Key, Count = g.Sum(r => r.Count) })
                .Where(h => h.Count >= threshold)
                .ToListAsync(cancellationToken);
            findings.AddRange(hours.Select(h => new Finding(day.Operation == AuditOperations.Delete ? FindingKind.BulkDelete : FindingKind.BulkUpdate, Time(h.Hour), day.ActorName, null, h.Count, threshold,
                HourLink(new AuditQuery([QueryClause.Of(QueryFields.Actor, day.ActorName), QueryClause.Of(QueryFields.Op, day.Operation)]), h.Hour))));
        }

        // An hour of the day an actor never worked in, after enough days of history; the entries of those hours in one read.
        var history = options.NewHourAfterDays * 24L;
        var newHours = await (from h in db.AuditActorFirsts.AsNoTracking()
                              join a in db.AuditActorFirsts.AsNoTracking() on new { h.ActorName, Kind = AuditActorFirst.Any } equals new { a.ActorName, a.Kind }
                              where h.Kind == AuditActorFirst.AtHourOfDay && h.FirstHour >= fromHour && h.FirstHour < toHour && h.FirstHour - a.FirstHour >= history
                              select new { h.ActorName, h.FirstHour, Since = a.FirstHour }).ToListAsync(cancellationToken);
        var newActors = newHours.Select(n => n.ActorName).Distinct().ToList();
        var newHourList = newHours.Select(n => n.FirstHour).Distinct().ToList();
        var counts = newHours.Count == 0 ? [] : (await db.AuditActorHourCounts.AsNoTracking()
                .Where(r => newActors.Contains(r.ActorName) && newHourList.Contains(r.Hour))
                .GroupBy(r => new { r.ActorName, r.Hour })
                .Select(g => new { g.Key.ActorName, g.Key.Hour, Count = g.Sum(r => r.Count) })
                .ToListAsync(cancellationToken))
            .ToDictionary(c => (c.ActorName, c.Hour), c => c.Count);
        findings.AddRange(newHours.Select(n => new Finding(FindingKind.NewHour, Time(n.FirstHour), n.ActorName, null, counts.GetValueOrDefault((n.ActorName, n.FirstHour)), options.NewHourAfterDays,
            HourLink(new AuditQuery([QueryClause.Of(QueryFields.Actor, n.ActorName)]), n.FirstHour), (n.FirstHour - n.Since) / 24)));

        // A first change to a sensitive table.
        var sensitive = options.SensitiveTables;
        var firsts = await db.AuditActorFirsts.AsNoTracking()
            .Where(f => f.Kind == AuditActorFirst.OnTable && sensitive.Contains(f.Value) && f.FirstHour >= fromHour && f.FirstHour < toHour)
            .ToListAsync(cancellationToken);
        foreach (var first in firsts)
        {
            var query = new AuditQuery([QueryClause.Of(QueryFields.Actor, first.ActorName), QueryClause.Of(QueryFields.Table, first.Value)]);
            var since = Time(first.FirstHour) < from ? from : Time(first.FirstHour);
            findings.Add(new Finding(FindingKind.FirstOnSensitiveTable, Time(first.FirstHour), first.ActorName, first.Value, 0, 0, new AuditSearch(query, TimeRange.Between(since, to))));
        }

        // A spike of failed sign-ins.
        var spikes = await db.AuditHourCounts.AsNoTracking()
            .Where(r => r.EventName == AuditEventNames.LoginFailed && r.Hour >= fromHour && r.Hour < toHour)
            .GroupBy(r => r.Hour)
            .Select(g => new { Hour = g.Key, Count = g.Sum(r => r.Count) })
            .Where(h => h.Count >= options.FailedLoginsPerHour)
            .ToListAsync(cancellationToken);
        findings.AddRange(spikes.Select(s => new Finding(FindingKind.FailedLoginSpike, Time(s.Hour), null, null, s.Count, options.FailedLoginsPerHour,
            HourLink(new AuditQuery([QueryClause.Of(QueryFields.Event, AuditEventNames.LoginFailed)]), s.Hour))));

        // Out-of-band writes, per table (exact counts: the chart's).
        foreach (var table in outOfBandByTable.Where(c => c.Key != "").GroupBy(c => c.Key))
        {
            findings.Add(new Finding(FindingKind.OutOfBand, to, null, table.Key, table.Sum(c => c.Count), 1,
                new AuditSearch(new AuditQuery([QueryClause.Of(QueryFields.OutOfBand, "true"), QueryClause.Of(QueryFields.Table, table.Key)]), TimeRange.Between(from, to))));
        }

        // The most serious kinds first (FindingKind's order), each newest first.
        return findings.OrderBy(f => f.Kind).ThenByDescending(f => f.AtUtc).ToList();
    }
}
