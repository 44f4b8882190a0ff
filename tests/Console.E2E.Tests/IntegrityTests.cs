using Microsoft.Data.Sqlite;
using Microsoft.Playwright;

namespace ComplianceConsole.E2E.Tests;

/// <summary>The integrity page in Chromium: every item with its colour, and Verify now run by an Admin and seen by everyone.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class IntegrityTests(ConsoleServer server)
{
    [Fact]
    public async Task An_admin_runs_verify_now_watches_it_finish_and_an_auditor_sees_the_result()
    {
        var page = await server.SignInAsync("admin@console.local", "/integrity");
        await ConsoleServer.WaitForCircuitAsync(page);
        var items = page.Locator("[data-testid=integrity-item]");
        await Assertions.Expect(items).ToHaveCountAsync(7);
        await Assertions.Expect(items.Locator(".cc-integrity-title")).ToHaveTextAsync(["Chain head", "Last verification", "Signed checkpoint", "Last reconciliation", "Out-of-band changes", "Never-block spool", "Capture triggers"]);

        await page.ClickAsync("[data-testid=start-verify]");
        var result = page.Locator("[data-testid=check-verify] [data-testid=check-result]");
        await Assertions.Expect(result).ToContainTextAsync("entries verified, chain intact", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("[data-testid=integrity-item][data-key=verification]")).ToHaveAttributeAsync("data-level", "green");
        await Assertions.Expect(page.Locator("[data-testid=integrity-item][data-key=verification]")).ToContainTextAsync("admin@console.local");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleServer.ScreenshotDirectory, "integrity.png"), FullPage = true });

        // The report an auditor files: the verification just run, as JSON and as a printable page.
        var json = await page.Context.APIRequest.GetAsync(server.BaseUrl + "/integrity/report.json");
        Assert.Equal(200, json.Status);
        using (var report = System.Text.Json.JsonDocument.Parse(await json.TextAsync()))
        {
            var verification = report.RootElement.GetProperty("verification");
            Assert.True(verification.GetProperty("passed").GetBoolean());
            Assert.Equal("admin@console.local", verification.GetProperty("by").GetString());
            Assert.True(verification.GetProperty("entries").GetInt64() > 0);
        }

        var html = await page.Context.APIRequest.GetAsync(server.BaseUrl + "/integrity/report.html");
        Assert.Contains("The chain was whole and unaltered", await html.TextAsync());

        var auditor = await server.SignInAsync("aurora.auditor@console.local", "/integrity");
        await ConsoleServer.WaitForCircuitAsync(auditor);
        await Assertions.Expect(auditor.Locator("[data-testid=check-verify] [data-testid=check-result]")).ToContainTextAsync("chain intact");
        await Assertions.Expect(auditor.Locator("[data-testid=start-verify]")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task A_copy_of_the_database_with_an_entry_altered_turns_the_page_red_with_the_seq_named()
    {
        // A consistent copy of the live database, then one stored value changed behind the console's back.
        var copy = Path.Combine(Path.GetTempPath(), $"cc-e2e-broken-{Guid.NewGuid():N}.db");
        long seq;
        await using (var live = new SqliteConnection($"Data Source={server.DatabasePath};Pooling=False"))
        {
            await live.OpenAsync();
            await using var vacuum = live.CreateCommand();
            vacuum.CommandText = $"VACUUM INTO '{copy}'";
            await vacuum.ExecuteNonQueryAsync();
        }

        await using (var broken = new SqliteConnection($"Data Source={copy};Pooling=False"))
        {
            await broken.OpenAsync();
            await using var pick = broken.CreateCommand();
            pick.CommandText = "SELECT Seq FROM AuditEntries WHERE TableName = 'Customers' AND Operation = 'update' ORDER BY Seq LIMIT 1";
            seq = (long)(await pick.ExecuteScalarAsync())!;
            await using var tamper = broken.CreateCommand();
            tamper.CommandText = $"DROP TRIGGER audit_entries_refuse_update; UPDATE AuditEntries SET NewValues = replace(NewValues, '\"', '\"x') WHERE Seq = {seq}";
            Assert.Equal(1, await tamper.ExecuteNonQueryAsync());
        }

        await using var second = await ConsoleServer.StartOnAsync(copy);
        var page = await second.SignInAsync("admin@console.local", "/integrity");
        await ConsoleServer.WaitForCircuitAsync(page);
        await page.ClickAsync("[data-testid=start-verify]");
        var verification = page.Locator("[data-testid=integrity-item][data-key=verification]");
        await Assertions.Expect(verification).ToHaveAttributeAsync("data-level", "red", new() { Timeout = 60_000 });
        await Assertions.Expect(verification).ToContainTextAsync($"broken at seq {seq}");
        // The guard dropped in the copy was put back at start-up, and that is a red item of its own.
        await Assertions.Expect(page.Locator("[data-testid=integrity-item][data-key=triggers]")).ToHaveAttributeAsync("data-level", "red");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleServer.ScreenshotDirectory, "integrity-broken.png"), FullPage = true });
    }
}
