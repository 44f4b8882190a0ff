using ComplianceConsole.Core.Analytics;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.Queries;
using ComplianceConsole.Data.Rollups;
using ComplianceConsole.Web.Components.Pages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ComplianceConsole.Web.Tests;

/// <summary>A known trail, written by two people, and what the dashboard draws of it.</summary>
internal static class DashboardTrail
{
    public static readonly AnalyticsOptions Thresholds = new() { BulkDeleteRowsPerHour = 2, SensitiveTables = ["Tags"] };

    public static void AddDashboard(IServiceCollection services)
    {
        // The dashboard's range ends at the start of the current second; its clock runs a few seconds ahead of the trail's,
        // so the entries written just before the page renders are inside the range.
        services.AddSingleton<TimeProvider>(new AheadClock());
        services.AddSingleton(Thresholds);
        services.AddSingleton<AuditDashboardQuery>();
    }

    private sealed class AheadClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddSeconds(5);
    }

    /// <summary>Bob adds three tags and deletes two of them; Dora adds one and renames it; mallory fails to sign in twice.</summary>
    public static async Task WriteAsync(DatabaseSettings settings)
    {
        var bob = new AuditContextAccessor(new AuditContext(new AuditActor("u-bob", "bob@example.test", ["Operator"]), "page:/tags", "c1", "10.1.1.1"));
        await using (var db = ConsoleDbContextFactory.Create(settings, b => b.UseAuditTrail(bob)))
        {
            db.Tags.AddRange(new Tag { Name = "alpha" }, new Tag { Name = "beta" }, new Tag { Name = "gamma" });
            await db.SaveChangesAsync();
            await db.Tags.Where(t => t.Name != "alpha").ExecuteDeleteAsync();
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.LoginFailed, "mallory@example.test"));
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.LoginFailed, "mallory@example.test"));
        }

        var dora = new AuditContextAccessor(new AuditContext(new AuditActor("u-dora", "dora@example.test", ["Operator"]), "page:/tags", "c2"));
        await using (var db = ConsoleDbContextFactory.Create(settings, b => b.UseAuditTrail(dora)))
        {
            var tag = new Tag { Name = "delta" };
            db.Tags.Add(tag);
            await db.SaveChangesAsync();
            tag.Name = "delta 2";
            await db.SaveChangesAsync();
        }

        await using (var db = ConsoleDbContextFactory.Create(settings))
        {
            while (await AuditRollups.CatchUpAsync(db) > 0)
            {
            }
        }
    }
}

/// <summary>The dashboard over the known trail, for a user in a role.</summary>
public abstract class DashboardTest(string userName, string role) : ConsoleComponentTest(userName, role, DashboardTrail.AddDashboard)
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await DashboardTrail.WriteAsync(Settings);
    }
}

/// <summary>The dashboard as a trail reader sees it: each chart's figures and links for the known trail, the toggles and the table view.</summary>
public sealed class DashboardPageTests() : DashboardTest("aurora@example.test", "Auditor")
{

    private static (string Series, long Count, string? Href)[] Cells(AngleSharp.Dom.IElement chart) =>
        chart.QuerySelectorAll("[data-testid=chart-cell]").Select(c => (c.GetAttribute("data-series")!, long.Parse(c.GetAttribute("data-count")!), c.GetAttribute("href"))).ToArray();

    [Fact]
    public async Task Each_chart_draws_the_trail_with_a_link_per_element()
    {
        await using var db = Db();
        var entries = await db.AuditEntries.CountAsync();
        var page = RenderPage<Home>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=chart-operations] [data-testid=chart-cell]")), TimeSpan.FromSeconds(10));

        // Operations over time: every entry of the last 30 days (all of them), each segment a link to its operation.
        var operations = Cells(page.Find("[data-testid=chart-operations]"));
        Assert.Equal(entries, operations.Sum(c => c.Count));
        Assert.Equal(4, operations.Where(c => c.Series == "insert").Sum(c => c.Count));
        Assert.All(operations, c => Assert.Contains("q=op%3A" + c.Series, c.Href));

