using System.Diagnostics;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using Microsoft.Data.SqlClient;
using Microsoft.EntityFrameworkCore;

/// <summary>
/// sqlserver-commits --server CONNECTIONSTRING [--writers N] [--seconds S]: the chain lock's ceiling (docs/sqlserver.md,
/// *Throughput*). N writers update one customer each in a loop for S seconds, audited and then unaudited (the same
/// tables with capture removed is not possible on one database, so the unaudited run writes a table that is excluded
/// from capture, UserPreferences), on a database of its own that is dropped afterwards. Prints commits/s, p50 and p99,
/// and the ratio. Needs a login that may create databases; runs nowhere here (no server on the build machine).
/// </summary>
internal static class SqlServerCommitBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        string? server = Environment.GetEnvironmentVariable("CONSOLE_TEST_SQLSERVER");
        var writers = 8;
        var seconds = 20;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--server": server = args[i + 1]; break;
                case "--writers": writers = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--seconds": seconds = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"sqlserver-commits has no option {args[i]}: use --server, --writers, --seconds."); return 2;
            }
        }

        if (string.IsNullOrWhiteSpace(server))
        {
            Console.Error.WriteLine("sqlserver-commits needs a SQL Server: --server \"Server=...;User Id=...;Password=...;TrustServerCertificate=True\" (or CONSOLE_TEST_SQLSERVER), a login that may create databases.");
            return 2;
        }

        var name = $"cc_bench_{Guid.NewGuid():N}";
        var settings = new DatabaseSettings(DatabaseProvider.SqlServer, new SqlConnectionStringBuilder(server) { InitialCatalog = name }.ConnectionString);
        await DatabaseInitializer.InitializeAsync(settings, new AuditOptions());
        try
        {
            await using (var db = ConsoleDbContextFactory.Create(settings))
            {
                for (var w = 0; w < writers; w++)
                {
                    db.Customers.Add(new Customer { Name = $"writer {w}", Email = $"w{w}@example.test" });
                    db.UserPreferences.Add(new UserPreference { UserId = $"w{w}" });
                }

                await db.SaveChangesAsync();
            }

            var audited = await RunAsync(settings, writers, seconds, audited: true);
            var plain = await RunAsync(settings, writers, seconds, audited: false);
            Console.WriteLine($"sqlserver-commits: {writers} writers, {seconds} s each run");
            Console.WriteLine($"  audited   {audited.PerSecond,8:N0} commits/s   p50 {audited.P50,6:N1} ms   p99 {audited.P99,6:N1} ms");
            Console.WriteLine($"  unaudited {plain.PerSecond,8:N0} commits/s   p50 {plain.P50,6:N1} ms   p99 {plain.P99,6:N1} ms");
            Console.WriteLine($"  ratio     {plain.PerSecond / Math.Max(1, audited.PerSecond):N2}x fewer commits/s audited");
            return 0;
        }
        finally
        {
            SqlConnection.ClearAllPools();
            await using var master = new SqlConnection(new SqlConnectionStringBuilder(server) { InitialCatalog = "master" }.ConnectionString);
            await master.OpenAsync();
            await using var drop = master.CreateCommand();
            drop.CommandText = $"ALTER DATABASE [{name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [{name}];";
            await drop.ExecuteNonQueryAsync();
        }
    }

    private static async Task<(double PerSecond, double P50, double P99)> RunAsync(DatabaseSettings settings, int writers, int seconds, bool audited)
    {
        var until = Stopwatch.StartNew();
        var times = new System.Collections.Concurrent.ConcurrentBag<double>();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var actor = new AuditContext(new AuditActor($"u-{w}", $"w{w}@example.test", ["Operator"]), "bench", Guid.NewGuid().ToString("N"));
            var n = 0;
            while (until.Elapsed.TotalSeconds < seconds)
            {
                await using var db = ConsoleDbContextFactory.Create(settings, b => b.UseAuditTrail(new AuditContextAccessor(actor)));
                var one = Stopwatch.StartNew();
                if (audited)
                {
                    await db.Customers.Where(c => c.Email == $"w{w}@example.test").ExecuteUpdateAsync(s => s.SetProperty(c => c.Name, $"writer {w} #{n++}"));
                }
                else
                {
                    await db.UserPreferences.Where(p => p.UserId == $"w{w}").ExecuteUpdateAsync(s => s.SetProperty(p => p.Theme, n++ % 2 == 0 ? "dark" : "light"));
                }

                times.Add(one.Elapsed.TotalMilliseconds);
            }
        })));

        var sorted = times.Order().ToArray();
        return (sorted.Length / until.Elapsed.TotalSeconds, sorted[sorted.Length / 2], sorted[(int)(sorted.Length * 0.99)]);
    }
}
