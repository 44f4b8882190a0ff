using System.Globalization;
using Microsoft.Playwright;

namespace ComplianceConsole.E2E.Tests;

/// <summary>The Export dialog in Chromium: a search exported as CSV and as XLSX, the file's rows equal to the browser's count, and downloads only by the requester or an Admin.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ExportTests(ConsoleServer server)
{
    [Fact]
    public async Task An_officer_exports_the_current_search_and_the_file_holds_the_browsers_count()
    {
        var page = await server.SignInAsync("olivia.officer@console.local", "/audit?q=" + Uri.EscapeDataString("table:Payments") + "&range=7d");
        await ConsoleServer.WaitForCircuitAsync(page);
        var countText = page.Locator("[data-testid=match-count]");
        await Assertions.Expect(countText).ToContainTextAsync("entr");
        var count = long.Parse((await countText.TextContentAsync())!.Split(' ')[0], NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        Assert.True(count > 0);

        foreach (var format in new[] { "csv", "xlsx" })
        {
            await page.ClickAsync("[data-testid=export-button]");
            var dialog = page.Locator(".mud-dialog");
            await Assertions.Expect(dialog.Locator("[data-testid=export-count]")).ToContainTextAsync($"{count:N0} entr");
            await dialog.Locator($"[data-testid=format-{format}]").ClickAsync();
            if (format == "csv")
            {
                await page.ScreenshotAsync(new() { Path = Path.Combine(ConsoleServer.ScreenshotDirectory, "export-dialog.png") });
            }

            await dialog.Locator("[data-testid=export-start]").ClickAsync();
            await Assertions.Expect(dialog.Locator("[data-testid=export-ready]")).ToContainTextAsync($"{count:N0} entries exported", new() { Timeout = 30_000 });
            await Assertions.Expect(page.Locator(".mud-snackbar").Last).ToContainTextAsync($"Export ready: {count:N0} entries as {format.ToUpperInvariant()}");
            var href = await dialog.Locator("[data-testid=export-download]").GetAttributeAsync("href");
            var response = await page.Context.APIRequest.GetAsync(server.BaseUrl + href);
            Assert.Equal(200, response.Status);
            var body = await response.BodyAsync();
            if (format == "csv")
            {
                var lines = System.Text.Encoding.UTF8.GetString(body).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
                Assert.Equal(count + 1, CsvRecords(System.Text.Encoding.UTF8.GetString(body)));
                Assert.StartsWith("\uFEFFseq,", lines[0]);
            }
            else
            {
                Assert.Equal((byte)'P', body[0]); // a zip: PK
                var manifest = await page.Context.APIRequest.GetAsync(server.BaseUrl + href + "/manifest");
                using var m = System.Text.Json.JsonDocument.Parse(await manifest.TextAsync());
                Assert.Equal(count, m.RootElement.GetProperty("Rows").GetInt64());
                Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body)), m.RootElement.GetProperty("Sha256").GetString());
                await page.ScreenshotAsync(new() { Path = Path.Combine(ConsoleServer.ScreenshotDirectory, "export-ready.png") });

                // Another officer may not download it, and the refusal is recorded; an Auditor may not export at all.
                var omar = await server.SignInAsync("omar.officer@console.local", "/exports");
                var refused = await omar.Context.APIRequest.GetAsync(server.BaseUrl + href);
                Assert.Equal(403, refused.Status);
                var auditor = await server.SignInAsync("aurora.auditor@console.local", "/audit");
                await ConsoleServer.WaitForCircuitAsync(auditor);
                await Assertions.Expect(auditor.Locator("[data-testid=export-button]")).ToHaveCountAsync(0);
                Assert.Equal(403, (await auditor.Context.APIRequest.GetAsync(server.BaseUrl + href)).Status);
            }

            await dialog.Locator("[data-testid=export-close]").ClickAsync();
        }

        await page.GotoAsync(server.BaseUrl + "/exports");
        await ConsoleServer.WaitForCircuitAsync(page);
        await Assertions.Expect(page.Locator("[data-testid=export-row]")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("[data-testid=export-status]").First).ToHaveTextAsync("ready");
        await page.ScreenshotAsync(new() { Path = Path.Combine(ConsoleServer.ScreenshotDirectory, "exports.png") });
    }

    /// <summary>RFC 4180 records: line ends outside quotes (values hold quotes and line breaks).</summary>
    private static long CsvRecords(string csv)
    {
        long records = 0;
        var quoted = false;
        for (var i = 0; i < csv.Length; i++)
        {
            if (csv[i] == '"')
            {
                quoted = !quoted;
            }
            else if (!quoted && csv[i] == '\n')
            {
                records++;
            }
        }

        return records;
    }
}