        // Top users: Bob's five changes (3 inserts, 2 deletes) above Dora's two (insert, update).
        var users = page.FindAll("[data-testid=chart-users] [data-testid=rank-row]");
        Assert.Equal(["bob@example.test", "dora@example.test"], users.Select(r => r.QuerySelector(".cc-rank-label")!.TextContent));
        Assert.Equal([("insert", 3L), ("delete", 2L)], users[0].QuerySelectorAll("[data-testid=chart-cell]").Select(c => (c.GetAttribute("data-series")!, long.Parse(c.GetAttribute("data-count")!))));

        // By deletes: only Bob, only his deletes.
        page.Find("input[data-testid=by-deletes], [data-testid=by-deletes] input").Change(true);
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=chart-users] [data-testid=rank-row]")));
        Assert.Equal([("delete", 2L)], Cells(page.Find("[data-testid=chart-users]")).Select(c => (c.Series, c.Count)));

        // Table activity: Tags, 4 inserts, 1 update, 2 deletes, each cell a link to that table and operation.
        var tags = Cells(page.Find("[data-testid=chart-tables]"));
        Assert.Equal([("insert", 4L), ("update", 1L), ("delete", 2L)], tags.Select(c => (c.Series, c.Count)));
        Assert.Contains("table%3ATags", tags[0].Href);

        // Failed sign-ins: two, both against mallory, from Bob's address.
        Assert.Equal(2, Cells(page.Find("[data-testid=chart-sign-ins]")).Sum(c => c.Count));
        Assert.Equal("mallory@example.test", page.Find("[data-testid=chart-targets] .cc-rank-label").TextContent);
        Assert.Equal("10.1.1.1", page.Find("[data-testid=chart-addresses] .cc-rank-label").TextContent);
        Assert.Contains("No", page.Find("[data-testid=chart-out-of-band]").TextContent);

        // The table view: the same figures as a table a screen reader reads.
        page.Find("[data-testid=chart-tables] [data-testid=chart-table-toggle]").Click();
        var row = page.Find("[data-testid=chart-tables] [data-testid=chart-table] tbody tr");
        Assert.Equal(["Tags", "4", "1", "2", "7"], row.Children.Select(c => c.TextContent.Trim()));
    }

    [Fact]
    public void The_findings_name_the_bulk_delete_at_its_threshold_and_the_first_changes_to_a_sensitive_table()
    {
        var page = RenderPage<Home>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=finding]")), TimeSpan.FromSeconds(10));
        // The first few show; the rest are a click away, never cut off.
        Assert.True(page.FindAll("[data-testid=finding]").Count <= 3);
        while (page.FindAll("[data-testid=findings-more]") is [var more])
        {
            Assert.Contains("more of", more.TextContent);
            more.Click();
        }

        var findings = page.FindAll("[data-testid=finding]");
        var bulk = Assert.Single(findings, f => f.GetAttribute("data-kind") == nameof(FindingKind.BulkDelete));
        Assert.Contains("bob@example.test deleted 2 rows in the hour from", bulk.TextContent);
        Assert.Contains("a finding from 2 deletes an hour", bulk.TextContent);
        Assert.Contains("q=actor%3Abob%40example.test%20op%3Adelete", bulk.QuerySelector("[data-testid=finding-link]")!.GetAttribute("href"));
        Assert.Equal(2, findings.Count(f => f.GetAttribute("data-kind") == nameof(FindingKind.FirstOnSensitiveTable)));
    }
}

/// <summary>The dashboard as an Operator sees it: their own work only, and no way into the trail.</summary>
public sealed class OperatorDashboardTests() : DashboardTest("dora@example.test", "Operator")
{

    [Fact]
    public void An_operator_sees_only_their_own_changes_and_no_links()
    {
        var page = RenderPage<Home>();
        page.WaitForAssertion(() => Assert.True(page.FindAll("[data-testid=chart-operations] [data-testid=chart-cell]").Count > 0, page.Markup), TimeSpan.FromSeconds(10));
        Assert.Equal("Your work", page.Find("h4").TextContent);
        var cells = page.FindAll("[data-testid=chart-operations] [data-testid=chart-cell]");
        Assert.Equal([("insert", 1L), ("update", 1L)], cells.Select(c => (c.GetAttribute("data-series")!, long.Parse(c.GetAttribute("data-count")!))).OrderBy(c => c.Item1 == "update"));
        Assert.Empty(page.FindAll("a[href^='/audit']"));
        Assert.Empty(page.FindAll("[data-testid=findings], [data-testid=chart-users], [data-testid=chart-sign-ins]"));
    }
}
