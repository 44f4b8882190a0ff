using System.Globalization;
using Microsoft.Playwright;

namespace ComplianceConsole.E2E.Tests;

/// <summary>The dashboard in Chromium: a click on a chart opens the audit log with the chart's count, the table view and CSV, and an Operator's own view.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class DashboardTests(ConsoleServer server)
{
    private static async Task<(string Href, long Count)> BiggestCellAsync(ILocator cells)
    {
        await Assertions.Expect(cells.First).ToBeVisibleAsync();
        var (href, count) = ("", -1L);
        foreach (var cell in await cells.AllAsync())
        {
            var n = long.Parse(await cell.GetAttributeAsync("data-count") ?? "0", CultureInfo.InvariantCulture);
            if (n > count)
            {
                (href, count) = (await cell.GetAttributeAsync("href") ?? "", n);
            }
        }

        return (href, count);
    }

    [Fact]
    public async Task A_bar_and_a_heat_map_cell_open_the_audit_log_showing_the_count_the_chart_showed()
    {
        var page = await server.SignInAsync("olivia.officer@console.local", "/?range=7d");
        await ConsoleServer.WaitForCircuitAsync(page);
        await Assertions.Expect(page.Locator("h4")).ToHaveTextAsync("Dashboard");
        await Assertions.Expect(page.Locator("[data-testid=time-range-button]")).ToContainTextAsync("Last 7 days");
        await Assertions.Expect(page.Locator("[data-testid=findings]")).ToBeVisibleAsync();

        foreach (var chart in new[] { "operations", "tables", "users" })
        {
            var (href, count) = await BiggestCellAsync(page.Locator($"[data-testid=chart-{chart}] a[data-testid=chart-cell]"));
            Assert.True(count > 0, chart);
            Assert.StartsWith("/audit?", href);
            await page.Locator($"[data-testid=chart-{chart}] a[data-testid=chart-cell][href=\"{href}\"]").First.ClickAsync();
            await page.WaitForURLAsync(u => u.Contains("/audit?"));
            await ConsoleServer.WaitForCircuitAsync(page);
            await Assertions.Expect(page.Locator("[data-testid=match-count]")).ToHaveTextAsync($"{count:N0} {(count == 1 ? "entry" : "entries")}", new() { Timeout = 15_000 });
            await page.GoBackAsync();
            await ConsoleServer.WaitForCircuitAsync(page);
        }

        // The table view lists the same figures; the chart's export (the one writer, a signed manifest) has them with a header.
        var operations = page.Locator("[data-testid=chart-operations]");
        await operations.Locator("[data-testid=chart-table-toggle]").ClickAsync();
        await Assertions.Expect(operations.Locator("[data-testid=chart-table] thead th")).ToHaveTextAsync(["time", "insert", "update", "delete", "event", "total"]);
        await operations.Locator("[data-testid=chart-export] button").ClickAsync();
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("[data-testid=chart-export-csv]").ClickAsync());
        var csv = await File.ReadAllTextAsync(await download.PathAsync());
        Assert.StartsWith("time,start (UTC),insert,update,delete,event,total\r\n", csv);
        var total = long.Parse((await operations.Locator("[data-testid=chart-total]").TextContentAsync())!.Split(' ')[0], NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        Assert.Equal(total, csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1).Sum(line => long.Parse(line.Split(',')[^1], CultureInfo.InvariantCulture)));
        var png = await page.RunAndWaitForDownloadAsync(() => operations.Locator("[data-testid=chart-png]").ClickAsync());
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], (await File.ReadAllBytesAsync(await png.PathAsync()))[..4]);

        foreach (var (width, height) in new[] { (1280, 800), (1440, 900) })
        {
            foreach (var scheme in new[] { ColorScheme.Light, ColorScheme.Dark })
            {
                var shot = await server.SignInAsync("olivia.officer@console.local", "/?range=7d", new() { ViewportSize = new() { Width = width, Height = height }, ColorScheme = scheme });
                await ConsoleServer.WaitForCircuitAsync(shot);
                await Assertions.Expect(shot.Locator("[data-testid=chart-operations] [data-testid=chart-cell]").First).ToBeVisibleAsync();
                Assert.Equal(width, await shot.EvaluateAsync<int>("() => document.documentElement.scrollWidth"));
                await shot.ScreenshotAsync(new() { Path = Path.Combine(ConsoleServer.ScreenshotDirectory, $"dashboard-{width}-{scheme.ToString().ToLowerInvariant()}.png"), FullPage = true });
                await shot.Context.CloseAsync();
            }
        }
    }

    [Fact]
    public async Task An_operator_sees_their_own_work_with_no_way_into_the_trail()
    {
        var page = await server.SignInAsync("oscar.operator@console.local", "/?range=7d");
        await ConsoleServer.WaitForCircuitAsync(page);
        await Assertions.Expect(page.Locator("h4")).ToHaveTextAsync("Your work");
        await Assertions.Expect(page.Locator("[data-testid=chart-operations] [data-testid=chart-cell]").First).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("a[href^='/audit']")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-testid=findings], [data-testid=chart-users], [data-testid=chart-sign-ins], [data-testid=chart-export]")).ToHaveCountAsync(0);
    }
}
