using System.Diagnostics;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Core.Export;
using ComplianceConsole.Core.Query;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Archive;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Queries;

namespace ComplianceConsole.Web.Cli;

/// <summary>
/// <c>export</c>: a search of the trail as a CSV or XLSX file with its signed manifest, recorded in the chain as the CLI's
/// (or a named user's, with a reason). <c>verify-export</c>: a file against its manifest, offline, with the public key.
/// </summary>
public static class ExportCommand
{
    public static async Task<int> ExportAsync(string[] args, IServiceProvider services, IConfiguration configuration, string contentRoot)
    {
        var options = ConsoleCommands.Options(args, "export", "--format", "--query", "--from", "--to", "--range", "--out", "--zone", "--values", "--as", "--reason");
        var format = options.GetValueOrDefault("--format") switch
        {
            "csv" => ExportFormat.Csv,
            "xlsx" => ExportFormat.Xlsx,
            var other => throw new UsageException($"export needs --format csv or --format xlsx{(other is null ? "" : $", not '{other}'")}."),
        };
        var output = options.GetValueOrDefault("--out") ?? throw new UsageException("export needs --out FILE, for example --out deletes.csv.");
        output = Path.GetFullPath(output);
        if (Path.GetDirectoryName(output) is not { } folder || !Directory.Exists(folder))
        {
            throw new UsageException($"export cannot write {output}: the folder {Path.GetDirectoryName(output)} does not exist. Create it, or give another --out.");
        }

        var parsed = QueryParser.Parse(options.GetValueOrDefault("--query") ?? "");
        if (!parsed.Ok)
        {
            throw new UsageException($"export cannot read the query: {string.Join(" ", parsed.Problems.Select(p => p.Message))}");
        }

        var zone = TimeZoneInfo.Utc;
        if (options.GetValueOrDefault("--zone") is { } zoneName && !TimeZoneInfo.TryFindSystemTimeZoneById(zoneName, out zone!))
        {
            throw new UsageException($"export does not know the time zone '{zoneName}': write an IANA name such as Europe/Zurich, or leave --zone out for UTC.");
        }

        var values = options.GetValueOrDefault("--values") switch
        {
            null or "full" => ExportValues.Full,
            "changed" => ExportValues.ChangedOnly,
            var other => throw new UsageException($"--values is full (the default) or changed, not '{other}'."),
        };
        var range = Range(options, zone);
        var (actor, origin) = options.GetValueOrDefault("--as") is { } user
            ? (new AuditActor("cli:" + user, user, []), "cli:export")
            : (AuditActor.System("cli"), "cli:export");
        if (options.ContainsKey("--as") && !options.ContainsKey("--reason"))
        {
            throw new UsageException("--as names who the export is for; give --reason too, for example --reason \"request 4711 from the regulator\".");
        }

        var settings = services.GetRequiredService<DatabaseSettings>();
        var audit = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AuditOptions>>().Value;
        var (key, _) = Auditing.CheckpointService.Open(audit.Checkpoints, contentRoot);
        using (key)
        {
            await using var db = ConsoleDbContextFactory.Create(settings, b => b.UseAuditTrail(new AuditContextAccessor(new AuditContext(actor, origin, Guid.NewGuid().ToString("N")))));
            var exporter = new AuditExporter(services.GetRequiredService<AuditSearchService>());
            var watch = Stopwatch.StartNew();
            var terminal = !Console.IsOutputRedirected;
            var progress = new Progress<long>(rows =>
            {
                if (terminal)
                {
                    Console.Write($"\rExported {rows:N0} rows, {rows / Math.Max(watch.Elapsed.TotalSeconds, 0.001):N0} rows/s   ");
                }
            });
            using var cancel = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                cancel.Cancel();
            };
            try
            {
                var result = await exporter.RunAsync(db, new AuditSearch(parsed.Query, range), new AuditFileOptions(format, ExportRows.Columns, zone, values), output, key, actor.Name, progress,
                    options.GetValueOrDefault("--reason"), cancel.Token);
                var m = result.Manifest;
                Console.WriteLine($"\rExported {m.Rows:N0} entries {(m.Rows == 0 ? "(the search matched none: the file has its header only)" : $"(seq {m.FirstSeq} to {m.LastSeq})")} to {result.Path} in {watch.Elapsed.TotalSeconds:N1} s; SHA-256 {m.Sha256}.");
                Console.WriteLine($"Signed manifest: {result.ManifestPath} (key {m.KeyId}). Check it with: verify-export {result.Path}");
                return 0;
            }
            catch (OperationCanceledException)
            {
                await Console.Error.WriteLineAsync("\nexport: cancelled; no file was written, and the cancel is recorded in the chain.");
                return 1;
            }
            catch (IOException ex)
            {
                await Console.Error.WriteLineAsync($"\nexport: the file could not be written ({ex.Message}); nothing was left behind, and the failure is recorded in the chain.");
                return 1;
            }
        }
    }

    private static TimeRange Range(Dictionary<string, string> options, TimeZoneInfo zone)
    {
        if (options.GetValueOrDefault("--range") is { } preset)
        {
            return TimeRange.Presets.Any(p => p.Key == preset)
                ? new TimeRange(preset)
                : throw new UsageException($"--range is one of {string.Join(", ", TimeRange.Presets.Select(p => p.Key))}, not '{preset}'.");
        }

        return TimeRange.TryParse(options.GetValueOrDefault("--from"), options.GetValueOrDefault("--to"), zone, out var problem, ("--from", "--to"))
            ?? throw new UsageException(problem!);
    }

    /// <summary><c>verify-export FILE [--manifest FILE] [--public-key FILE]</c>: exit 0 when the file is as signed, 1 when not, 2 when it cannot be checked.</summary>
    public static async Task<int> VerifyAsync(string[] args, IConfiguration configuration, string contentRoot)
    {
        if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
        {
            throw new UsageException("verify-export needs the file first, for example: verify-export deletes.csv [--public-key checkpoint-key.pub.pem].");
        }

        var file = Path.GetFullPath(args[0]);
        var options = ConsoleCommands.Options(args[1..], "verify-export", "--manifest", "--public-key");
        var manifestPath = options.GetValueOrDefault("--manifest") ?? ExportManifest.PathFor(file);
        var keyPath = options.GetValueOrDefault("--public-key")
            ?? CheckpointKey.PublicKeyPathFor(Resolve(configuration["Audit:Checkpoints:KeyPath"] ?? "App_Data/checkpoint-key.pem", contentRoot));
        foreach (var (path, what) in new[] { (file, "export file"), (manifestPath, "manifest (give it with --manifest FILE)"), (keyPath, "public key (give it with --public-key FILE)") })
        {
            if (!File.Exists(path))
            {
                await Console.Error.WriteLineAsync($"verify-export: there is no {what} at {path}.");
                return 2;
            }
        }

        if (!ExportManifest.TryParse(await File.ReadAllTextAsync(manifestPath), out var manifest, out var reason))
        {
            await Console.Error.WriteLineAsync($"verify-export: {manifestPath} cannot be used: {reason}.");
            return 2;
        }

        using var key = CheckpointPublicKey.FromPemFile(keyPath);
        var result = await ExportVerifier.VerifyAsync(file, manifest, key);
        if (result.IsValid)
        {
            var what = manifest.FirstSeq is null
                ? $"{manifest.Rows:N0} rows ({manifest.Scope})"
                : $"{manifest.Rows:N0} entries (seq {manifest.FirstSeq} to {manifest.LastSeq}, {manifest.Scope}) of \"{manifest.Query}\"";
            Console.WriteLine($"OK: {file} is the export signed with key {key.KeyId}: {what}, exported by {manifest.By} at {TimeFormat.Format(manifest.CreatedAtUtc, TimeZoneInfo.Utc)} UTC. " +
                              $"{manifest.Neutralisation}.");
            if (manifest.FirstSeq is not null)
            {
                Console.WriteLine($"Each row checked against its canonical form: {result.RowsChecked:N0} rows, their payload and row hashes and every cell" +
                                  (result.RowsUnchecked > 0 ? $"; {result.RowsUnchecked:N0} rows not checked, their canonical form cut by Excel's cell limit (verify a CSV export of the same search)." : "."));
            }

            return 0;
        }

        Console.WriteLine($"NOT VERIFIED: {file}");
        foreach (var problem in result.Problems)
        {
            Console.WriteLine("- " + problem);
        }

        return 1;
    }

    private static string Resolve(string path, string contentRoot) => ContentPath.Resolve(path, contentRoot);
}
