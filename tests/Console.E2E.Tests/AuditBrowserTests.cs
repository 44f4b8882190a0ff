using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace ComplianceConsole.E2E.Tests;

/// <summary>The audit browser in Chromium, as a compliance officer uses it.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class AuditBrowserTests(ConsoleServer server)
{
    private static ILocator Rows(IPage page) => page.Locator("[data-testid=audit-row]");

    [Fact]
    public async Task Type_a_query_click_through_from_a_value_and_go_back()
    {
        var page = await server.SignInAsync("olivia.officer@console.local", "/audit");
        await ConsoleServer.WaitForCircuitAsync(page);
        await Assertions.Expect(Rows(page).First).ToBeVisibleAsync();

        // "/" focuses the query bar, as in Seq and GitHub; suggestions come as the field name is typed.
        await page.Locator("h4").First.ClickAsync();
        await page.Keyboard.PressAsync("/");
        await Assertions.Expect(page.Locator("[data-testid=query-input]")).ToBeFocusedAsync();
        // Typed into the input itself (not "whatever has focus"), so that a re-render of the page cannot swallow the keys.
        await page.Locator("[data-testid=query-input]").PressSequentiallyAsync("tab");
        await Assertions.Expect(page.Locator("[data-testid=query-input]")).ToHaveValueAsync("tab"); // no key lost to a re-render
        await Assertions.Expect(page.Locator("[data-testid=query-suggestions]")).ToContainTextAsync("table:");
        await page.Locator("[data-testid=query-input]").FillAsync("table:payments op:update");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex(@"q=table%3Apayments%20op%3Aupdate"));
        await Assertions.Expect(page.Locator("[data-testid=query-chip]")).ToHaveCountAsync(2);
        // The grid reloads after the URL changes: wait until no row of the previous search is left.
        await Assertions.Expect(Rows(page).First).ToContainTextAsync("Payments");
        await Assertions.Expect(Rows(page).Filter(new() { HasNotText = "update" })).ToHaveCountAsync(0);
        await Assertions.Expect(Rows(page).Filter(new() { HasNotText = "Payments" })).ToHaveCountAsync(0);

        // Click an actor to filter by them; the chip and the text follow.
        var actor = (await Rows(page).First.Locator(".cc-actor .cc-filter").InnerTextAsync()).Trim();
        await Rows(page).First.Locator(".cc-actor .cc-filter").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=query-input]")).ToHaveValueAsync($"table:payments op:update actor:{actor}");
        await Assertions.Expect(Rows(page).Filter(new() { HasNotText = actor })).ToHaveCountAsync(0);
        await Assertions.Expect(Rows(page).First).ToContainTextAsync(actor);

        // Back steps through the searches.
        await page.GoBackAsync();
        await Assertions.Expect(page.Locator("[data-testid=query-input]")).ToHaveValueAsync("table:payments op:update");
        await page.GoBackAsync();
        await Assertions.Expect(page.Locator("[data-testid=query-chip]")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task A_bad_query_is_underlined_and_explained()
    {
        var page = await server.SignInAsync("aurora.auditor@console.local", "/audit");
        await ConsoleServer.WaitForCircuitAsync(page);
        await page.Locator("[data-testid=query-input]").FillAsync("acter:olivia");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("[data-testid=query-problem]")).ToContainTextAsync("did you mean actor:olivia?");
        await Assertions.Expect(page.Locator(".cc-squiggle")).ToHaveTextAsync("acter");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleServer.ScreenshotDirectory, "audit-bad-query.png") });
    }

    [Fact]
    public async Task Dragging_across_the_histogram_narrows_the_time_range_to_those_bars()
    {
        var page = await server.SignInAsync("olivia.officer@console.local", "/audit?range=7d");
        await ConsoleServer.WaitForCircuitAsync(page);
        var bars = page.Locator("[data-testid=histogram-bar]");
        await Assertions.Expect(bars.First).ToBeAttachedAsync();
        var count = await bars.CountAsync();
        var from = await bars.Nth(count / 4).BoundingBoxAsync();
        var to = await bars.Nth(count / 2).BoundingBoxAsync();
        var expected = 0;
        for (var i = count / 4; i <= count / 2; i++)
        {
            expected += int.Parse((await bars.Nth(i).GetAttributeAsync("data-count"))!);
        }

        await page.Mouse.MoveAsync(from!.X + from.Width / 2, from.Y + from.Height / 2);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(to!.X + to.Width / 2, to.Y + to.Height / 2, new() { Steps = 8 });
        await page.Mouse.UpAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("from=.*&to="));
        await Assertions.Expect(page.Locator("[data-testid=match-count]")).ToContainTextAsync(expected == 1 ? "1 entry" : $"{expected:N0} entries");
    }

    [Fact]
    public async Task A_saved_search_opens_the_same_view()
    {
        var page = await server.SignInAsync("omar.officer@console.local", "/audit?q=" + Uri.EscapeDataString("event:auth.* -op:insert") + "&range=all");
        await ConsoleServer.WaitForCircuitAsync(page);
        await page.Locator("[data-testid=saved-searches]").ClickAsync();
        await page.Locator("[data-testid=save-search]").ClickAsync();
        await page.Locator("[data-testid=save-search-name] input, input[data-testid=save-search-name]").First.FillAsync("All auth events");
        await page.Locator("[data-testid=save-search-ok]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=save-search-form]")).ToHaveCountAsync(0);

        await page.GotoAsync(server.BaseUrl + "/audit");
        await ConsoleServer.WaitForCircuitAsync(page);
        await page.Locator("[data-testid=saved-searches]").ClickAsync();
        await page.Locator("[data-testid=saved-search]", new() { HasText = "All auth events" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=query-input]")).ToHaveValueAsync("event:auth.* -op:insert");
        await Assertions.Expect(page.Locator("[data-testid=time-range-button]")).ToContainTextAsync("All time");
    }

    [Fact]
    public async Task Live_tail_streams_a_new_entry_in_at_the_top()
    {
        var officer = await server.SignInAsync("olivia.officer@console.local", "/audit?q=table:Tags");
        await ConsoleServer.WaitForCircuitAsync(officer);
        await officer.Locator("[data-testid=live-tail] input, input[data-testid=live-tail]").First.CheckAsync();

        var name = "tail-" + Guid.NewGuid().ToString("N")[..6];
        var editor = await server.SignInAsync("ines.admin@console.local", "/tags"); // (petra's password is changed by another test)
        await ConsoleServer.WaitForCircuitAsync(editor);
        await editor.Locator("[data-testid=new-tag] input, input[data-testid=new-tag]").First.FillAsync(name);
        await editor.Locator("[data-testid=add-tag]").ClickAsync();

        await Assertions.Expect(Rows(officer).First).ToContainTextAsync(name, new() { Timeout = 10_000 });
        await Assertions.Expect(Rows(officer).First).ToContainTextAsync("ines.admin@console.local");
    }
}
