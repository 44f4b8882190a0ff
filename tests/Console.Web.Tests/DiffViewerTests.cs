using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Diff;
using ComplianceConsole.Core.History;
using ComplianceConsole.Data.Queries;
using ComplianceConsole.Web.Components.Audit;

namespace ComplianceConsole.Web.Tests;

/// <summary>The entry page's diff and the browser's histogram, as a reader sees them.</summary>
public sealed class DiffViewerTests : ConsoleComponentTest
{
    private static AuditEntry E(long seq, string op, string? old, string? @new, string? changed = null) => new()
    {
        Seq = seq, Operation = op, TableName = "Customers", RecordKey = "{\"Id\":7}", OldValues = old, NewValues = @new, ChangedColumns = changed, Origin = "test",
    };

    private IRenderedComponent<DiffViewer> Render(IReadOnlyList<AuditEntry> history, long seq)
    {
        var (before, after) = RecordHistory.Around(history, seq);
        var rows = EntryDiff.Build(history.Single(e => e.Seq == seq), before, after);
        return Render<DiffViewer>(p => p
            .Add(d => d.Rows, rows)
            .Add(d => d.ColumnNames, new Dictionary<string, string> { ["Address_City"] = "Address › City" })
            .Add(d => d.Currency, "EUR"));
    }

    private static readonly List<AuditEntry> History =
    [
        E(1, "insert", null, """{"Id":7,"Name":"Ada","Address_City":"Berlin","Note":"met at the Berlin fair in the spring","TaxId":"[redacted]","Profile":"{\"tier\":\"gold\"}","Balance":"1500","ClosedAt":null}"""),
        E(2, "update", """{"Note":"met at the Berlin fair in the spring","TaxId":"[redacted: changed]","Profile":"{\"tier\":\"gold\"}","Address_City":"Berlin"}""",
            """{"Note":"met at the Dublin fair in the spring","TaxId":"[redacted: changed]","Profile":"{\"tier\":\"platinum\"}","Address_City":"Dublin"}""", """["Note","TaxId","Profile","Address_City"]"""),
    ];

    [Fact]
    public void Changed_columns_show_before_and_after_and_unchanged_ones_are_folded()
    {
        var diff = Render(History, 2);
        var changed = diff.FindAll("[data-testid=diff-row][data-kind=changed]").Where(r => !r.GetAttribute("style")?.Contains("1.7rem") ?? true).ToList();
        Assert.Contains(changed, r => r.TextContent.Contains("Address › City") && r.TextContent.Contains("Berlin") && r.TextContent.Contains("Dublin"));
        Assert.Equal("Address_City", diff.Find("[data-column=Address_City] th").GetAttribute("title")!.Replace("Stored as ", ""));
        Assert.Empty(diff.FindAll("[data-kind=unchanged][data-column=Name]"));
        diff.Find("[data-testid=toggle-unchanged]").Click();
        var name = diff.Find("[data-kind=unchanged][data-column=Name]");
        Assert.Contains("Ada", name.TextContent);
        Assert.Contains("1,500.00 EUR", diff.Find("[data-column=Balance]").TextContent);
        Assert.DoesNotContain("null", diff.Find("[data-column=ClosedAt]").TextContent);
        Assert.Contains("—", diff.Find("[data-column=ClosedAt]").TextContent);
    }

    [Fact]
    public void Long_text_gets_word_highlights_redacted_values_say_why_and_json_is_diffed_by_path()
    {
        var diff = Render(History, 2);
        Assert.Equal("Berlin", diff.Find("[data-column=Note] .cc-word-del").TextContent);
        Assert.Equal("Dublin", diff.Find("[data-column=Note] .cc-word-add").TextContent);
        var tax = diff.Find("[data-column=TaxId]");
        Assert.Equal(2, tax.QuerySelectorAll("[data-testid=redacted]").Length);
        Assert.Contains("the change is recorded, the value is not", tax.TextContent);
        var tier = diff.Find("[data-column=tier]");
        Assert.Contains("gold", tier.TextContent);
        Assert.Contains("platinum", tier.TextContent);
        Assert.Equal("changed", tier.GetAttribute("data-kind"));
    }

