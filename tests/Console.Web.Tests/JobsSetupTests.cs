using ComplianceConsole.Web.Jobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Quartz;

namespace ComplianceConsole.Web.Tests;

/// <summary>How Quartz is wired: its store in the console's own database, clustered on SQL Server, one node on SQLite; the purge's schedule.</summary>
public sealed class JobsSetupTests
{
    private static ServiceProvider Build(string provider, string connection, string? schedule = null, string? runsHere = null)
    {
        var settings = new Dictionary<string, string?> { ["Database:Provider"] = provider, ["Database:ConnectionString"] = connection };
        if (schedule is not null)
        {
            settings["Retention:Schedule"] = schedule;
        }

        if (runsHere is not null)
        {
            settings["Retention:RunsHere"] = runsHere;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddConsoleJobs(configuration, Path.GetTempPath());
        return services.BuildServiceProvider();
    }

    [Theory]
    [InlineData("SqlServer", "Server=db.example.test;Database=ComplianceConsole;Integrated Security=True", true)]
    [InlineData("Sqlite", "Data Source=/tmp/console.db", false)]
    public void The_job_store_is_the_consoles_database_and_clusters_where_it_can(string provider, string connection, bool clustered)
    {
        using var services = Build(provider, connection);
        Assert.Equal(clustered, services.GetRequiredService<IOptions<ClusteringOptions>>().Value.Enabled);
        var sources = services.GetRequiredService<IOptionsMonitor<DataSourceOptions>>();
        var store = services.GetRequiredService<IOptions<AdoJobStoreOptions>>().Value;
        var source = sources.Get(store.DataSource);
        Assert.StartsWith(connection, source.ConnectionString); // the console's own connection string, as the data layer completes it
        Assert.Contains(provider == "SqlServer" ? "SqlServer" : "SQLite", source.Provider, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_sql_server_node_may_leave_the_purge_to_the_others_and_a_lone_sqlite_console_may_not()
    {
        using (var runs = Build("SqlServer", "Server=db.example.test;Database=ComplianceConsole;Integrated Security=True"))
        {
            Assert.True(runs.GetRequiredService<IOptions<QuartzHostedServiceOptions>>().Value.AutoStart);
        }

        using (var standby = Build("SqlServer", "Server=db.example.test;Database=ComplianceConsole;Integrated Security=True", runsHere: "false"))
        {
            Assert.False(standby.GetRequiredService<IOptions<QuartzHostedServiceOptions>>().Value.AutoStart); // fires nothing; Run now still asks the cluster
        }

        var error = Assert.Throws<InvalidOperationException>(() => Build("Sqlite", "Data Source=/tmp/console.db", runsHere: "false"));
        Assert.Contains("nothing would ever run the purge", error.Message);
    }

    [Fact]
    public void A_schedule_that_is_not_cron_is_refused_with_what_to_write()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build("Sqlite", "Data Source=/tmp/console.db", "daily at two"));
        Assert.Contains("is not a Quartz cron expression", error.Message);
        Assert.Contains("\"0 30 2 * * ?\" runs daily at 02:30", error.Message);
    }
}
