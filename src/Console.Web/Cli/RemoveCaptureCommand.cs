using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;

namespace ComplianceConsole.Web.Cli;

/// <summary><c>remove-capture --table T --reason R</c>: drops a table's capture triggers (as the deploy login), recorded with the reason.</summary>
public static class RemoveCaptureCommand
{
    public static async Task<int> RunAsync(string[] args, IServiceProvider services)
    {
        var options = ConsoleCommands.Options(args, "remove-capture", "--table", "--reason");
        if (!options.TryGetValue("--table", out var table) || !options.TryGetValue("--reason", out var reason))
        {
            throw new UsageException("remove-capture needs both --table and --reason, for example: remove-capture --table Customers --reason \"moved to the ERP\".");
        }

        // Dropping a trigger is DDL: the deploy login's (Database:DeployConnectionString, else the console's own).
        await using var db = ConsoleDbContextFactory.Create(services.GetRequiredService<DatabaseSettings>().Deploy);
        var dropped = await db.Database.RemoveAuditCaptureAsync(table, reason,
            new AuditContext(AuditActor.System("cli:" + Environment.UserName), "cli:remove-capture", Guid.NewGuid().ToString("N")));
        Console.WriteLine($"Capture removed from {table} ({string.Join(", ", dropped)}); recorded as audit.capture_removed with the reason. " +
                          "Exclude the table in Audit:ExcludedEntities too, or the next install (install-capture, or a start-up that installs) puts it back.");
        return 0;
    }
}
