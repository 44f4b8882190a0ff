using System.Linq.Expressions;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Query;
using ComplianceConsole.Core.Retention;
using ComplianceConsole.Data.Queries;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Retention;

/// <summary>Retention settings (section Retention).</summary>
public sealed class RetentionOptions
{
    /// <summary>Where archives go, one folder per run (relative to the content root).</summary>
    public string ArchiveFolder { get; set; } = "App_Data/archives";

    /// <summary>When the purge runs: a Quartz cron expression (seconds minutes hours day-of-month month day-of-week). Empty: only Run now.</summary>
    public string Schedule { get; set; } = "0 30 2 * * ?";

    /// <summary>Shortening a policy needs a second officer's approval.</summary>
    public bool FourEyes { get; set; } = true;

    /// <summary>Entries deleted per transaction: what a concurrent writer may wait for at most.</summary>
    public int DeleteBatch { get; set; } = 2000;

    /// <summary>
    /// This node runs the purge when Quartz fires it (default). SQL Server with several nodes: false on a node whose login
    /// is not in cc_audit_purger; its scheduler then only asks (Run now), and a node that runs it does the work.
    /// </summary>
    public bool RunsHere { get; set; } = true;

    /// <summary>How long a purge's lease lasts without renewal: another node takes over after it.</summary>
    public int LeaseMinutes { get; set; } = 10;

    /// <summary>A running job whose heartbeat is older than this is shown as stuck (/health, dashboard, /jobs).</summary>
    public int StuckMinutes { get; set; } = 30;

    /// <summary>Regulatory floors: a scope's policy cannot be set below them.</summary>
    public List<FloorSetting> Floors { get; set; } = [];

    public RetentionFloor? FloorOf(string scope) =>
        Floors.Where(f => string.Equals(f.Scope, scope, StringComparison.OrdinalIgnoreCase)).Select(f => new RetentionFloor(f.Scope, f.Days, f.Regulation)).MaxBy(f => f.Days);
}

public sealed class FloorSetting
{
    public string Scope { get; set; } = "";
    public int Days { get; set; }
    public string Regulation { get; set; } = "";
}

/// <summary>A policy in force: its scope, period and today's cut-off (entries that occurred before it are expired).</summary>
public sealed record ScopeRule(string Scope, int? Days, DateTime? CutoffUtc);

/// <summary>An active legal hold and the seqs of the entries it holds (its filter, through the audit browser's one filter path).</summary>
public sealed record HoldFilter(LegalHold Hold, IQueryable<long> Seqs);

/// <summary>
/// What a purge selects, as queries: the expired entries of each scope (never an anchor, never beyond the head), less
/// those a legal hold covers and those already archived by an earlier run. The preview and the purge share it.
/// </summary>
public sealed class RetentionPlanner(AuditSearchService search)
{
    public DateTime NowUtc => search.NowUtc;

    public async Task<IReadOnlyList<ScopeRule>> RulesAsync(ConsoleDbContext db, CancellationToken cancellationToken = default)
    {
        var now = NowUtc;
        var policies = await db.RetentionPolicies.AsNoTracking().OrderBy(p => p.Scope).ToListAsync(cancellationToken);
        return policies.Select(p => new ScopeRule(p.Scope, p.Days, RetentionRules.Cutoff(now, p.Days))).ToList();
    }

    /// <summary>The active holds, each with its entries (a hold's query is parsed as the browser parses it; a query that no longer parses holds everything, to be safe).</summary>
    public async Task<IReadOnlyList<HoldFilter>> HoldsAsync(ConsoleDbContext db, CancellationToken cancellationToken = default)
    {
        var holds = await db.LegalHolds.AsNoTracking().Where(h => h.ReleasedAtUtc == null).OrderBy(h => h.Id).ToListAsync(cancellationToken);
        var filters = new List<HoldFilter>();
        foreach (var hold in holds)
        {
            var parsed = QueryParser.Parse(hold.Query);
            if (parsed.Problems.Count > 0)
            {
                filters.Add(new HoldFilter(hold, db.AuditEntries.Select(e => e.Seq)));
                continue;
            }

            var filter = await search.FilterAsync(db, parsed.Query, TimeRange.Between(hold.FromUtc, hold.ToUtc), cancellationToken);
            filters.Add(new HoldFilter(hold, filter.Entries.Select(e => e.Seq)));
        }

        return filters;
    }

