using System.Security.Claims;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.Retention;
using ComplianceConsole.Web.Auditing;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ComplianceConsole.Web.Jobs;

/// <summary>
/// What the retention, holds and jobs pages do, for the person signed in: reads for every trail reader; changes only for
/// Admins and ComplianceOfficers, each checked here (not only by hiding a button) and a refusal recorded as access.denied.
/// Each change runs in a context attributed to that person, so its event names them.
/// </summary>
public sealed class RetentionActions(DatabaseSettings settings, RetentionAdmin admin, RetentionPlanner planner, JobsService jobs, BackgroundChecks checks, WebAuditContextAccessor accessor,
    AuthenticationStateProvider authentication, ReadAudit reads, IOptions<AuditOptions> audit)
{
    public static bool MayManage(ClaimsPrincipal user) => ConsoleRoles.RetentionManagers.Split(',').Any(user.IsInRole);

    public RetentionOptions Options => admin.Options;

    public async Task<RetentionPreview> PreviewAsync(string? scope = null, CancellationToken cancellationToken = default)
    {
        await using var db = ConsoleDbContextFactory.Create(settings);
        return await admin.PreviewAsync(db, audit.Value, scope, cancellationToken);
    }

    public async Task<List<RetentionChange>> ChangesAsync(CancellationToken cancellationToken = default)
    {
        await using var db = ConsoleDbContextFactory.Create(settings);
        return await db.RetentionChanges.AsNoTracking().OrderByDescending(c => c.Id).Take(50).ToListAsync(cancellationToken);
    }

    /// <summary>Every hold, active first, each with how many entries it covers now.</summary>
    public async Task<List<(LegalHold Hold, long Entries)>> HoldsAsync(CancellationToken cancellationToken = default)
    {
        await using var db = ConsoleDbContextFactory.Create(settings);
        var active = await planner.HoldsAsync(db, cancellationToken);
        var counts = new Dictionary<long, long>();
        foreach (var hold in active)
        {
            counts[hold.Hold.Id] = await hold.Seqs.LongCountAsync(cancellationToken);
        }

        var all = await db.LegalHolds.AsNoTracking().OrderBy(h => h.ReleasedAtUtc != null).ThenByDescending(h => h.Id).ToListAsync(cancellationToken);
        return all.Select(h => (h, counts.GetValueOrDefault(h.Id))).ToList();
    }

    public Task<RetentionResult> RequestAsync(string scope, int? days, string reason, string route, CancellationToken cancellationToken = default) =>
        ManageAsync(route, "Set a retention policy", (db, who) => admin.RequestAsync(db, scope, days, reason, who, cancellationToken), cancellationToken);

    public Task<RetentionResult> ApproveAsync(long change, string route, CancellationToken cancellationToken = default) =>
        ManageAsync(route, "Approve a retention change", (db, who) => admin.ApproveAsync(db, change, who, cancellationToken), cancellationToken);

    public Task<RetentionResult> RejectAsync(long change, string note, string route, CancellationToken cancellationToken = default) =>
        ManageAsync(route, "Reject a retention change", (db, who) => admin.RejectAsync(db, change, who, note, cancellationToken), cancellationToken);

    public Task<RetentionResult> PlaceHoldAsync(string query, DateTime? fromUtc, DateTime? toUtc, string reason, string reference, string route, CancellationToken cancellationToken = default) =>
        ManageAsync(route, "Place a legal hold", (db, who) => admin.PlaceHoldAsync(db, query, fromUtc, toUtc, reason, reference, who, cancellationToken), cancellationToken);

    public Task<RetentionResult> ReleaseHoldAsync(long hold, string reason, string route, CancellationToken cancellationToken = default) =>
        ManageAsync(route, "Release a legal hold", (db, who) => admin.ReleaseHoldAsync(db, hold, reason, who, cancellationToken), cancellationToken);

    /// <summary>Runs a job now (the purge through Quartz; the others here), as the person signed in.</summary>
    public async Task<RetentionResult> RunNowAsync(string job, string route, CancellationToken cancellationToken = default)
    {
        if (!await AllowedAsync(route, "Run a job now", cancellationToken))
        {
            return new RetentionResult(false, "Only an Admin or a ComplianceOfficer can run jobs. The attempt was recorded.");
        }

        var who = accessor.Current with { Origin = "page:" + route };
        var where = route == "/jobs" ? "below" : "on the Jobs page"; // where the run is listed, from the page that asked
        switch (job)
        {
            case JobNames.Purge:
                return await jobs.RunPurgeNowAsync(who, cancellationToken)
                    ? new RetentionResult(true, $"The purge started: it archives, verifies and anchors before it deletes. Its run is listed {where}.")
                    : new RetentionResult(false, $"A purge is running already: wait for it to finish (its run is listed {where}).");
            case JobNames.Verification or JobNames.Reconciliation:
                return checks.Start(job == JobNames.Verification ? BackgroundChecks.Verify : BackgroundChecks.Reconcile, who)
                    ? new RetentionResult(true, $"Started: its progress shows on the integrity page, and its run {where} when it ends.")
                    : new RetentionResult(false, "It is running already: see the integrity page.");
            case JobNames.Checkpoint or JobNames.Rollups:
                return await jobs.RunNowAsync(job, who, cancellationToken);
            default:
                return new RetentionResult(false, $"There is no job {job}.");
        }
    }

    private async Task<bool> AllowedAsync(string route, string what, CancellationToken cancellationToken)
    {
        var user = (await authentication.GetAuthenticationStateAsync()).User;
        if (MayManage(user))
        {
            return true;
        }

        await reads.DeniedAsync(route, what, ConsoleRoles.RetentionManagers.Split(','), cancellationToken);
        return false;
    }

    private async Task<RetentionResult> ManageAsync(string route, string what, Func<ConsoleDbContext, string, Task<RetentionResult>> change, CancellationToken cancellationToken)
    {
        if (!await AllowedAsync(route, what, cancellationToken))
        {
            return new RetentionResult(false, "Only an Admin or a ComplianceOfficer can change retention or holds. The attempt was recorded.");
        }

        var context = accessor.Current with { Origin = "page:" + route };
        await using var db = ConsoleDbContextFactory.Create(settings, b => b.UseAuditTrail(new AuditContextAccessor(context)));
        return await change(db, context.Actor.Name);
    }
}
