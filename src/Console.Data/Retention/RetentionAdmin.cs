using System.Globalization;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Query;
using ComplianceConsole.Core.Retention;
using ComplianceConsole.Data.Capture;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Retention;

/// <summary>A hold's share of the expired entries of a scope.</summary>
public sealed record HeldBy(long HoldId, string Reference, long Entries);

/// <summary>One row of the retention page: a scope, its policy and floor, what it holds, and what today's run would do.</summary>
public sealed record ScopeStatus(string Scope, int? Days, RetentionFloor? Floor, long Entries, DateTime? OldestUtc, DateTime? CutoffUtc,
    long WouldPurge, long Held, IReadOnlyList<HeldBy> HeldBy, RetentionChange? Pending, long EstimatedBytes = 0)
{
    public bool IsFamily => RetentionScopes.IsFamily(Scope);
}

/// <summary>The dry run: every scope's figures, the totals, and the archive's estimated size.</summary>
public sealed record RetentionPreview(IReadOnlyList<ScopeStatus> Scopes, long WouldPurge, long Held, long EstimatedArchiveBytes, long HeadSeq);

/// <summary>What a policy change or a hold did, or why it was refused (a sentence that says what to do).</summary>
public sealed record RetentionResult(bool Done, string Message, bool Pending = false);

/// <summary>
/// Policies (with floors and the four-eyes rule), legal holds and the dry run: each change a transaction with its audited
/// event (before, after, the reason). Pages and the CLI call this; the purge reads what it writes.
/// </summary>
public sealed class RetentionAdmin(RetentionPlanner planner, RetentionOptions options)
{
    public RetentionOptions Options => options;

    /// <summary>Every audited table and every event family the store holds (the anchors' family last: always forever).</summary>
    public async Task<IReadOnlyList<string>> ScopesAsync(ConsoleDbContext db, AuditOptions auditOptions, CancellationToken cancellationToken = default)
    {
        var tables = AuditPolicyResolver.Resolve(db.Model, auditOptions).Tables.Select(t => t.Table);
        var stored = await db.AuditEntries.AsNoTracking().Where(e => e.TableName != null).Select(e => e.TableName!).Distinct().ToListAsync(cancellationToken);
        var events = await db.AuditEntries.AsNoTracking().Where(e => e.TableName == null && e.EventName != null).Select(e => e.EventName!).Distinct().ToListAsync(cancellationToken);
        var policies = await db.RetentionPolicies.AsNoTracking().Select(p => p.Scope).ToListAsync(cancellationToken);
        var families = events.Select(RetentionScopes.FamilyOf).Append(RetentionScopes.Anchors);
        return tables.Concat(stored).Concat(policies.Where(p => !RetentionScopes.IsFamily(p))).Distinct(StringComparer.Ordinal).Order(StringComparer.OrdinalIgnoreCase)
            .Concat(families.Concat(policies.Where(RetentionScopes.IsFamily)).Distinct(StringComparer.Ordinal).Where(f => f != RetentionScopes.Anchors).Order(StringComparer.Ordinal))
            .Append(RetentionScopes.Anchors).ToList();
    }

    /// <summary>The dry run for every scope (or one): entries, oldest, what today's run would purge, what is held and by which holds.</summary>
    public async Task<RetentionPreview> PreviewAsync(ConsoleDbContext db, AuditOptions auditOptions, string? only = null, CancellationToken cancellationToken = default)
    {
        var head = await db.AuditEntries.MaxAsync(e => (long?)e.Seq, cancellationToken) ?? 0;
        var rules = (await planner.RulesAsync(db, cancellationToken)).ToDictionary(r => r.Scope, StringComparer.Ordinal);
        var holds = await planner.HoldsAsync(db, cancellationToken);
        var pending = await db.RetentionChanges.AsNoTracking().Where(c => c.Status == RetentionChange.Pending).ToListAsync(cancellationToken);
        var scopes = only is null ? await ScopesAsync(db, auditOptions, cancellationToken) : [only];
        var statuses = new List<ScopeStatus>();
        foreach (var scope in scopes)
        {
            var (entries, oldest) = await SizeAsync(db, scope, head, cancellationToken);
            var rule = rules.GetValueOrDefault(scope);
            long wouldPurge = 0, held = 0, bytes = 0;
            var heldBy = new List<HeldBy>();
            if (rule?.CutoffUtc is not null && scope != RetentionScopes.Anchors)
            {
                var expired = RetentionPlanner.Expired(db, [rule], head);
                var selected = RetentionPlanner.NotHeld(expired, holds);
                wouldPurge = await selected.LongCountAsync(cancellationToken);
                held = await expired.LongCountAsync(cancellationToken) - wouldPurge;
                if (held > 0)
                {
                    foreach (var hold in holds)
                    {
                        var seqs = hold.Seqs;
                        if (await expired.LongCountAsync(e => seqs.Contains(e.Seq), cancellationToken) is var n and > 0)
                        {
                            heldBy.Add(new HeldBy(hold.Hold.Id, hold.Hold.Reference, n));
                        }
                    }
                }

                if (wouldPurge > 0)
                {
                    // About what the JSON Lines and the CSV take per entry: each holds its values twice (as columns and in the
                    // canonical form), plus the fixed columns and hashes (fitted on the benchmark's 1M-entry archive: 4.9 GB).
                    var sample = await selected.OrderBy(e => e.Seq).Take(200)
                        .Select(e => (long)((e.OldValues ?? "").Length + (e.NewValues ?? "").Length + (e.Metadata ?? "").Length)).ToListAsync(cancellationToken);
                    bytes = (long)(wouldPurge * (sample.DefaultIfEmpty(0).Average() * 6 + 2000));
                }
            }

            statuses.Add(new ScopeStatus(scope, rule?.Days, options.FloorOf(scope), entries, oldest, rule?.CutoffUtc, wouldPurge, held, heldBy,
                pending.FirstOrDefault(p => p.Scope == scope), bytes));
        }

        return new RetentionPreview(statuses, statuses.Sum(s => s.WouldPurge), statuses.Sum(s => s.Held), statuses.Sum(s => s.EstimatedBytes), head);
    }

