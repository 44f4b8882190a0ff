using System.Diagnostics;
using Microsoft.Data.Sqlite;

/// <summary>
/// <c>plan FILE [--store PATH]</c>: runs each statement of a SQL file (separated by ";" at a line's end) against a SQLite
/// store, read-only, with the product's own SQLite build (the system sqlite3 may lack FTS5 options), and prints its query
/// plan and the median time of five runs. For working out a query's shape before it goes into the product.
/// </summary>
public static class PlanProbe
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || !File.Exists(args[0]))
        {
            Console.Error.WriteLine("Usage: plan FILE.sql [--store PATH] (default store: /tmp/cc-bench-query-10m/store.db)");
            return 2;
        }

        var store = Array.IndexOf(args, "--store") is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : "/tmp/cc-bench-query-10m/store.db";
        await using var connection = new SqliteConnection($"Data Source={store};Mode=ReadOnly");
        await connection.OpenAsync();
        foreach (var sql in (await File.ReadAllTextAsync(args[0])).Split(";\n").Select(s => s.Trim()).Where(s => s.Length > 0))
        {
            await using var explain = connection.CreateCommand();
            explain.CommandText = "EXPLAIN QUERY PLAN " + sql;
            var plan = new List<string>();
            await using (var reader = await explain.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    plan.Add(reader.GetString(3));
                }
            }

            var times = new List<double>();
            var rows = 0;
            for (var run = 0; run < 5; run++)
            {
                await using var command = connection.CreateCommand();
                command.CommandText = sql;
                command.CommandTimeout = 0;
                var watch = Stopwatch.StartNew();
                rows = 0;
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    rows++;
                }

                times.Add(watch.Elapsed.TotalMilliseconds);
            }

            times.Sort();
            Console.WriteLine($"{times[2],9:F1} ms (min {times[0]:F1}) {rows,6} rows  {sql.ReplaceLineEndings(" ")[..Math.Min(160, sql.Length)]}");
            plan.ForEach(p => Console.WriteLine("            " + p));
        }

        return 0;
    }
}
