using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace ComplianceConsole.E2E.Tests;

/// <summary>The console's command-line verbs, run as a person would run them.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly string _database = Path.Combine(Path.GetTempPath(), $"cc-cli-{Guid.NewGuid():N}.db");

    private async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        var start = ConsoleServer.ConsoleProcess(_database, args);
        start.Environment["Seed__Days"] = "3";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    [Fact]
    public async Task Verify_passes_on_a_seeded_store_and_names_the_first_broken_entry_after_tampering()
    {
        var seed = await RunAsync("seed");
        Assert.True(seed.ExitCode == 0, seed.Output);
        Assert.Contains("First sign-in: admin@console.local", seed.Output);

        var clean = await RunAsync("verify");
        Assert.Equal(0, clean.ExitCode);
        Assert.Matches(@"OK: \d+ entries verified", clean.Output);

        await using (var connection = new SqliteConnection($"Data Source={_database};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var tamper = connection.CreateCommand();
            // Someone with file access removes the guard and rewrites who did something.
            tamper.CommandText = "DROP TRIGGER audit_entries_refuse_update; UPDATE AuditEntries SET ActorName = 'nobody' WHERE Seq = 40;";
            await tamper.ExecuteNonQueryAsync();
        }

        var broken = await RunAsync("verify");
        Assert.Equal(1, broken.ExitCode);
        Assert.Contains("BROKEN at seq 40", broken.Output);
    }

    public void Dispose()
    {
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(_database + suffix);
        }
    }
}