    /// <summary>
    /// A scope's entries and its oldest one, read through the hourly rollups (which the purge keeps equal to a fresh count)
    /// plus the entries above their mark, and the oldest exactly within its first hour: a large store answers at once.
    /// </summary>
    private static async Task<(long Entries, DateTime? Oldest)> SizeAsync(ConsoleDbContext db, string scope, long head, CancellationToken cancellationToken)
    {
        var mark = Math.Min(head, await Rollups.AuditRollups.ThroughAsync(db, cancellationToken));
        var rows = db.AuditHourCounts.AsNoTracking();
        if (RetentionScopes.IsFamily(scope))
        {
            var prefix = RetentionScopes.PrefixOf(scope);
            rows = rows.Where(r => r.TableName == "" && r.EventName.StartsWith(prefix));
        }
        else
        {
            rows = rows.Where(r => r.TableName == scope);
        }

        var inScope = db.AuditEntries.AsNoTracking().Where(RetentionPlanner.InScope(scope));
        var counted = await rows.SumAsync(r => (long?)r.Count, cancellationToken) ?? 0;
        var above = await inScope.Where(e => e.Seq > mark && e.Seq <= head).LongCountAsync(cancellationToken);
        if (counted + above == 0)
        {
            return (0, null);
        }

        DateTime? oldest = null;
        if (await rows.Where(r => r.Count > 0).MinAsync(r => (long?)r.Hour, cancellationToken) is { } hour)
        {
            var (from, to) = (DateTime.UnixEpoch.AddHours(hour), DateTime.UnixEpoch.AddHours(hour + 1));
            oldest = await inScope.Where(e => e.OccurredAtUtc >= from && e.OccurredAtUtc < to && e.Seq <= mark).MinAsync(e => (DateTime?)e.OccurredAtUtc, cancellationToken);
        }

        var newer = above > 0 ? await inScope.Where(e => e.Seq > mark && e.Seq <= head).MinAsync(e => (DateTime?)e.OccurredAtUtc, cancellationToken) : null;
        return (counted + above, oldest is null ? newer : newer is null ? oldest : oldest < newer ? oldest : newer);
    }

