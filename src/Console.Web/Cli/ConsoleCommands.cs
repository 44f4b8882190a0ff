using ComplianceConsole.Web.Seeding;

namespace ComplianceConsole.Web.Cli;

/// <summary>
/// The console's command-line verbs. With no verb (or only host options such as <c>--urls</c>) the console serves the
/// web UI. An unknown verb prints the verbs and exits 2; <c>--help</c> prints them and exits 0.
/// </summary>
public static class ConsoleCommands
{
    private static readonly (string Verb, string Usage, string Summary)[] Verbs =
    [
        ("verify", "verify [--database FILE] [--checkpoints FOLDER --public-key FILE] [--spool FILE] [--archives FOLDER]",
            "read-only: recompute the hash chain (across the ranges retention removed), check capture triggers, signed checkpoints and, with --archives, every retention archive and how it joins the chain; exit 1 names what is wrong"),
        ("verify-archive", "verify-archive FOLDER [--public-key FILE]",
            "read-only: check one retention archive alone, offline (signed manifest, every file's SHA-256, each entry's hashes); exit 1 says what differs"),
        ("checkpoint", "checkpoint", "sign a checkpoint of the chain now (written to Audit:Checkpoints:Folder and recorded in the chain)"),
        ("seed", "seed", "delete the SQLite database and recreate it with fresh demo data"),
        ("rebuild-rollups", "rebuild-rollups", "empty the rollups (the counts of the histogram, the dashboard and its findings) and count the whole trail again"),
        ("install-capture", "install-capture [--script FILE] [--partition-monthly]",
            "the deploy step: migrate, make the roles, install the guards and capture triggers (recorded in the chain) and, on SQL Server, the scheduler's tables, as Database:DeployConnectionString; --script writes it as idempotent T-SQL for sqlcmd instead; --partition-monthly (SQL Server) partitions the store so retention switches out whole months; exit 1 names tables that cannot be captured"),
        ("remove-capture", "remove-capture --table TABLE --reason TEXT", "stop capturing a table on purpose; recorded as audit.capture_removed"),
        ("export", "export --format csv|xlsx --query \"QUERY\" [--from TIME] [--to TIME | --range 30d] --out FILE [--zone ZONE] [--values full|changed] [--as EMAIL --reason TEXT]",
            "a search of the trail as a file, with a signed manifest beside it; recorded as audit.exported"),
        ("verify-export", "verify-export FILE [--manifest FILE] [--public-key FILE]",
            "read-only: check an export against its signed manifest (signature, SHA-256, rows, seq range); exit 1 says what differs"),
        ("reconcile", "reconcile [--table TABLE]",
            "rebuild every record from the trail and compare it with the live row; exit 1 lists the rows changed without capture"),
    ];

