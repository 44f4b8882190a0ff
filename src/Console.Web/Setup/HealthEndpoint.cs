using System.Data.Common;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.Interceptors;
using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.Extensions.Options;

namespace ComplianceConsole.Web.Setup;

/// <summary>The /health answer. Fields after <c>Message</c> were added later; clients that do not know them can ignore them.</summary>
public sealed record AuditHealth(
    string Status, long ChainHeadSeq, int SpooledTransactions, int SpooledEntries, int UnsealedOutOfBandRows, bool NeverBlock, string Message,
    bool StoreWritable, string? StoreError, int UnreadableSpoolLines, int QuarantinedLines, string? NewestQuarantineReason, string? QuarantinePath,
    IReadOnlyList<string> TamperSignals, string? LastReconciliation = null, string? RetentionPurge = null,
    IReadOnlyList<string>? CaptureProblems = null, IReadOnlyList<string>? CaptureNotes = null);

/// <summary>
/// /health: whether every change is in the chain. Unhealthy (503) when the audit store refuses entries (probed on
/// the real write path, rolled back); Degraded (503) while never-block mode holds spooled or quarantined entries.
/// </summary>
public static class HealthEndpoint
{
    public static void MapAuditHealth(this IEndpointRouteBuilder app)
    {
        var options = app.ServiceProvider.GetRequiredService<IOptions<HealthOptions>>().Value;
        var readers = new AuthorizationPolicyBuilder()
            .AddRequirements(new RolesOrMonitorToken(options.MonitorToken, ConsoleRoles.TrailReaders.Split(',')))
            .Build();
        app.MapGet("/health", async (IDbContextFactory<ConsoleDbContext> contexts, AuditSpool spool, IOptions<AuditOptions> audit, ILoggerFactory loggers, Jobs.JobsService jobs, CancellationToken ct) =>
            {
                var health = await CheckAsync(contexts, spool, audit.Value.NeverBlock, ct, await PurgeProblemAsync(jobs, ct), audit.Value, jobs.Options.RunsHere);
                if (health.Status != "Healthy")
                {
                    loggers.CreateLogger(typeof(HealthEndpoint)).LogError("Audit health {Status}: {Message}", health.Status, health.Message);
                }

                return Results.Json(health, statusCode: health.Status == "Healthy" ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
            })
            .RequireAuthorization(readers);

        if (options.AnonymousLiveness)
        {
            // The status word only: no counts, no trail size, nothing about the data.
            app.MapGet("/health/live", async (IDbContextFactory<ConsoleDbContext> contexts, AuditSpool spool, IOptions<AuditOptions> audit, Jobs.JobsService jobs, CancellationToken ct) =>
                {
                    var health = await CheckAsync(contexts, spool, audit.Value.NeverBlock, ct, await PurgeProblemAsync(jobs, ct), audit.Value, jobs.Options.RunsHere);
                    return Results.Json(new { status = health.Status }, statusCode: health.Status == "Healthy" ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
                })
                .AllowAnonymous();
        }
    }

    /// <summary>A failed or stuck purge, or null; a scheduler that cannot be read is not a purge problem (the store's own checks say more).</summary>
    private static async Task<string?> PurgeProblemAsync(Jobs.JobsService jobs, CancellationToken ct)
    {
        try
        {
            return await jobs.PurgeProblemAsync(ct);
        }
        catch (DbException)
        {
            return null;
        }
    }

    /// <param name="audit">The policy in configuration: when given, the database's capture is checked against it, read-only.</param>
    /// <param name="purgesHere">This node runs the retention purge (Retention:RunsHere).</param>
    internal static async Task<AuditHealth> CheckAsync(IDbContextFactory<ConsoleDbContext> contexts, AuditSpool spool, bool neverBlock, CancellationToken ct, string? purgeProblem = null, AuditOptions? audit = null, bool purgesHere = false)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        long head = 0;
        var unsealed = 0;
        List<TamperSignal> tamper = [];
        AuditEntry? reconciliation = null;
        AuditCaptureCheck? capture = null;
        var probe = await AuditStoreProbe.CheckAsync(db, ct);
        try
        {
            head = await db.AuditEntries.MaxAsync(e => (long?)e.Seq, ct) ?? 0;
            unsealed = await db.AuditPending.CountAsync(ct);
            tamper = await AuditTamperSignals.OpenAsync(db, ct);
            reconciliation = await AuditIntegrity.LastReconciliationAsync(db, ct);
            if (audit is not null)
            {
                capture = await AuditCaptureChecker.CheckAsync(db.Database, audit, DatabaseInitializer.Owner, purgesHere, ct);
            }
        }
        catch (DbException ex)
        {
            probe = new AuditProbeResult(false, ex.Message);
        }

        var spooled = spool.Summarize();
        string status, message;
        if (!probe.Writable)
        {
            status = "Unhealthy";
            message = $"The audit trail cannot be written: {probe.Error} " +
                (neverBlock ? "Changes still commit, and their entries go to the never-block spool. " : "Every change fails until this is fixed. ") +
                "Check the database file, the free disk space and the permissions, then run 'verify'. " + spooled.Describe();
        }
        else if (!spooled.IsEmpty)
        {
            status = "Degraded";
            message = spooled.Describe() + " Fix the cause shown here.";
        }
        else if (capture is { IsClean: false })
        {
            status = "Degraded";
            message = $"Capture is not as deployed, so some changes may not be recorded: {string.Join("; ", capture.Problems)}.";
        }
        else if (tamper.Count > 0)
        {
            status = "Degraded";
            message = $"Capture was tampered with and restored at start-up ({tamper.Count} time(s), newest at seq {tamper[^1].Seq}): {tamper[^1].Restored.Replace("\n", "; ")}. " +
                      "Changes made while a trigger was missing are not in the trail. An Admin acknowledges this on the Audit log page once it is investigated.";
        }
        else if (reconciliation is { EventName: AuditEventNames.ReconcileMismatch } found)
        {
            status = "Degraded";
            message = $"The last reconciliation (seq {found.Seq}, {found.OccurredAtUtc:yyyy-MM-dd HH:mm:ss} UTC) found " +
                      $"{EventSummary.Metadata(found.Metadata).GetValueOrDefault("mismatches")} row(s) that do not match the trail: changes were made without capture. " +
                      "Investigate them (run 'reconcile' for the list, open each record's history), then run 'reconcile' again; a clean run clears this.";
        }
        else if (purgeProblem is not null)
        {
            status = "Degraded";
            message = purgeProblem;
        }
        else
        {
            status = "Healthy";
            message = "Every committed change is in the audit chain" + (unsealed > 0 ? $", but {unsealed} out-of-band change(s) wait to be sealed." : ".");
        }

        return new AuditHealth(status, head, spooled.SpooledTransactions, spooled.SpooledEntries, unsealed, neverBlock, message.Trim(),
            probe.Writable, probe.Error, spooled.UnreadableLines, spooled.QuarantinedLines, spooled.NewestQuarantineReason,
            spooled.QuarantinedLines > 0 ? spooled.QuarantinePath : null,
            tamper.Select(t => $"seq {t.Seq}: {t.Restored.Replace("\n", "; ")} (since: {t.Since?.Replace("\n", "; ")})").ToList(),
            reconciliation is null ? null : $"seq {reconciliation.Seq} at {reconciliation.OccurredAtUtc:yyyy-MM-dd HH:mm:ss} UTC: " +
                (reconciliation.EventName == AuditEventNames.ReconcileMismatch ? "mismatches found" : "every live row matched the trail"),
            purgeProblem, capture?.Problems, capture?.Notes);
    }
}

/// <summary>Health: how monitors reach /health (README, "Health checks").</summary>
public sealed class HealthOptions
{
    /// <summary>A secret that lets a monitor read /health with <c>Authorization: Bearer &lt;token&gt;</c>, without signing in. Empty: off.</summary>
    public string? MonitorToken { get; set; }

    /// <summary>Serve /health/live to anyone: the status word (Healthy, Degraded, Unhealthy) and its HTTP code, nothing else.</summary>
    public bool AnonymousLiveness { get; set; }
}

/// <summary>Lets in the given roles, or a request bearing the monitor token (compared in constant time).</summary>
public sealed class RolesOrMonitorToken(string? token, IEnumerable<string> roles) : RolesAuthorizationRequirement(roles)
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, RolesAuthorizationRequirement requirement)
    {
        if (!string.IsNullOrEmpty(token) && context.Resource is HttpContext http
            && http.Request.Headers.Authorization.ToString() is { } header && header.StartsWith("Bearer ", StringComparison.Ordinal)
            && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()), System.Text.Encoding.UTF8.GetBytes(token)))
        {
            context.Succeed(requirement);
            return Task.CompletedTask;
        }

        return base.HandleRequirementAsync(context, requirement);
    }
}