    /// <summary>Entries through <paramref name="head"/> that a rule has expired, held or not.</summary>
    public static IQueryable<AuditEntry> Expired(ConsoleDbContext db, IEnumerable<ScopeRule> rules, long head)
    {
        var parameter = Expression.Parameter(typeof(AuditEntry), "e");
        Expression? any = null;
        foreach (var rule in rules.Where(r => r.CutoffUtc is not null))
        {
            var body = Rebind.Body(ScopePredicate(rule.Scope, rule.CutoffUtc!.Value), parameter);
            any = any is null ? body : Expression.OrElse(any, body);
        }

        if (any is null)
        {
            return db.AuditEntries.Where(e => false);
        }

        return db.AuditEntries.Where(e => e.Seq <= head && (e.EventName == null || e.EventName != AuditEventNames.RetentionPurged))
            .Where(Expression.Lambda<Func<AuditEntry, bool>>(any, parameter));
    }

    /// <summary>The entries of one scope: a table's (its row changes, baselines and snapshots), or a family's events that name no table.</summary>
    public static Expression<Func<AuditEntry, bool>> InScope(string scope)
    {
        if (RetentionScopes.IsFamily(scope))
        {
            var prefix = RetentionScopes.PrefixOf(scope);
            return e => e.TableName == null && e.EventName != null && e.EventName.StartsWith(prefix);
        }

        return e => e.TableName == scope;
    }

    private static Expression<Func<AuditEntry, bool>> ScopePredicate(string scope, DateTime cutoff)
    {
        var inScope = InScope(scope);
        Expression<Func<AuditEntry, bool>> old = e => e.OccurredAtUtc < cutoff;
        var parameter = inScope.Parameters[0];
        return Expression.Lambda<Func<AuditEntry, bool>>(Expression.AndAlso(inScope.Body, Rebind.Body(old, parameter)), parameter);
    }

    /// <summary><paramref name="entries"/> less those any of <paramref name="holds"/> covers.</summary>
    public static IQueryable<AuditEntry> NotHeld(IQueryable<AuditEntry> entries, IEnumerable<HoldFilter> holds)
    {
        foreach (var hold in holds)
        {
            var seqs = hold.Seqs;
            entries = entries.Where(e => !seqs.Contains(e.Seq));
        }

        return entries;
    }

    /// <summary>The entries a purge would take now: expired, not held, not inside a range an earlier run already archived.</summary>
    public async Task<(IQueryable<AuditEntry> Selected, IQueryable<AuditEntry> Expired, IReadOnlyList<ScopeRule> Rules, IReadOnlyList<HoldFilter> Holds)> SelectAsync(
        ConsoleDbContext db, long head, CancellationToken cancellationToken = default)
    {
        var rules = await RulesAsync(db, cancellationToken);
        var holds = await HoldsAsync(db, cancellationToken);
        var expired = Expired(db, rules, head);

        // Ranges an earlier run archived whose entries a later hold kept alive: those are archived already.
        var kept = await db.AuditRemovedRanges.AsNoTracking()
            .Where(r => db.AuditEntries.Any(e => e.Seq >= r.FirstSeq && e.Seq <= r.ThroughSeq))
            .Select(r => new { r.FirstSeq, r.ThroughSeq }).ToListAsync(cancellationToken);
        var selected = NotHeld(expired, holds);
        foreach (var range in kept)
        {
            var (first, through) = (range.FirstSeq, range.ThroughSeq);
            selected = selected.Where(e => e.Seq < first || e.Seq > through);
        }

        return (selected, expired, rules, holds);
    }
}
