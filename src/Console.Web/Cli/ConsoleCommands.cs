using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Web.Seeding;
using Microsoft.Extensions.Options;

namespace ComplianceConsole.Web.Cli;

/// <summary>
/// Command-line verbs of the console: <c>verify</c> checks the hash chain and exits 1 on a break;
/// <c>seed</c> recreates the database with fresh demo data. With no verb the console serves the web UI.
/// </summary>
public static class ConsoleCommands
{
    public static bool IsCommand(string[] args) => args.Length > 0 && args[0] is "verify" or "seed" or "help" or "--help";

    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        var settings = app.Services.GetRequiredService<DatabaseSettings>();
        var audit = app.Services.GetRequiredService<IOptions<AuditOptions>>().Value;
        switch (args[0])
        {
            case "verify":
            {
                await DatabaseInitializer.InitializeAsync(settings, audit);
                await using var db = ConsoleDbContextFactory.Create(settings);
                var report = await db.VerifyAuditChainAsync();
                Console.WriteLine(report.Describe());
                return report.IsValid ? 0 : 1;
            }

            case "seed":
                await app.Services.GetRequiredService<DemoSeeder>().RecreateAsync();
                return 0;
            default:
                Console.WriteLine("""
                    Compliance Console
                      dotnet run --project src/Console.Web              serve the console (creates and seeds the database on first run)
                      dotnet run --project src/Console.Web -- verify    verify the audit hash chain; exit code 1 names a break
                      dotnet run --project src/Console.Web -- seed      delete the database and recreate it with fresh demo data
                    """);
                return 0;
        }
    }
}