    /// <summary>The verb the arguments name, or null when they only configure the web host.</summary>
    public static string? VerbOf(string[] args) => args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) || args is ["--help" or "-h", ..]
        ? args[0]
        : null;

    public static async Task<int> RunAsync(string verb, string[] args, WebApplicationBuilder builder)
    {
        switch (verb)
        {
            case "help" or "--help" or "-h":
                Console.WriteLine(Usage());
                return 0;
            case "verify":
                return await VerifyCommand.RunAsync(args[1..], builder.Configuration, builder.Environment.ContentRootPath);
            case "seed":
            {
                await using var app = builder.Build();
                await app.Services.GetRequiredService<DemoSeeder>().RecreateAsync();
                return 0;
            }

            case "checkpoint":
            {
                await using var app = builder.Build();
                var (key, sink) = Auditing.CheckpointService.Open(app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Core.Auditing.AuditOptions>>().Value.Checkpoints, builder.Environment.ContentRootPath);
                using (key)
                {
                    var checkpoint = await Auditing.CheckpointService.SignNowAsync(app.Services.GetRequiredService<Data.DatabaseSettings>(), key, sink, TimeProvider.System, default);
                    Console.WriteLine(checkpoint is null
                        ? "The chain has not moved since the last checkpoint: nothing to sign."
                        : $"Signed a checkpoint of seq {checkpoint.Seq} into {sink.FilePath} with key {checkpoint.KeyId} ({key.Source}).");
                }

                return 0;
            }

            case "rebuild-rollups":
            {
                ConsoleCommands.Options(args[1..], "rebuild-rollups");
                await using var app = builder.Build();
                await using var db = Data.ConsoleDbContextFactory.Create(app.Services.GetRequiredService<Data.DatabaseSettings>());
                var watch = System.Diagnostics.Stopwatch.StartNew();
                var counted = await Data.Rollups.AuditRollups.RebuildAsync(db, (done, head) => Console.Write($"\rCounted up to seq {done:N0} of {head:N0}"));
                Console.WriteLine($"\rThe rollups were rebuilt from {counted:N0} entries in {watch.Elapsed.TotalSeconds:N0} s.");
                return 0;
            }

            case "reconcile":
            {
                await using var app = builder.Build();
                return await ReconcileCommand.RunAsync(args[1..], app.Services);
            }

            case "export":
            {
                await using var app = builder.Build();
                return await ExportCommand.ExportAsync(args[1..], app.Services, builder.Configuration, builder.Environment.ContentRootPath);
            }

            case "verify-export":
                return await ExportCommand.VerifyAsync(args[1..], builder.Configuration, builder.Environment.ContentRootPath);

            case "verify-archive":
                return await ArchiveCommand.VerifyAsync(args[1..], builder.Configuration, builder.Environment.ContentRootPath);

            case "install-capture":
            {
                await using var app = builder.Build();
                return await InstallCaptureCommand.RunAsync(args[1..], app.Services);
            }

            case "remove-capture":
            {
                await using var app = builder.Build();
                return await RemoveCaptureCommand.RunAsync(args[1..], app.Services);
            }

            default:
                var guess = Verbs.MinBy(v => ComplianceConsole.Core.Spelling.Distance(v.Verb, verb));
                var hint = ComplianceConsole.Core.Spelling.Distance(guess.Verb, verb) <= 2 ? $" Did you mean '{guess.Verb}'?" : "";
                await Console.Error.WriteLineAsync($"Unknown verb '{verb}'.{hint}\n\n{Usage()}");
                return 2;
        }
    }

    public static string Usage() =>
        "Compliance Console\n" +
        "  dotnet run --project src/Console.Web                 serve the console (creates and seeds the database on first run)\n" +
        string.Concat(Verbs.Select(v => $"  dotnet run --project src/Console.Web -- {v.Usage}\n      {v.Summary}\n")) +
        "  dotnet run --project src/Console.Web -- --help        this list";

    /// <summary>Reads <c>--name value</c> pairs; a flag without a value, or an unknown one, is an error that says what to write.</summary>
    internal static Dictionary<string, string> Options(string[] args, string verb, params string[] known) => Options(args, verb, [], known);

    /// <summary>As <see cref="Options(string[], string, string[])"/>, and <paramref name="switches"/> stand alone (present: an empty value).</summary>
    internal static Dictionary<string, string> Options(string[] args, string verb, IReadOnlyCollection<string> switches, params string[] known)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (switches.Contains(name))
            {
                options[name] = "";
                continue;
            }

            if (!known.Contains(name))
            {
                throw new UsageException($"'{verb}' has no option '{name}'. Its options: {string.Join(", ", known.Concat(switches))}.");
            }

            if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                throw new UsageException($"'{name}' needs a value, for example {name} {Example(name)}.");
            }

            options[name] = args[++i];
        }

        return options;
    }

    private static string Example(string option) => option switch
    {
        "--database" => "App_Data/console.db",
        "--checkpoints" => "App_Data/checkpoints",
        "--public-key" => "App_Data/checkpoint-key.pub.pem",
        "--table" => "Customers",
        "--reason" => "\"moved to the ERP\"",
        "--format" => "csv",
        "--query" => "\"op:delete table:Payments\"",
        "--out" => "deletes.csv",
        "--from" or "--to" => "2026-11-30",
        "--range" => "30d",
        "--zone" => "Europe/Zurich",
        "--values" => "changed",
        "--as" => "olivia.officer@console.local",
        "--manifest" => "deletes.csv.manifest.json",
        "--archives" => "App_Data/archives",
        "--script" => "deploy.sql",
        _ => "VALUE",
    };
}

/// <summary>A command line that cannot be run as written: the message says what to write instead (exit code 2).</summary>
public sealed class UsageException(string message) : Exception(message);
