using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;

namespace ComplianceConsole.E2E.Tests;

/// <summary>Record history in Chromium: from the customer page to its history, the record at a chosen time, two versions side by side, and a revert.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class HistoryTests(ConsoleServer server)
{
    private const int CustomerId = 9;

    private static ILocator Items(IPage page) => page.Locator("[data-testid=timeline-item]");

    private string Scalar(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={server.DatabasePath};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar()) ?? "";
    }

    private Task ShotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleServer.ScreenshotDirectory, name + ".png"), FullPage = true });

    [Fact]
    public async Task From_the_customer_page_to_its_history_a_date_two_versions_compared_and_a_revert_with_its_reason()
    {
        // Two edits of the customer through its page: three versions of the name.
        var page = await server.SignInAsync("admin@console.local", $"/customers/{CustomerId}");
        await ConsoleServer.WaitForCircuitAsync(page);
        var name = page.Locator("[data-testid=name] input, input[data-testid=name]");
        var original = await name.InputValueAsync();
        async Task EditAsync(string edit)
        {
            await name.FillAsync(edit);
            await page.ClickAsync("[data-testid=save]");
            await page.WaitForURLAsync(u => u.EndsWith("/customers"));
            await page.GotoAsync(server.BaseUrl + $"/customers/{CustomerId}");
            await ConsoleServer.WaitForCircuitAsync(page);
        }

        await EditAsync("Hedy Lamarr, first edit");
        var firstEdit = Scalar($"SELECT Seq FROM AuditEntries WHERE TableName = 'Customers' AND RecordKey = '{{\"Id\":{CustomerId}}}' AND NewValues LIKE '%first edit%'");
        var firstEditAt = DateTime.Parse(Scalar($"SELECT OccurredAtUtc FROM AuditEntries WHERE Seq = {firstEdit}"), System.Globalization.CultureInfo.InvariantCulture);
        // A user picks times to the second: the time typed below (the second after the first edit's) shows the first
        // edit only if the second edit is later than it. Two saves can fall within one second; this one must not.
        var typedAt = new DateTime(firstEditAt.Ticks - firstEditAt.Ticks % TimeSpan.TicksPerSecond).AddSeconds(1);
        while (DateTime.UtcNow <= typedAt.AddMilliseconds(50)) await Task.Delay(50);
        await EditAsync("Hedy Lamarr, second edit");

        // One click from the record to its history.
        await page.ClickAsync("[data-testid=record-history]");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/history/Customers/{CustomerId}$"));
        await ConsoleServer.WaitForCircuitAsync(page);
        await Assertions.Expect(page.Locator("[data-testid=history-title]")).ToHaveTextAsync("Hedy Lamarr, second edit");
        await Assertions.Expect(Items(page).First).ToContainTextAsync("Hedy Lamarr, second edit");
        await Assertions.Expect(Items(page).First).ToContainTextAsync("admin@console.local");
        await Assertions.Expect(page.Locator("[data-testid=as-of-state] tr[data-column=Name]")).ToContainTextAsync("Hedy Lamarr, second edit");
        await ShotAsync(page, "history-timeline");

        // Pick a date: the moment of the first edit, typed as the page shows times (UTC here).
        await page.Locator("[data-testid=as-of-input] input, input[data-testid=as-of-input]").FillAsync(typedAt.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture));
        await page.ClickAsync("[data-testid=as-of-go]");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex(@"at=\d{4}-\d\d-\d\dT"));
        await Assertions.Expect(page.Locator("[data-testid=as-of-state] tr[data-column=Name]")).ToContainTextAsync("Hedy Lamarr, first edit");
        await Assertions.Expect(page.Locator("[data-testid=as-of-caption]")).ToContainTextAsync($"#{firstEdit}");

        // A time that is not one: said where it was typed, nothing else changes.
        await page.Locator("[data-testid=as-of-input] input, input[data-testid=as-of-input]").FillAsync("next tuesday");
        await page.ClickAsync("[data-testid=as-of-go]");
        await Assertions.Expect(page.Locator("[data-testid=as-of-problem]")).ToContainTextAsync("is not a time");

        // Compare the two edits.
        var newest = Items(page).Nth(0);
        var second = Items(page).Nth(1);
        await newest.Locator("[data-testid=compare-pick]").CheckAsync();
        await Assertions.Expect(page.Locator("[data-testid=compare-hint]")).ToBeVisibleAsync();
        await second.Locator("[data-testid=compare-pick]").CheckAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex(@"compare=\d+%2C\d+|compare=\d+,\d+"));
        var nameDiff = page.Locator("[data-testid=compare-panel] [data-testid=diff-row][data-column=Name]");
        await Assertions.Expect(nameDiff).ToHaveAttributeAsync("data-kind", "changed");
        await Assertions.Expect(nameDiff.Locator(".cc-diff-before")).ToContainTextAsync("first edit");
        await Assertions.Expect(nameDiff.Locator(".cc-diff-after")).ToContainTextAsync("second edit");
        await ShotAsync(page, "history-compare");

        // Revert to the version before both edits, with a reason.
        var before = Items(page).Filter(new() { Has = page.Locator("[data-testid=revert-version]") }).Nth(1);
        await before.Locator("[data-testid=revert-version]").ClickAsync();
        var dialog = page.Locator(".mud-dialog");
        await Assertions.Expect(dialog.Locator("[data-testid=diff-row][data-column=Name]")).ToContainTextAsync(original);
        await Assertions.Expect(dialog.Locator("[data-testid=revert-confirm]")).ToBeDisabledAsync(); // no reason yet
        await dialog.Locator("[data-testid=revert-reason] textarea, textarea[data-testid=revert-reason]").First.FillAsync("Both renames were a test by mistake");
        await ShotAsync(page, "history-revert-dialog");
        await dialog.Locator("[data-testid=revert-confirm]").ClickAsync();
        await Assertions.Expect(dialog).ToHaveCountAsync(0);

        // The revert is the newest version, with its reason and origin; the record is back.
        await Assertions.Expect(Items(page).First.Locator("[data-testid=timeline-revert]")).ToContainTextAsync("Both renames were a test by mistake");
        await Assertions.Expect(Items(page).First).ToContainTextAsync("revert");
        await Assertions.Expect(page.Locator("[data-testid=history-title]")).ToHaveTextAsync(original);
        await ShotAsync(page, "history-after-revert");
        Assert.Equal(original, Scalar($"SELECT Name FROM Customers WHERE Id = {CustomerId}"));
        Assert.Equal("revert", Scalar($"SELECT Origin FROM AuditEntries WHERE TableName = 'Customers' ORDER BY Seq DESC LIMIT 1"));
    }

    [Fact]
    public async Task Readers_reach_a_history_from_the_audit_log_and_an_operator_is_refused_and_recorded()
    {
        var page = await server.SignInAsync("aurora.auditor@console.local", "/audit?q=" + Uri.EscapeDataString("table:Accounts"));
        await ConsoleServer.WaitForCircuitAsync(page);
        var row = page.Locator("[data-testid=audit-row]").First;
        await row.Locator("[data-testid=record-history]").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/history/Accounts/[0-9A-F-]{36}$"));
        await ConsoleServer.WaitForCircuitAsync(page);
        await Assertions.Expect(Items(page).First).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=revert-version]")).ToHaveCountAsync(0); // auditors read, never revert
        await ShotAsync(page, "history-account");

        var before = int.Parse(Scalar("SELECT COUNT(*) FROM AuditEntries WHERE EventName = 'access.denied' AND ActorName = 'oscar.operator@console.local' AND Metadata LIKE '%/history/%'"));
        var operatorPage = await server.SignInAsync("oscar.operator@console.local", $"/history/Customers/{CustomerId}");
        await Assertions.Expect(operatorPage).ToHaveURLAsync(new Regex("/access-denied"));
        await ConsoleServer.EventuallyAsync(() => int.Parse(Scalar("SELECT COUNT(*) FROM AuditEntries WHERE EventName = 'access.denied' AND ActorName = 'oscar.operator@console.local' AND Metadata LIKE '%/history/%'")) > before, "the refusal is recorded");

        // A key that is not one gets the console's own explanation.
        await page.GotoAsync(server.BaseUrl + "/history/Customers/not-a-number");
        await ConsoleServer.WaitForCircuitAsync(page);
        await Assertions.Expect(page.Locator("[data-testid=history-problem]")).ToContainTextAsync("is not a key of Customers");
    }
}
