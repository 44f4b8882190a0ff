using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Interceptors;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Web.Cli;

/// <summary>
/// <c>verify</c>: proves the trail, read-only. It never creates, migrates, installs or writes anything: the database
/// is opened read-only (immutable when even its folder is read-only, as on a copy handed over to an auditor).
/// Exit 0: intact. Exit 1: broken, tampered or incomplete, with what and where. Exit 2: nothing to verify.
/// </summary>
public static class VerifyCommand
{
    public static async Task<int> RunAsync(string[] args, IConfiguration configuration, string contentRoot)
    {
        var options = ConsoleCommands.Options(args, "verify", "--database", "--checkpoints", "--public-key", "--spool", "--archives");
        var settings = options.TryGetValue("--database", out var file)
            ? new DatabaseSettings(DatabaseProvider.Sqlite, new SqliteConnectionStringBuilder { DataSource = Path.GetFullPath(file) }.ToString())
            : DatabaseSettings.From(configuration, contentRoot);

        if (settings.SqliteFilePath is { } path)
        {
            if (!File.Exists(path))
            {
                await Console.Error.WriteLineAsync($"verify: there is no database at {path}. Give the path of a Compliance Console database: verify --database FILE.");
                return 2;
            }

            // A file with no -wal or -shm beside it (a copy, or a database closed cleanly) is opened immutable, so that not
            // even SQLite's shared-memory file is created next to it; a live database is opened read-only.
            settings = settings with { ConnectionString = ReadOnly(path, immutable: !File.Exists(path + "-wal") && !File.Exists(path + "-shm")) };
        }

        await using var db = ConsoleDbContextFactory.Create(settings);
        if (!await IsConsoleDatabaseAsync(db))
        {
            await Console.Error.WriteLineAsync($"verify: {settings.SqliteFilePath ?? "the configured database"} is not a Compliance Console database (it has no AuditEntries table). Check the path.");
            return 2;
        }

        // Signed checkpoints: those named, or this installation's when verify runs on its own database.
        var checkpointFolder = options.GetValueOrDefault("--checkpoints")
            ?? (options.ContainsKey("--database") ? null : Resolve(configuration["Audit:Checkpoints:Folder"] ?? "App_Data/checkpoints", contentRoot));
        var publicKeyPath = options.GetValueOrDefault("--public-key")
            ?? (options.ContainsKey("--database") ? null : CheckpointKey.PublicKeyPathFor(Resolve(configuration["Audit:Checkpoints:KeyPath"] ?? "App_Data/checkpoint-key.pem", contentRoot)));
        if (options.ContainsKey("--checkpoints") != options.ContainsKey("--public-key"))
        {
            throw new UsageException("--checkpoints and --public-key go together: the folder of checkpoints.jsonl and the public key that verifies them.");
        }

        CheckpointVerifier? checkpoints = null;
        HashSet<string>? signatures = null;
        if (checkpointFolder is not null && publicKeyPath is not null && (options.ContainsKey("--checkpoints") || File.Exists(publicKeyPath)))
        {
            if (!File.Exists(publicKeyPath))
            {
                await Console.Error.WriteLineAsync($"verify: there is no public key at {publicKeyPath}. Give the checkpoint public key (PEM): --public-key FILE.");
                return 2;
            }

            var read = await new FolderCheckpointSink(checkpointFolder).ReadAllAsync();
            using var publicKey = CheckpointPublicKey.FromPemFile(publicKeyPath);
            checkpoints = new CheckpointVerifier(read, publicKey);
            signatures = read.Checkpoints.Select(c => c.Checkpoint.Signature).ToHashSet(StringComparer.Ordinal);
        }

        var report = await db.VerifyAuditChainAsync(checkpoints, signatures);
        var valid = report.IsValid;
        Console.WriteLine(report.Describe());

        // Retention archives: each anchor's archive verified alone, and joined to the live chain where its runs begin.
        if (options.TryGetValue("--archives", out var archives))
        {
            if (publicKeyPath is null || !File.Exists(publicKeyPath))
            {
                await Console.Error.WriteLineAsync($"verify: --archives needs the checkpoint public key that signed them: --public-key FILE{(publicKeyPath is null ? "" : $" (none at {publicKeyPath})")}.");
                return 2;
            }

            if (!Directory.Exists(archives))
            {
                await Console.Error.WriteLineAsync($"verify: there is no archive folder at {Path.GetFullPath(archives)}. Give the folder that holds the purge-* run folders (Retention:ArchiveFolder).");
                return 2;
            }

            using var archiveKey = CheckpointPublicKey.FromPemFile(publicKeyPath);
            var (problems, summary) = await Data.Archive.ArchiveVerifier.WithChainAsync(db, Path.GetFullPath(archives), archiveKey);
            Console.WriteLine(problems.Count == 0 ? summary : $"ARCHIVES BROKEN: {problems.Count} problem(s). {summary}");
            foreach (var problem in problems)
            {
                Console.WriteLine("  " + problem);
            }

            valid &= problems.Count == 0;
        }

        // The never-block spool of this installation (or the one named): changes committed but not yet in the chain.
        var spoolPath = options.GetValueOrDefault("--spool")
            ?? (options.ContainsKey("--database") ? null : Resolve(configuration["Audit:SpoolPath"] ?? "App_Data/audit-spool.jsonl", contentRoot));
        if (spoolPath is not null && new AuditSpool(spoolPath).Summarize() is { IsEmpty: false } spool)
        {
            Console.WriteLine("INCOMPLETE: " + spool.Describe());
            valid = false;
        }

        return valid ? 0 : 1;
    }

    private static string Resolve(string path, string contentRoot) => ContentPath.Resolve(path, contentRoot);

    /// <summary>Read-only; immutable: SQLite reads the file as it is, with no lock and no -shm or -wal file.</summary>
    private static string ReadOnly(string path, bool immutable) => immutable
        ? $"Data Source=file:{Uri.EscapeDataString(path).Replace("%2F", "/")}?immutable=1;Mode=ReadOnly;Pooling=False"
        : new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();

    internal static async Task<bool> IsConsoleDatabaseAsync(DbContext db)
    {
        try
        {
            await db.Database.OpenConnectionAsync();
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = db.Database.IsSqlite()
                ? "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'AuditEntries'"
                : "SELECT count(*) FROM sys.tables WHERE name = N'AuditEntries'";
            return Convert.ToInt64(await command.ExecuteScalarAsync()) > 0;
        }
        catch (SqliteException)
        {
            return false; // not a database at all
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
