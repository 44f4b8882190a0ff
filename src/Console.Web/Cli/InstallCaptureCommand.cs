using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ComplianceConsole.Web.Cli;

/// <summary>
/// <c>install-capture</c>: the deploy step. Runs the DDL the runtime login may not (migrations, the roles, the guards and
/// the capture triggers, and the scheduler's QRTZ_* tables on SQL Server) with Database:DeployConnectionString (else Database:ConnectionString), and records the install
/// in the chain. <c>--script FILE</c> writes the same for SQL Server as one idempotent T-SQL script for a DBA's sqlcmd.
/// Exit 1 when a table the policy names cannot be captured (the rest is installed; the message says what to do).
/// </summary>
public static class InstallCaptureCommand
{
    public static async Task<int> RunAsync(string[] args, IServiceProvider services)
    {
        var options = ConsoleCommands.Options(args, "install-capture", ["--partition-monthly"], "--script");
        var partition = options.ContainsKey("--partition-monthly");
        var audit = services.GetRequiredService<IOptions<AuditOptions>>().Value;
        if (options.TryGetValue("--script", out var file))
        {
            var (script, refused) = SqlServerDeployScript.Generate(audit, partition, Jobs.QuartzSchema.SqlServerStatements());
            await WriteAsync(file, script);
            Console.WriteLine($"Wrote the SQL Server deploy script to {Path.GetFullPath(file)}: run it with sqlcmd -b -i \"{file}\" as the deploy login, then add the console's login to the role {SqlServerAuditSql.WriterRole} (docs/sqlserver.md).");
            return Report(refused);
        }

        var settings = services.GetRequiredService<DatabaseSettings>();
        if (partition && settings.Provider != DatabaseProvider.SqlServer)
        {
            throw new UsageException("--partition-monthly is for SQL Server: SQLite has no partitions (its retention deletes in batches).");
        }

        var changes = await DatabaseInitializer.InitializeAsync(settings, audit);
        await using var db = ConsoleDbContextFactory.Create(settings.Deploy);
        if (settings.Provider == DatabaseProvider.SqlServer)
        {
            // The runtime login may not create tables: the scheduler's are made here, so its start-up only finds them.
            await db.Database.OpenConnectionAsync();
            await Jobs.QuartzSchema.InstallAsync(db.Database.GetDbConnection());
            await db.Database.CloseConnectionAsync();
            Console.WriteLine($"The scheduler's tables ({Jobs.QuartzSchema.TablePrefix}*) are in place.");
        }

        if (partition)
        {
            foreach (var statement in Data.Retention.SqlServerPartitions.Install(db.Model, AuditStoreModel.SqlServerSchemaOf(db.Model)))
            {
                await db.Database.ExecuteSqlRawAsync(statement);
            }

            Console.WriteLine("AuditEntries is partitioned on seq: a new partition about every month, and retention switches out wholly expired ones (docs/sqlserver.md).");
        }

        Console.WriteLine(changes.Created.Count + changes.Dropped.Count == 0
            ? "Capture was already installed as the policy says: nothing to change."
            : $"Installed capture: {changes.Created.Count} trigger(s) created, {changes.Dropped.Count} dropped ({Names(changes.Dropped)}). Recorded in the chain as audit.capture_changed.");
        foreach (var restored in changes.Restored)
        {
            Console.WriteLine($"Restored (tampering, recorded as audit.capture_restored): {restored}");
        }

        return Report(changes.Refused);
    }

    /// <summary>Writes the script whole or not at all: a folder that is missing or cannot be written says so, and leaves nothing behind.</summary>
    private static async Task WriteAsync(string file, string script)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(file))!;
        if (!Directory.Exists(folder))
        {
            throw new UsageException($"install-capture cannot write {file}: the folder {folder} does not exist. Create it, or give another --script.");
        }

        var temp = file + ".tmp";
        try
        {
            await File.WriteAllTextAsync(temp, script);
            File.Move(temp, file, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }

            throw new UsageException($"install-capture cannot write {file}: {ex.Message} Give a --script path this user may write, or fix the folder's permissions.");
        }
    }

    private static string Names(IReadOnlyList<string> names) => names.Count == 0 ? "none" : string.Join(", ", names);

    private static int Report(IReadOnlyList<string> refused)
    {
        foreach (var reason in refused)
        {
            Console.Error.WriteLine($"NOT CAPTURED: {reason}");
        }

        if (refused.Count > 0)
        {
            Console.Error.WriteLine($"{refused.Count} table(s) cannot be captured as configured; every other table is. Fix or exclude each, then run install-capture again.");
        }

        return refused.Count == 0 ? 0 : 1;
    }
}
