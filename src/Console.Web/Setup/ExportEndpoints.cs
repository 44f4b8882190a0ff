using ComplianceConsole.Core.Export;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Web.Auditing;
using Microsoft.AspNetCore.Authorization;

namespace ComplianceConsole.Web.Setup;

/// <summary>
/// Export files and their manifests: ComplianceOfficers and Admins, and only the export's requester or an Admin; any
/// other request is refused (403) and the refusal recorded as <c>access.denied</c>.
/// </summary>
public static class ExportEndpoints
{
    public static void MapExportDownloads(this IEndpointRouteBuilder app)
    {
        var exporters = new AuthorizeAttribute { Roles = ConsoleRoles.TrailExporters };
        app.MapGet("/exports/{file}", (string file, HttpContext http, ExportJobs jobs, ReadAudit reads, CancellationToken ct) => ServeAsync(file, false, http, jobs, reads, ct))
            .RequireAuthorization(exporters);
        app.MapGet("/exports/{file}/manifest", (string file, HttpContext http, ExportJobs jobs, ReadAudit reads, CancellationToken ct) => ServeAsync(file, true, http, jobs, reads, ct))
            .RequireAuthorization(exporters);
    }

    private static async Task<IResult> ServeAsync(string file, bool manifest, HttpContext http, ExportJobs jobs, ReadAudit reads, CancellationToken ct)
    {
        var user = http.User;
        var userId = WebAuditContextAccessor.ActorOf(user).Id;
        var admin = user.IsInRole(ConsoleRoles.Admin);
        if (file.Contains('/') || file.Contains('\\') || file.Contains(".."))
        {
            return Results.NotFound();
        }

        switch (await jobs.MayDownloadAsync(file, userId, admin, ct))
        {
            case null:
                return Results.Text($"There is no export called {file}, or it has expired: export the search again.", statusCode: 404);
            case false:
                await reads.DeniedAsync(http.Request.Path, "Export download", [ConsoleRoles.Admin, "the export's requester"], ct);
                return Results.Text("Only the person who asked for this export, or an Admin, may download it.", statusCode: 403);
        }

        var path = Path.Combine(jobs.Folder, file);
        return manifest
            ? Results.File(ExportManifest.PathFor(path), "application/json", file + ".manifest.json")
            : Results.File(path, file.EndsWith(".xlsx", StringComparison.Ordinal) ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv", file);
    }
}
