using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.History;
using Microsoft.Extensions.Options;

namespace ComplianceConsole.Web.Cli;

/// <summary>
/// <c>reconcile [--table T]</c>: rebuilds every record from the trail and compares it with the live row (<see cref="Reconciler"/>).
/// Prints each row that differs, exists without a trail or is missing; records the outcome as an event; exits 1 if any.
/// </summary>
public static class ReconcileCommand
{
    public static async Task<int> RunAsync(string[] args, IServiceProvider services)
    {
        var options = ConsoleCommands.Options(args, "reconcile", "--table");
        var settings = services.GetRequiredService<DatabaseSettings>();
        if (settings.SqliteFilePath is { } path && !File.Exists(path))
        {
            throw new UsageException($"There is no database at {path}: start the console once to create it, or point Database:ConnectionString at yours.");
        }

        await using var db = ConsoleDbContextFactory.Create(settings);
        if (!await VerifyCommand.IsConsoleDatabaseAsync(db))
        {
            throw new UsageException($"{settings.SqliteFilePath ?? "The configured database"} is not a Compliance Console database (it has no AuditEntries table). Check Database:ConnectionString.");
        }

        ReconcileReport report;
        try
        {
            report = await Reconciler.RunAsync(db, services.GetRequiredService<IOptions<AuditOptions>>().Value, options.GetValueOrDefault("--table"),
                Console.IsOutputRedirected ? null : new Progress(p => Console.Write($"\r{p.Table}: {p.Rows:N0} of {p.TableRows:N0} rows, {p.RowsPerSecond:N0} rows/s   ")));
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message);
        }

        Console.WriteLine();
        foreach (var table in report.Tables)
        {
            Console.WriteLine($"{table.Table}: {table.Rows:N0} rows, {table.Records:N0} records in the trail, {table.Mismatches:N0} mismatch(es)" +
                (table.AwaitingBaseline > 0 ? $", {table.AwaitingBaseline:N0} row(s) awaiting the baseline (being taken in the background)" : ""));
        }

        foreach (var mismatch in report.Mismatches)
        {
            Console.WriteLine("  " + mismatch.Describe());
        }

        if (report.MismatchCount > report.Mismatches.Count)
        {
            Console.WriteLine($"  … and {report.MismatchCount - report.Mismatches.Count:N0} more.");
        }

        await Reconciler.RecordAsync(db.Database, report, new AuditContext(AuditActor.System("cli:" + Environment.UserName), "cli:reconcile", Guid.NewGuid().ToString("N")));
        Console.WriteLine(report.Clean
            ? $"Reconciled {report.Rows:N0} rows through seq {report.ThroughSeq:N0} in {report.Elapsed.TotalSeconds:N1} s ({report.RowsPerSecond:N0} rows/s): every live row matches the trail."
            : $"{report.MismatchCount:N0} row(s) do not match the trail: changes were made without capture (a dropped trigger, a restore, a direct edit). " +
              "Open each record's history to see the last recorded state; recorded as audit.reconcile_mismatch, shown on /health.");
        return report.Clean ? 0 : 1;
    }

    /// <summary>Reports synchronously on the calling thread (Progress&lt;T&gt; would post to the thread pool and interleave lines).</summary>
    private sealed class Progress(Action<ReconcileProgress> report) : IProgress<ReconcileProgress>
    {
        public void Report(ReconcileProgress value) => report(value);
    }
}
