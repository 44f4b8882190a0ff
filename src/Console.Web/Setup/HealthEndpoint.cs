using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.Interceptors;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ComplianceConsole.Web.Setup;

public sealed record AuditHealth(string Status, long ChainHeadSeq, int SpooledTransactions, int SpooledEntries, int UnsealedOutOfBandRows, bool NeverBlock, string Message);

/// <summary>/health: whether every change is in the chain. Degraded (503) while never-block mode holds spooled entries.</summary>
public static class HealthEndpoint
{
    public static void MapAuditHealth(this IEndpointRouteBuilder app) =>
        app.MapGet("/health", async (IDbContextFactory<ConsoleDbContext> contexts, AuditSpool spool, IOptions<AuditOptions> audit, CancellationToken ct) =>
            {
                await using var db = await contexts.CreateDbContextAsync(ct);
                var head = await db.AuditEntries.MaxAsync(e => (long?)e.Seq, ct) ?? 0;
                var unsealed = await db.AuditPending.CountAsync(ct);
                var spooled = spool.ReadAll();
                var entries = spooled.Sum(r => r.Rows.Count);
                var health = spooled.Count == 0
                    ? new AuditHealth("Healthy", head, 0, 0, unsealed, audit.Value.NeverBlock, "Every committed change is in the audit chain" + (unsealed > 0 ? $", but {unsealed} out-of-band change(s) wait to be sealed." : "."))
                    : new AuditHealth("Degraded", head, spooled.Count, entries, unsealed, audit.Value.NeverBlock,
                        $"{entries} audit entr{(entries == 1 ? "y" : "ies")} from {spooled.Count} committed change(s) are in the never-block spool, not yet in the chain. " +
                        $"Last error: {spooled[^1].Error}. They are replayed every few seconds; fix the cause shown here.");
                return Results.Json(health, statusCode: spooled.Count == 0 ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
            })
            .RequireAuthorization(p => p.RequireRole(ConsoleRoles.Admin, ConsoleRoles.ComplianceOfficer, ConsoleRoles.Auditor));
}
