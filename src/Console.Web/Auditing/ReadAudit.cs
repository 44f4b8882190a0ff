using System.Data.Common;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Query;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Web.Auditing;

/// <summary>
/// Records who read what, and who was refused: <c>access.denied</c>, <c>audit.searched</c>, <c>audit.viewed</c> and
/// <c>record.viewed</c>, in the trail like every other event. A search is recorded once, not per page turn.
/// If the trail cannot be written the read still happens, and the failure is logged: refusing to show the trail
/// because the trail is broken would hide the evidence of the breakage.
/// </summary>
public sealed class ReadAudit(IDbContextFactory<ConsoleDbContext> contexts, ILogger<ReadAudit> log)
{
    private string? _lastSearch;

    public Task DeniedAsync(string route, string page, IReadOnlyList<string> needs, CancellationToken cancellationToken = default) =>
        RecordAsync(AuditEventNames.AccessDenied, route, new Dictionary<string, string?>
        {
            ["route"] = WebAuditContextAccessor.Truncate(route, 300)!,
            ["page"] = page,
            ["needs"] = needs.Count == 0 ? "signed-in user" : string.Join(",", needs),
        }, cancellationToken);

    /// <summary>Records a search unless it is the one this reader recorded last (a page turn, a reload of the same view).</summary>
    public async Task SearchedAsync(AuditSearch search, CancellationToken cancellationToken = default)
    {
        var key = search.FirstPage.ToQueryString();
        if (key == _lastSearch)
        {
            return;
        }

        _lastSearch = key;
        await RecordAsync(AuditEventNames.AuditSearched, "audit-trail", new Dictionary<string, string?>
        {
            ["query"] = search.Query.Text,
            ["range"] = search.Range.Preset ?? $"{(search.Range.FromUtc is { } f ? TimeFormat.ToUrl(f) : "")}..{(search.Range.ToUtc is { } t ? TimeFormat.ToUrl(t) : "")}",
        }, cancellationToken);
    }

    /// <summary>Records that a trail reader downloaded the verification report (integrity page).</summary>
    public Task ReportDownloadedAsync(string format, CancellationToken cancellationToken = default) =>
        RecordAsync(AuditEventNames.AuditExported, "verification-report", new Dictionary<string, string?> { ["format"] = format, ["report"] = "verification" }, cancellationToken);

    public Task EntryViewedAsync(long seq, CancellationToken cancellationToken = default) =>
        RecordAsync(AuditEventNames.AuditViewed, $"seq:{seq}", new Dictionary<string, string?> { ["seq"] = seq.ToString(System.Globalization.CultureInfo.InvariantCulture) }, cancellationToken);

    public Task HistoryViewedAsync(string table, string key, CancellationToken cancellationToken = default) =>
        RecordAsync(AuditEventNames.AuditViewed, $"{table}/{key}", new Dictionary<string, string?> { ["table"] = table, ["key"] = key }, cancellationToken);

    /// <summary>
    /// Records that a trail reader opened the managed record with this single-column id, keyed as the trail keys it:
    /// <c>{"Id":7}</c>, or <c>{"Id":"74C9E82F-…"}</c> for a GUID (upper case, as SQLite stores it).
    /// </summary>
    public Task RecordViewedAsync(System.Security.Claims.ClaimsPrincipal user, string table, object id, CancellationToken cancellationToken = default) =>
        RecordViewedAsync(user, table, id is Guid guid ? $"{{\"Id\":\"{guid.ToString().ToUpperInvariant()}\"}}" : $"{{\"Id\":{id}}}", cancellationToken);

    /// <summary>Records that a trail reader (not an editor at work) opened a managed record.</summary>
    public Task RecordViewedAsync(System.Security.Claims.ClaimsPrincipal user, string table, string key, CancellationToken cancellationToken = default) =>
        user.IsInRole(ConsoleRoles.ComplianceOfficer) || user.IsInRole(ConsoleRoles.Auditor)
            ? RecordAsync(AuditEventNames.RecordViewed, $"{table}/{key}", new Dictionary<string, string?> { ["table"] = table, ["key"] = key }, cancellationToken)
            : Task.CompletedTask;

    private async Task RecordAsync(string name, string target, Dictionary<string, string?> metadata, CancellationToken cancellationToken)
    {
        try
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(name, WebAuditContextAccessor.Truncate(target, 400), metadata), cancellationToken);
        }
        catch (Exception ex) when (ex is AuditCaptureException or DbException or DbUpdateException)
        {
            log.LogError(ex, "The {Event} event could not be recorded: the audit trail cannot be written. Check /health.", name);
        }
    }
}
