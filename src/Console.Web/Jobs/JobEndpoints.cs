using ComplianceConsole.Core.Retention;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Domain;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Web.Jobs;

public static class JobEndpoints
{
    /// <summary>A purge run's signed archive manifest, for any trail reader (an auditor checks the archive with it and the public key).</summary>
    public static void MapJobDownloads(this IEndpointRouteBuilder app)
    {
        app.MapGet("/jobs/{id:long}/manifest", async (long id, DatabaseSettings settings, RetentionRunner runner, CancellationToken ct) =>
        {
            await using var db = ConsoleDbContextFactory.Create(settings);
            var run = await db.JobRuns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct);
            var root = runner.Sink.Location("");
            if (run?.ArchiveLocation is not { } location || !Path.GetFullPath(location).StartsWith(Path.GetFullPath(root), StringComparison.Ordinal))
            {
                return Results.Text($"Run {id} has no archive here: only a purge that archived something has a manifest. See /jobs.", statusCode: 404);
            }

            var manifest = Path.Combine(location, ArchiveManifest.FileName);
            return File.Exists(manifest)
                ? Results.File(manifest, "application/json", $"{Path.GetFileName(location.TrimEnd('/', '\\'))}-{ArchiveManifest.FileName}")
                : Results.Text($"The archive of run {id} is no longer at {location}: it was moved or removed. The anchor in the chain still records its manifest's hash.", statusCode: 404);
        }).RequireAuthorization(new AuthorizeAttribute { Roles = ConsoleRoles.TrailReaders });
    }
}
