using System.Security.Claims;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.History;
using Microsoft.AspNetCore.Components.Authorization;

namespace ComplianceConsole.Web.Auditing;

/// <summary>
/// The history pages' way to revert: plans with <see cref="RecordReverter"/>, and applies through a context that records
/// the circuit's user with origin <c>revert</c>. Admins only, checked here as well as on the page; a refused attempt is
/// recorded as <c>access.denied</c>.
/// </summary>
public sealed class RevertActions(DatabaseSettings settings, RecordReverter reverter, WebAuditContextAccessor accessor,
    AuthenticationStateProvider authentication, ReadAudit reads)
{
    public static bool Allowed(ClaimsPrincipal user) => user.IsInRole(ConsoleRoles.Admin);

    public async Task<RevertPlan> PlanAsync(RecordRef record, long targetSeq, IReadOnlyCollection<string>? columns, CancellationToken cancellationToken = default)
    {
        await using var db = ConsoleDbContextFactory.Create(settings);
        return await reverter.PlanAsync(db, record, targetSeq, columns, cancellationToken);
    }

    public async Task<RevertPlan> PlanTransactionAsync(string transactionId, CancellationToken cancellationToken = default)
    {
        await using var db = ConsoleDbContextFactory.Create(settings);
        return await reverter.PlanTransactionAsync(db, transactionId, cancellationToken);
    }

    public async Task<RevertResult> ApplyAsync(RevertPlan plan, string reason, string route, CancellationToken cancellationToken = default)
    {
        var user = (await authentication.GetAuthenticationStateAsync()).User;
        if (!Allowed(user))
        {
            await reads.DeniedAsync(route, "Revert", [ConsoleRoles.Admin], cancellationToken);
            return new RevertResult(false, "Only an Admin can revert. The attempt was recorded.", null);
        }

        var context = accessor.Current with { Origin = AuditContext.RevertOrigin };
        await using var db = ConsoleDbContextFactory.Create(settings, b => b.UseAuditTrail(new AuditContextAccessor(context)));
        return await reverter.ApplyAsync(db, plan, reason, cancellationToken);
    }
}