    /// <summary>
    /// Sets a scope's policy, or (a shortening under the four-eyes rule) records it as pending for a second officer.
    /// Refused, with what to do, below a floor, without a reason, or while another change of the scope is pending.
    /// </summary>
    public async Task<RetentionResult> RequestAsync(ConsoleDbContext db, string scope, int? days, string reason, string who, CancellationToken cancellationToken = default)
    {
        scope = scope.Trim();
        if (string.IsNullOrWhiteSpace(reason))
        {
            return new RetentionResult(false, "Give a reason for the change: it is recorded in the audit trail with the policy before and after.");
        }

        if (scope.Length == 0 || scope.Length > 128)
        {
            return new RetentionResult(false, "Name a table or an event family (for example Payments or auth.*).");
        }

        if (RetentionRules.Refusal(scope, days, options.FloorOf(scope)) is { } refusal)
        {
            return new RetentionResult(false, refusal);
        }

        var current = await db.RetentionPolicies.AsNoTracking().FirstOrDefaultAsync(p => p.Scope == scope, cancellationToken);
        var before = current?.Days;
        if (current is not null && before == days || current is null && days is null)
        {
            return new RetentionResult(false, $"{scope} already keeps entries {RetentionRules.Describe(days)}: nothing to change.");
        }

        if (await db.RetentionChanges.AnyAsync(c => c.Scope == scope && c.Status == RetentionChange.Pending, cancellationToken))
        {
            return new RetentionResult(false, $"A change of {scope} already waits for approval: approve, reject or withdraw it first.");
        }

        var now = planner.NowUtc;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (options.FourEyes && RetentionRules.IsShortening(before, days))
        {
            var change = new RetentionChange { Scope = scope, FromDays = before, ToDays = days, Reason = reason.Trim(), RequestedBy = who, RequestedAtUtc = now };
            db.RetentionChanges.Add(change);
            await db.SaveChangesAsync(cancellationToken);
            await RecordAsync(db, AuditEventNames.RetentionPolicyRequested, scope, new()
            {
                ["change"] = change.Id.ToString(CultureInfo.InvariantCulture), ["scope"] = scope, ["before"] = Days(before), ["after"] = Days(days), ["reason"] = change.Reason,
            }, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new RetentionResult(true, $"Shortening {scope} from {RetentionRules.Describe(before)} to {RetentionRules.Describe(days)} waits for a second officer's approval.", Pending: true);
        }

        await ApplyAsync(db, scope, before, days, reason.Trim(), who, null, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new RetentionResult(true, $"{scope} now keeps entries {RetentionRules.Describe(days)}.");
    }

    /// <summary>A second officer approves a pending shortening: it takes effect. The requester may not approve their own.</summary>
    public async Task<RetentionResult> ApproveAsync(ConsoleDbContext db, long changeId, string who, CancellationToken cancellationToken = default)
    {
        var change = await db.RetentionChanges.FirstOrDefaultAsync(c => c.Id == changeId, cancellationToken);
        if (change is null || change.Status != RetentionChange.Pending)
        {
            return new RetentionResult(false, "That change is no longer pending (approved, rejected or withdrawn meanwhile): reload the page.");
        }

        if (string.Equals(change.RequestedBy, who, StringComparison.OrdinalIgnoreCase))
        {
            return new RetentionResult(false, "You asked for this change: a second officer (another Admin or ComplianceOfficer) must approve it.");
        }

        if (RetentionRules.Refusal(change.Scope, change.ToDays, options.FloorOf(change.Scope)) is { } refusal)
        {
            return new RetentionResult(false, refusal + " Reject this change.");
        }

        var now = planner.NowUtc;
        var current = await db.RetentionPolicies.AsNoTracking().FirstOrDefaultAsync(p => p.Scope == change.Scope, cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        (change.Status, change.DecidedBy, change.DecidedAtUtc) = (RetentionChange.Approved, who, now);
        await db.SaveChangesAsync(cancellationToken);
        await ApplyAsync(db, change.Scope, current?.Days, change.ToDays, change.Reason, change.RequestedBy, who, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new RetentionResult(true, $"Approved: {change.Scope} now keeps entries {RetentionRules.Describe(change.ToDays)}.");
    }

    /// <summary>A second officer rejects a pending change, or its requester withdraws it; a note is required.</summary>
    public async Task<RetentionResult> RejectAsync(ConsoleDbContext db, long changeId, string who, string note, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(note))
        {
            return new RetentionResult(false, "Say why the change is rejected or withdrawn: the note is recorded in the audit trail.");
        }

        var change = await db.RetentionChanges.FirstOrDefaultAsync(c => c.Id == changeId, cancellationToken);
        if (change is null || change.Status != RetentionChange.Pending)
        {
            return new RetentionResult(false, "That change is no longer pending: reload the page.");
        }

        var withdrawn = string.Equals(change.RequestedBy, who, StringComparison.OrdinalIgnoreCase);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        (change.Status, change.DecidedBy, change.DecidedAtUtc, change.DecisionNote) = (withdrawn ? RetentionChange.Withdrawn : RetentionChange.Rejected, who, planner.NowUtc, note.Trim());
        await db.SaveChangesAsync(cancellationToken);
        await RecordAsync(db, AuditEventNames.RetentionPolicyRejected, change.Scope, new()
        {
            ["change"] = change.Id.ToString(CultureInfo.InvariantCulture), ["scope"] = change.Scope, ["after"] = Days(change.ToDays), ["note"] = change.DecisionNote,
            ["outcome"] = change.Status,
        }, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new RetentionResult(true, withdrawn ? "Withdrawn." : "Rejected: the policy stays as it was.");
    }

    /// <summary>Places a legal hold on what a query of the audit browser matches (and a time range), with a reason and a reference.</summary>
    public async Task<RetentionResult> PlaceHoldAsync(ConsoleDbContext db, string query, DateTime? fromUtc, DateTime? toUtc, string reason, string reference, string who,
        CancellationToken cancellationToken = default)
    {
        var parsed = QueryParser.Parse(query);
        if (parsed.Problems.Count > 0)
        {
            return new RetentionResult(false, "The hold's query does not parse: " + string.Join(" ", parsed.Problems.Select(p => p.Message)) + " Fix it as in the audit browser's query bar.");
        }

        if (parsed.Query.Clauses.Count == 0 && fromUtc is null && toUtc is null)
        {
            return new RetentionResult(false, "Say what the hold covers: a table, a record, an actor, a time range or any query of the audit browser (a hold on everything would stop all retention).");
        }

        if (fromUtc is { } f && toUtc is { } t && t <= f)
        {
            return new RetentionResult(false, "The hold's time range ends before it starts: swap the dates.");
        }

        if (string.IsNullOrWhiteSpace(reason) || string.IsNullOrWhiteSpace(reference))
        {
            return new RetentionResult(false, "Give a reason and a reference (a case or matter number): both are recorded with the hold.");
        }

        var hold = new LegalHold
        {
            Query = parsed.Query.Text, FromUtc = fromUtc, ToUtc = toUtc, Reason = reason.Trim(), Reference = reference.Trim(), PlacedBy = who, PlacedAtUtc = planner.NowUtc,
        };
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.LegalHolds.Add(hold);
        await db.SaveChangesAsync(cancellationToken);
        await RecordAsync(db, AuditEventNames.HoldPlaced, $"hold/{hold.Id}", new()
        {
            ["hold"] = hold.Id.ToString(CultureInfo.InvariantCulture), ["query"] = hold.Query, ["from"] = Time(fromUtc), ["to"] = Time(toUtc), ["reason"] = hold.Reason, ["reference"] = hold.Reference,
        }, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new RetentionResult(true, $"Hold {hold.Reference} placed: what it covers is never purged until it is released.");
    }

    public async Task<RetentionResult> ReleaseHoldAsync(ConsoleDbContext db, long holdId, string reason, string who, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            return new RetentionResult(false, "Give a reason for releasing the hold: it is recorded in the audit trail.");
        }

        var hold = await db.LegalHolds.FirstOrDefaultAsync(h => h.Id == holdId, cancellationToken);
        if (hold is null || hold.ReleasedAtUtc is not null)
        {
            return new RetentionResult(false, "That hold is already released: reload the page.");
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        (hold.ReleasedBy, hold.ReleasedAtUtc, hold.ReleaseReason) = (who, planner.NowUtc, reason.Trim());
        await db.SaveChangesAsync(cancellationToken);
        await RecordAsync(db, AuditEventNames.HoldReleased, $"hold/{hold.Id}", new()
        {
            ["hold"] = hold.Id.ToString(CultureInfo.InvariantCulture), ["query"] = hold.Query, ["reason"] = hold.ReleaseReason, ["reference"] = hold.Reference,
        }, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new RetentionResult(true, $"Hold {hold.Reference} released: its entries follow their policies again from the next run.");
    }

    private static async Task ApplyAsync(ConsoleDbContext db, string scope, int? before, int? days, string reason, string requestedBy, string? approvedBy, DateTime now,
        CancellationToken cancellationToken)
    {
        var policy = await db.RetentionPolicies.FirstOrDefaultAsync(p => p.Scope == scope, cancellationToken);
        if (policy is null)
        {
            db.RetentionPolicies.Add(policy = new RetentionPolicy { Scope = scope });
        }

        (policy.Days, policy.Reason, policy.ChangedBy, policy.ChangedAtUtc) = (days, reason, approvedBy ?? requestedBy, now);
        await db.SaveChangesAsync(cancellationToken);
        await RecordAsync(db, AuditEventNames.RetentionPolicyChanged, scope, new()
        {
            ["scope"] = scope, ["before"] = Days(before), ["after"] = Days(days), ["reason"] = reason, ["requestedBy"] = requestedBy, ["approvedBy"] = approvedBy,
        }, cancellationToken);
    }

    private static Task RecordAsync(ConsoleDbContext db, string name, string target, Dictionary<string, string?> metadata, CancellationToken cancellationToken) =>
        db.Database.RecordAuditEventAsync(new AuditEventRequest(name, target.StartsWith("hold/", StringComparison.Ordinal) ? target : "retention/" + target, metadata), cancellationToken);

    private static string Days(int? days) => days?.ToString(CultureInfo.InvariantCulture) ?? "forever";

    private static string? Time(DateTime? utc) => utc?.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
