using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;

namespace ComplianceConsole.E2E.Tests;

/// <summary>
/// Retention in Chromium, on a console of its own (a purge deletes entries the other tests read): a floor refused, a
/// shortening asked for and approved by a second officer, a hold placed, the dry run, Run now through Quartz, the job and
/// its signed manifest, the archive verified with the chain from the command line, the hold respected and released.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class RetentionTests
{
    private static string Shot(string name) => Path.Combine(ConsoleServer.ScreenshotDirectory, name);

    [Fact]
    public async Task Officers_set_a_policy_hold_entries_run_the_purge_and_verify_its_archive()
    {
        var database = Path.Combine(Path.GetTempPath(), $"cc-e2e-retention-{Guid.NewGuid():N}.db");
        await using var server = await ConsoleServer.StartOnAsync(database);

        // A floor is named and refused before anything is saved.
        var olivia = await server.SignInAsync("olivia.officer@console.local", "/retention", new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        await ConsoleServer.WaitForCircuitAsync(olivia);
        var table = olivia.Locator("[data-testid=retention-table]");
        await Assertions.Expect(table).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await table.Locator("[data-scope=Payments] [data-testid=change-policy]").ClickAsync();
        var dialog = olivia.Locator(".mud-dialog");
        await Assertions.Expect(dialog.Locator("[data-testid=policy-floor]")).ToContainTextAsync("PCI DSS");
        await dialog.Locator("[data-testid=preset-30-days]").ClickAsync();
        await Assertions.Expect(dialog.Locator("[data-testid=policy-refusal]")).ToContainTextAsync("at least 1 year (365 days) under PCI DSS");
        await Assertions.Expect(dialog.Locator("[data-testid=policy-save]")).ToBeDisabledAsync();
        await olivia.ScreenshotAsync(new() { Path = Shot("retention-floor.png") });
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();

        // Olivia asks to keep Customers for one day: a shortening, so it waits for a second officer.
        await table.Locator("[data-scope=Customers] [data-testid=change-policy]").ClickAsync();
        await dialog.Locator("[data-testid=preset-custom]").ClickAsync();
        // A typo is refused with words, never quietly turned into the shortest period.
        await dialog.Locator("[data-testid=policy-days]").FillAsync("-5");
        await dialog.Locator("[data-testid=policy-days]").PressAsync("Tab");
        await Assertions.Expect(dialog.Locator("[data-testid=policy-refusal]")).ToContainTextAsync("at least 1 day");
        await Assertions.Expect(dialog.Locator("[data-testid=policy-days]")).ToHaveValueAsync("-5");
        await Assertions.Expect(dialog.Locator("[data-testid=policy-save]")).ToBeDisabledAsync();
        await dialog.Locator("[data-testid=policy-days]").FillAsync("1");
        await dialog.Locator("[data-testid=policy-reason]").FillAsync("Prospects older than a day are not records");
        await Assertions.Expect(dialog.Locator("[data-testid=policy-four-eyes]")).ToBeVisibleAsync();
        await dialog.Locator("[data-testid=policy-save]").ClickAsync();
        var pending = olivia.Locator("[data-testid=pending-change][data-scope=Customers]");
        await Assertions.Expect(pending).ToContainTextAsync("forever → 1 day");
        await Assertions.Expect(pending.Locator("[data-testid=approve-change]")).ToHaveCountAsync(0); // not her own
        await olivia.ScreenshotAsync(new() { Path = Shot("retention-pending.png") });

        // She places a hold on the customers' updates, with a reason and a case number.
        await olivia.GotoAsync(server.BaseUrl + "/holds");
        await ConsoleServer.WaitForCircuitAsync(olivia);
        await olivia.ClickAsync("[data-testid=place-hold]");
        var holdDialog = olivia.Locator(".mud-dialog");
        await holdDialog.Locator("[data-testid=hold-query]").FillAsync("table:Customers op:update");
        // The button says why it waits; a date that is not one is said as it is typed.
        await Assertions.Expect(holdDialog.Locator("[data-testid=hold-missing]")).ToHaveTextAsync("Give a reference and a reason.");
        await Assertions.Expect(holdDialog.Locator("[data-testid=hold-place]")).ToBeDisabledAsync();
        await holdDialog.Locator("[data-testid=hold-from] input, input[data-testid=hold-from]").First.FillAsync("yesterdayish");
        await holdDialog.Locator("[data-testid=hold-from] input, input[data-testid=hold-from]").First.PressAsync("Tab");
        await Assertions.Expect(holdDialog.Locator("[data-testid=hold-range-problem]")).ToContainTextAsync("is not a time");
        await holdDialog.Locator("[data-testid=hold-from] input, input[data-testid=hold-from]").First.FillAsync("");
        await holdDialog.Locator("[data-testid=hold-from] input, input[data-testid=hold-from]").First.PressAsync("Tab");
        await Assertions.Expect(holdDialog.Locator("[data-testid=hold-range-problem]")).ToHaveCountAsync(0);
        await holdDialog.Locator("[data-testid=hold-reference]").FillAsync("CASE-7");
        await holdDialog.Locator("[data-testid=hold-reason]").FillAsync("Inquiry into customer edits");
        await olivia.ScreenshotAsync(new() { Path = Shot("holds-place.png") });
        await holdDialog.Locator("[data-testid=hold-place]").ClickAsync();
        var hold = olivia.Locator("[data-testid=hold-row][data-reference=CASE-7]");
        await Assertions.Expect(hold.Locator("[data-testid=hold-status]")).ToContainTextAsync("active");
        var heldNow = long.Parse((await hold.Locator("[data-testid=hold-entries]").TextContentAsync())!.Trim(), NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        Assert.True(heldNow > 0);

        // Omar approves; the dry run shows what today's run would purge and what the hold keeps.
        var omar = await server.SignInAsync("omar.officer@console.local", "/retention", new() { ViewportSize = new() { Width = 1440, Height = 900 } });
        await ConsoleServer.WaitForCircuitAsync(omar);
        await omar.Locator("[data-testid=pending-change][data-scope=Customers] [data-testid=approve-change]").ClickAsync();
        var customers = omar.Locator("[data-testid=scope-row][data-scope=Customers]");
        await Assertions.Expect(customers.Locator("[data-testid=scope-policy]")).ToHaveTextAsync("1 day", new() { Timeout = 30_000 });
        var wouldPurge = Number(await customers.Locator("[data-testid=scope-purge] a").TextContentAsync());
        var held = Number(await customers.Locator("[data-testid=scope-held] span").First.TextContentAsync());
        Assert.True(wouldPurge > 0 && held > 0, $"would purge {wouldPurge}, held {held}");
        await Assertions.Expect(customers.Locator("[data-testid=scope-held]")).ToContainTextAsync("CASE-7");
        await omar.ScreenshotAsync(new() { Path = Shot("retention-preview.png") });

        // Run now: Quartz runs the purge. The jobs page, open in another tab before it started, shows it without a reload:
        // what it archived and deleted, and its signed manifest.
        var jobs = await omar.Context.NewPageAsync();
        await jobs.GotoAsync(server.BaseUrl + "/jobs");
        await ConsoleServer.WaitForCircuitAsync(jobs);
        await Assertions.Expect(jobs.Locator("[data-testid=job-run][data-job='retention.purge']")).ToHaveCountAsync(0);
        await omar.ClickAsync("[data-testid=retention-run-now]");
        await Assertions.Expect(omar.Locator(".mud-snackbar").Last).ToContainTextAsync("The purge started");
        var run = jobs.Locator("[data-testid=job-run][data-job='retention.purge']").First;
        await Assertions.Expect(run).ToHaveAttributeAsync("data-status", "succeeded", new() { Timeout = 60_000 });
        await jobs.SetViewportSizeAsync(1440, 900);
        await jobs.ScreenshotAsync(new() { Path = Shot("jobs-purge.png") });
        var manifestHref = await run.Locator("[data-testid=job-manifest]").GetAttributeAsync("href");
        var manifest = await omar.Context.APIRequest.GetAsync(server.BaseUrl + manifestHref);
        Assert.Equal(200, manifest.Status);
        DateTime cutoff;
        using (var json = System.Text.Json.JsonDocument.Parse(await manifest.TextAsync()))
        {
            // The preview counted a few seconds before the run, with a cut-off as much earlier: a demo entry whose time fell
            // in between would make them differ. The run's own figures are checked exactly, against its own cut-off.
            var archived = json.RootElement.GetProperty("Entries").GetInt64();
            var keptByHold = json.RootElement.GetProperty("Held").GetInt64();
            Assert.True(archived > 0 && keptByHold > 0, $"archived {archived}, held {keptByHold}");
            Assert.Equal("omar.officer@console.local", json.RootElement.GetProperty("By").GetString());
            cutoff = json.RootElement.GetProperty("Policies").EnumerateArray().Single(p => p.GetProperty("Scope").GetString() == "Customers").GetProperty("CutoffUtc").GetDateTime();
            (wouldPurge, held) = (archived, keptByHold);
        }

        await Assertions.Expect(run).ToContainTextAsync($"Archived {wouldPurge:N0} entries");
        await Assertions.Expect(run).ToContainTextAsync($"{held:N0} expired entries were kept by legal holds");

        // The held updates are still in the store; the purged inserts are not (both before the run's own cut-off).
        await using (var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False"))
        {
            await connection.OpenAsync();
            var command = connection.CreateCommand();
            command.Parameters.AddWithValue("$cutoff", cutoff.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture));
            command.CommandText = "SELECT count(*) FROM AuditEntries WHERE TableName = 'Customers' AND Operation = 'update' AND OccurredAtUtc < $cutoff";
            Assert.Equal(held, (long)(await command.ExecuteScalarAsync())!);
            command.CommandText = "SELECT count(*) FROM AuditEntries WHERE TableName = 'Customers' AND Operation = 'insert' AND OccurredAtUtc < $cutoff";
            Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);
        }

        // The archive alone, and the chain with its archives, verify from the command line.
        var archives = database + ".archives";
        var folder = Assert.Single(Directory.GetDirectories(archives));
        var publicKey = database + ".checkpoint-key.pub.pem";
        var alone = await CliAsync(database, "verify-archive", folder, "--public-key", publicKey);
        Assert.True(alone.ExitCode == 0, alone.Output);
        Assert.Contains($"{wouldPurge:N0} entries", alone.Output);
        var together = await CliAsync(database, "verify", "--archives", archives);
        Assert.True(together.ExitCode == 0, together.Output);
        Assert.Contains("were removed by retention", together.Output);
        Assert.Contains("each archive verified alone and joined to the live chain", together.Output);

        // Reconciliation still matches every live row, and a purged customer's history starts from the purge's snapshot.
        var reconcile = await CliAsync(database, "reconcile");
        Assert.True(reconcile.ExitCode == 0, reconcile.Output);
        await omar.GotoAsync(server.BaseUrl + "/history/Customers/1");
        await ConsoleServer.WaitForCircuitAsync(omar);
        await Assertions.Expect(omar.Locator("[data-testid=history-title]")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(omar.Locator("body")).ToContainTextAsync("kept by retention");
        await omar.ScreenshotAsync(new() { Path = Shot("history-after-purge.png") });

        // Olivia releases the hold, with a reason; the page says so.
        await olivia.GotoAsync(server.BaseUrl + "/holds");
        await ConsoleServer.WaitForCircuitAsync(olivia);
        await hold.Locator("[data-testid=release-hold]").ClickAsync();
        await olivia.Locator(".mud-dialog [data-testid=note-text]").FillAsync("Inquiry closed");
        await olivia.ClickAsync(".mud-dialog [data-testid=note-confirm]");
        await Assertions.Expect(hold.Locator("[data-testid=hold-status]")).ToContainTextAsync("Inquiry closed");
        await olivia.ScreenshotAsync(new() { Path = Shot("holds-released.png") });

        // An Auditor reads it all but changes nothing.
        var aurora = await server.SignInAsync("aurora.auditor@console.local", "/retention");
        await ConsoleServer.WaitForCircuitAsync(aurora);
        await Assertions.Expect(aurora.Locator("[data-testid=retention-table]")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(aurora.Locator("[data-testid=change-policy]")).ToHaveCountAsync(0);
        await Assertions.Expect(aurora.Locator("[data-testid=retention-run-now]")).ToHaveCountAsync(0);
        Assert.Equal(200, (await aurora.Context.APIRequest.GetAsync(server.BaseUrl + manifestHref)).Status);

        // An Operator may not read an archive's manifest; the refusal is recorded.
        var oscar = await server.SignInAsync("oscar.operator@console.local", "/");
        Assert.Equal(403, (await oscar.Context.APIRequest.GetAsync(server.BaseUrl + manifestHref)).Status);
        await using var check = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
        await check.OpenAsync();
        var denied = check.CreateCommand();
        denied.CommandText = "SELECT count(*) FROM AuditEntries WHERE EventName = 'access.denied' AND ActorName = 'oscar.operator@console.local' AND Metadata LIKE '%/manifest%'";
        Assert.Equal(1L, (long)(await denied.ExecuteScalarAsync())!);
    }

    private static long Number(string? text) => long.Parse(text!.Trim(), NumberStyles.AllowThousands, CultureInfo.InvariantCulture);

    private static async Task<(int ExitCode, string Output)> CliAsync(string database, params string[] args)
    {
        using var process = Process.Start(ConsoleServer.ConsoleProcess(database, args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
