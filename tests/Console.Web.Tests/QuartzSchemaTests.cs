using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Web.Jobs;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.SqlServer.TransactSql.ScriptDom;
using Quartz;

namespace ComplianceConsole.Web.Tests;

/// <summary>
/// The scheduler's tables belong to the deploy step on SQL Server (the runtime login may not create tables): install-capture
/// and its script create exactly the tables the console's Quartz uses, only when missing, and never drop one.
/// </summary>
public sealed class QuartzSchemaTests
{
    private static void AssertParses(string sql)
    {
        new TSql160Parser(initialQuotedIdentifiers: true).Parse(new StringReader(sql), out var errors);
        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"{e.Line}:{e.Column} {e.Message}")) + "\n" + sql);
    }

    [Fact]
    public void The_job_store_statements_parse_create_only_what_is_missing_and_never_drop()
    {
        var statements = QuartzSchema.SqlServerStatements();
        Assert.NotEmpty(statements);
        foreach (var statement in statements)
        {
            AssertParses(statement);
            Assert.DoesNotContain("DROP ", statement, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("{0}", statement);
        }

        foreach (var table in QuartzSchema.SqlServerTables())
        {
            Assert.StartsWith(QuartzSchema.TablePrefix, table);
            Assert.Contains(statements, s => s.Contains($"IF OBJECT_ID(N'{table}', N'U') IS NULL", StringComparison.Ordinal) && s.Contains($"CREATE TABLE {table}", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void The_deploy_script_creates_the_job_store_in_batches_of_its_own_that_parse()
    {
        var (script, _) = SqlServerDeployScript.Generate(new AuditOptions(), jobStore: QuartzSchema.SqlServerStatements());
        var batches = System.Text.RegularExpressions.Regex.Split(script, @"^GO\s*$", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(b => b.Trim()).Where(b => b.Length > 0).ToList();
        foreach (var batch in batches)
        {
            AssertParses(batch);
        }

        foreach (var table in QuartzSchema.SqlServerTables())
        {
            Assert.Contains(batches, b => b.Contains($"CREATE TABLE {table}", StringComparison.Ordinal));
        }

        // After the migrations (the roles exist), before the triggers.
        Assert.True(script.IndexOf("CREATE TABLE QRTZ_", StringComparison.Ordinal) > script.IndexOf("CREATE ROLE", StringComparison.Ordinal));
        Assert.True(script.IndexOf("CREATE TABLE QRTZ_", StringComparison.Ordinal) < script.IndexOf("CREATE TRIGGER [dbo].[audit_capture_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task They_are_the_tables_the_consoles_scheduler_provisions_and_uses()
    {
        // The console's own Quartz wiring, started on a real SQLite file: the tables it makes are the ones the SQL Server
        // deploy step makes (Quartz ships one schema per dialect from one description), under the prefix the store uses.
        var file = Path.Combine(Path.GetTempPath(), $"cc-quartz-{Guid.NewGuid():N}.db");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Sqlite",
            ["Database:ConnectionString"] = $"Data Source={file}",
            ["Retention:Schedule"] = "",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddConsoleJobs(configuration, Path.GetTempPath());
        try
        {
            await using (var provider = services.BuildServiceProvider())
            {
                Assert.Equal(QuartzSchema.TablePrefix, provider.GetRequiredService<IOptions<AdoJobStoreOptions>>().Value.TablePrefix);
                var scheduler = await provider.GetRequiredService<ISchedulerFactory>().GetScheduler();
                await scheduler.Start();
                await scheduler.Shutdown(waitForJobsToComplete: true);
            }

            await using var connection = new SqliteConnection($"Data Source={file};Pooling=False");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '{QuartzSchema.TablePrefix}%'";
            var provisioned = new List<string>();
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    provisioned.Add(reader.GetString(0).ToUpperInvariant());
                }
            }

            Assert.NotEmpty(provisioned);
            Assert.Equal(provisioned.Order(), QuartzSchema.SqlServerTables().Select(t => t.ToUpperInvariant()).Order());
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(file);
        }
    }
}
