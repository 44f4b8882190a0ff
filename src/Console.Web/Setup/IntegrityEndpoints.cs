using System.Net;
using System.Text;
using System.Text.Json;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Web.Auditing;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Web.Setup;

/// <summary>
/// The verification report an auditor files: the last verification, the signed checkpoint it ended on with the signing
/// key's id (the public key's fingerprint), and the chain's head, as JSON and as a printable page. Trail readers only;
/// each download is recorded as <c>audit.exported</c>.
/// </summary>
public static class IntegrityEndpoints
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static void MapIntegrityReport(this IEndpointRouteBuilder app)
    {
        var readers = new AuthorizeAttribute { Roles = ConsoleRoles.TrailReaders };
        app.MapGet("/integrity/report.json", async (IDbContextFactory<ConsoleDbContext> contexts, ReadAudit reads, TimeProvider time, CancellationToken ct) =>
            {
                var report = await ReportAsync(contexts, reads, "json", time, ct);
                return Results.Text(JsonSerializer.Serialize(report, Json), "application/json", Encoding.UTF8);
            })
            .RequireAuthorization(readers);
        app.MapGet("/integrity/report.html", async (IDbContextFactory<ConsoleDbContext> contexts, ReadAudit reads, TimeProvider time, CancellationToken ct) =>
                Results.Content(Html(await ReportAsync(contexts, reads, "html", time, ct)), "text/html", Encoding.UTF8))
            .RequireAuthorization(readers);
    }

    private static async Task<VerificationReport> ReportAsync(IDbContextFactory<ConsoleDbContext> contexts, ReadAudit reads, string format, TimeProvider time, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var report = await AuditIntegrity.ReportAsync(db, time.GetUtcNow().UtcDateTime, ct);
        await reads.ReportDownloadedAsync(format, ct);
        return report;
    }

    /// <summary>A page to print or save as PDF: plain HTML, no script, every value encoded.</summary>
    private static string Html(VerificationReport report)
    {
        static string E(object? value) => WebUtility.HtmlEncode(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "—");
        static string T(DateTime? utc) => utc is { } t ? t.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + " UTC" : "—";
        var v = report.Verification;
        var c = report.Checkpoint;
        var html = new StringBuilder("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Verification report - Compliance Console</title>")
            .Append("<style>body{font:14px/1.5 system-ui,sans-serif;margin:2rem;color:#111}h1{font-size:1.4rem}table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #999;padding:4px 8px;text-align:left;vertical-align:top}th{background:#eee;width:14rem}code{word-break:break-all}</style></head><body>")
            .Append("<h1>Audit trail verification report</h1>")
            .Append($"<p>Generated {E(T(report.GeneratedAtUtc))}. Chain head: seq {E(report.HeadSeq)}, last written {E(T(report.HeadAtUtc))}.</p>")
            .Append("<h2>Last verification</h2>");
        html.Append(v is null
            ? "<p>The chain has not been verified from the console yet.</p>"
            : $"<table><tr><th>Result</th><td>{(v.Passed ? "The chain was whole and unaltered" : $"BROKEN at seq {E(v.BrokenAtSeq)}: {E(v.Problem)}")}</td></tr>" +
              $"<tr><th>Verified at</th><td>{E(T(v.AtUtc))}</td></tr><tr><th>By</th><td>{E(v.By)}</td></tr>" +
              $"<tr><th>Up to seq</th><td>{E(v.ThroughSeq)}</td></tr><tr><th>Entries checked</th><td>{E(v.Entries)}</td></tr>" +
              $"<tr><th>Recorded in the chain at</th><td>seq {E(v.EventSeq)}</td></tr></table>");
        html.Append("<h2>Signed checkpoint it ended on</h2>");
        html.Append(c is null
            ? "<p>No signed checkpoint covers it.</p>"
            : $"<table><tr><th>Seq</th><td>{E(c.Seq)}</td></tr><tr><th>Row hash</th><td><code>{E(c.RowHash)}</code></td></tr>" +
              $"<tr><th>Entries up to it</th><td>{E(c.EntryCount)}</td></tr><tr><th>Signed at</th><td>{E(T(c.SignedAtUtc))}</td></tr>" +
              $"<tr><th>Signing key (public key fingerprint)</th><td><code>{E(c.KeyId)}</code></td></tr><tr><th>Signature</th><td><code>{E(c.Signature)}</code></td></tr>" +
              $"<tr><th>Live chain agrees</th><td>{(c.AgreesWithLiveChain ? "yes" : "NO: the entry at this seq was rewritten or removed")}</td></tr></table>");
        html.Append("<p>To check this without the console: <code>verify --database COPY.db --checkpoints FOLDER --public-key checkpoint-key.pub.pem</code> (see the README).</p></body></html>");
        return html.ToString();
    }
}