    [Fact]
    public void The_unified_view_shows_minus_and_plus_lines()
    {
        var diff = Render(History, 2);
        diff.FindAll("[data-testid=diff-mode] button").Single(b => b.TextContent.Contains("Unified")).Click();
        var city = diff.Find("[data-column=Address_City]");
        Assert.Contains("−", city.QuerySelector(".cc-diff-before")!.TextContent);
        Assert.Contains("+", city.QuerySelector(".cc-diff-after")!.TextContent);
    }

    [Fact]
    public async Task The_histogram_draws_one_bar_per_period_and_a_drag_narrows_to_those_bars()
    {
        var start = new DateTime(2026, 11, 30, 0, 0, 0, DateTimeKind.Utc);
        var data = new AuditHistogram(start, start.AddHours(4), TimeSpan.FromHours(1),
            Enumerable.Range(0, 4).Select(i => new HistogramBar(start.AddHours(i), new Dictionary<string, int> { ["insert"] = i, ["delete"] = 1 })).ToList());
        (DateTime From, DateTime To)? narrowed = null;
        var chart = Render<TrailHistogram>(p => p.Add(h => h.Data, data).Add(h => h.OnNarrow, r => narrowed = r));
        var bars = chart.FindAll("[data-testid=histogram-bar]");
        Assert.Equal(["1", "2", "3", "4"], bars.Select(b => b.GetAttribute("data-count")));
        Assert.Contains("insert 6", chart.Markup);
        await bars[1].TriggerEventAsync("onmousedown", new Microsoft.AspNetCore.Components.Web.MouseEventArgs());
        await chart.FindAll("[data-testid=histogram-bar]")[2].TriggerEventAsync("onmouseenter", new Microsoft.AspNetCore.Components.Web.MouseEventArgs());
        await chart.FindAll("[data-testid=histogram-bar]")[2].TriggerEventAsync("onmouseup", new Microsoft.AspNetCore.Components.Web.MouseEventArgs());
        Assert.Equal((start.AddHours(1), start.AddHours(3)), narrowed);
    }

    [Fact]
    public async Task The_histogram_is_brushed_by_keyboard_and_reads_out_the_bar_under_the_cursor()
    {
        var start = new DateTime(2026, 11, 30, 0, 0, 0, DateTimeKind.Utc);
        var data = new AuditHistogram(start, start.AddHours(4), TimeSpan.FromHours(1),
            Enumerable.Range(0, 4).Select(i => new HistogramBar(start.AddHours(i), new Dictionary<string, int> { ["insert"] = i, ["delete"] = 1 })).ToList());
        (DateTime From, DateTime To)? narrowed = null;
        var chart = Render<TrailHistogram>(p => p.Add(h => h.Data, data).Add(h => h.OnNarrow, r => narrowed = r));
        var svg = chart.Find("[data-testid=histogram-chart]");
        Assert.Equal("0", svg.GetAttribute("tabindex"));

        await svg.TriggerEventAsync("onfocus", new Microsoft.AspNetCore.Components.Web.FocusEventArgs());
        Assert.Contains("3 insert, 1 delete", chart.Find("[data-testid=histogram-note]").TextContent); // the newest bar
        Key("ArrowLeft");
        Assert.Contains("2 insert, 1 delete", chart.Find("[data-testid=histogram-note]").TextContent);
        Key("ArrowLeft", shift: true);
        Assert.Contains("Selected", chart.Find("[data-testid=histogram-note]").TextContent);
        Assert.Contains("5 entries", chart.Find("[data-testid=histogram-note]").TextContent); // bars 1 and 2: 2 + 3
        Key("Enter");
        Assert.Equal((start.AddHours(1), start.AddHours(3)), narrowed);

        Key("ArrowLeft");
        Key("Enter");
        Assert.Equal((start, start.AddHours(1)), narrowed); // Enter alone narrows to the bar under the cursor

        void Key(string key, bool shift = false) =>
            chart.Find("[data-testid=histogram-chart]").KeyDown(new Microsoft.AspNetCore.Components.Web.KeyboardEventArgs { Key = key, ShiftKey = shift });
    }
}
