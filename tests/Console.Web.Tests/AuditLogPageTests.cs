using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Web.Components.Pages.Audit;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ComplianceConsole.Web.Tests;

/// <summary>The audit browser, rendered with bUnit over a real store: the URL is the state, the query bar and the chips are one filter.</summary>
public sealed class AuditLogPageTests() : ConsoleComponentTest("aurora@example.test", "Auditor")
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var bob = new AuditContextAccessor(new AuditContext(new AuditActor("u-bob", "Bob@example.test", ["Operator"]), "page:/customers", "c1"));
        await using var db = ConsoleDbContextFactory.Create(Settings, b => b.UseAuditTrail(bob));
        db.Tags.AddRange(new Tag { Name = "alpha" }, new Tag { Name = "beta" });
        await db.SaveChangesAsync();
        await db.Tags.Where(t => t.Name == "beta").ExecuteDeleteAsync();
        await db.Database.RecordAuditEventAsync(new AuditEventRequest("report.exported", "Tags"));
    }

    private NavigationManager Navigation => Services.GetRequiredService<NavigationManager>();

    private static string[] RowTexts<T>(IRenderedComponent<T> page) where T : IComponent =>
        page.FindAll("[data-testid=audit-row]").Select(r => r.TextContent).ToArray();

    private async Task<List<AuditEntry>> EventsAsync(string name)
    {
        await using var db = Db();
        return await db.AuditEntries.Where(e => e.EventName == name).OrderBy(e => e.Seq).ToListAsync();
    }

    [Fact]
    public void Shows_the_trail_newest_first_with_labels_actors_and_operations()
    {
        var page = RenderPage<AuditLog>();
        page.WaitForAssertion(() => Assert.Equal(6, RowTexts(page).Length)); // capture installed (policy and guards), 2 inserts, 1 delete, 1 event
        var rows = RowTexts(page);
        Assert.Contains("report.exported", rows[0]);
        Assert.Contains("delete", rows[1]);
        Assert.Contains("Bob@example.test", rows[1]);
        Assert.Contains("beta", rows[1]); // the deleted tag is still named, from the trail
        Assert.Contains("audit.capture_changed", rows[4]);
        Assert.Contains("6 entries", page.Find("[data-testid=match-count]").TextContent);
    }

    [Fact]
    public void A_query_in_the_url_narrows_the_rows_in_any_case()
    {
        Navigation.NavigateTo("/audit?q=" + Uri.EscapeDataString("op:INSERT actor:bob"));
        var page = RenderPage<AuditLog>();
        page.WaitForAssertion(() => Assert.Equal(2, RowTexts(page).Length));
        Assert.All(RowTexts(page), r => Assert.Contains("insert", r));
        Assert.Equal(["actor:bob", "op:insert"], page.FindAll("[data-testid=query-chip] .cc-chip-body").Select(c => c.TextContent.Trim()).Order());
    }

    [Fact]
    public void A_bad_query_is_underlined_with_advice_and_searches_nothing()
    {
        Navigation.NavigateTo("/audit?q=" + Uri.EscapeDataString("op:upd table:Tags"));
        var page = RenderPage<AuditLog>();
        page.WaitForAssertion(() => Assert.Contains("write op:insert, op:update", page.Find("[data-testid=query-problem]").TextContent));
        Assert.Equal("op:upd", page.Find(".cc-squiggle").TextContent);
        Assert.Empty(RowTexts(page));
        Assert.Equal("op:upd table:Tags", page.Find("[data-testid=query-input]").GetAttribute("value"));
    }

    [Fact]
    public void Typing_a_query_puts_it_in_the_url_as_a_new_history_entry()
    {
        var page = RenderPage<AuditLog>();
        page.WaitForAssertion(() => Assert.Equal(6, RowTexts(page).Length));
        page.Find("[data-testid=query-input]").Input("table:tags -op:delete");
        page.Find("[data-testid=query-input]").KeyDown(new Microsoft.AspNetCore.Components.Web.KeyboardEventArgs { Key = "Enter" });
        page.WaitForAssertion(() => Assert.Equal(2, RowTexts(page).Length));
        Assert.Contains("q=table%3Atags%20-op%3Adelete", Navigation.Uri);
        var history = (Bunit.TestDoubles.BunitNavigationManager)Navigation;
        Assert.Contains(history.History, h => !h.Options.ReplaceHistoryEntry && h.Uri.Contains("q=table"));
    }

    [Fact]
    public void Removing_a_chip_and_clicking_a_value_edit_the_same_filter()
    {
        Navigation.NavigateTo("/audit?q=" + Uri.EscapeDataString("table:Tags op:insert"));
        var page = RenderPage<AuditLog>();
        page.WaitForAssertion(() => Assert.Equal(2, RowTexts(page).Length));
        page.FindAll("[data-testid=query-chip] .cc-chip-x")[1].Click(); // remove op:insert
        page.WaitForAssertion(() => Assert.Equal(3, RowTexts(page).Length));
        Assert.Equal("table:Tags", page.Find("[data-testid=query-input]").GetAttribute("value"));

        // Shift-click on an operation excludes it; the text follows.
        page.FindAll("[data-testid=audit-row]")[0].QuerySelectorAll(".cc-op-cell")[0].Click(new Microsoft.AspNetCore.Components.Web.MouseEventArgs { ShiftKey = true });
        page.WaitForAssertion(() => Assert.Equal("table:Tags -op:delete", page.Find("[data-testid=query-input]").GetAttribute("value")));
        Assert.Equal(2, RowTexts(page).Length);
    }

    [Fact]
    public void Unknown_names_and_bad_parameters_each_get_a_message()
    {
        Navigation.NavigateTo("/audit?q=table:Tagz&range=fortnight&table=x&range=7d&before=" + new string('9', 5000));
        var page = RenderPage<AuditLog>();
        page.WaitForAssertion(() => Assert.Contains("Did you mean \"Tags\"?", page.Find("[data-testid=search-note]").TextContent));
        var problems = page.FindAll("[data-testid=url-problem]").Select(p => p.TextContent).ToList();
        Assert.Contains(problems, p => p.Contains("\"fortnight\" is not a time range"));
        Assert.Contains(problems, p => p.Contains("\"table\" that the audit browser does not know"));
        Assert.Contains(problems, p => p.Contains("gives \"range\" more than once"));
        Assert.Contains(problems, p => p.Contains("5,000 characters"));
        Assert.All(problems, p => Assert.True(p.Length < 400, p));
        Assert.Contains("No audit entries match", page.Find("[data-testid=empty-state]").TextContent);
    }

    [Fact]
    public async Task A_search_is_recorded_once_not_per_page_turn()
    {
        Navigation.NavigateTo("/audit?q=table:Tags");
        var page = RenderPage<AuditLog>();
        page.WaitForAssertion(() => Assert.Equal(3, RowTexts(page).Length));
        Navigation.NavigateTo("/audit?q=table:Tags&before=3");
        page.WaitForAssertion(() => Assert.True(RowTexts(page).Length < 3));
        var searched = await EventsAsync(AuditEventNames.AuditSearched);
        var only = Assert.Single(searched);
        Assert.Equal("aurora@example.test", only.ActorName);
        Assert.Contains("\"query\":\"table:Tags\"", only.Metadata);

        Navigation.NavigateTo("/audit?q=op:delete");
        page.WaitForAssertion(() => Assert.Single(RowTexts(page)));
        Assert.Equal(2, (await EventsAsync(AuditEventNames.AuditSearched)).Count);
    }
}
