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

            // A small export downloads at once, with no further click.
            var automatic = await page.RunAndWaitForDownloadAsync(() => dialog.Locator("[data-testid=export-start]").ClickAsync(), new() { Timeout = 30_000 });
            var downloaded = await File.ReadAllBytesAsync(await automatic.PathAsync());
            await Assertions.Expect(dialog.Locator("[data-testid=export-ready]")).ToContainTextAsync($"{count:N0} entries exported", new() { Timeout = 30_000 });
            await Assertions.Expect(page.Locator(".mud-snackbar").Last).ToContainTextAsync($"Export ready: {count:N0} entries as {format.ToUpperInvariant()}");
            var href = await dialog.Locator("[data-testid=export-download]").GetAttributeAsync("href");
            var response = await page.Context.APIRequest.GetAsync(server.BaseUrl + href);
            Assert.Equal(200, response.Status);
            var body = await response.BodyAsync();
            Assert.Equal(body, downloaded);
            if (format == "csv")
            {
                var lines = System.Text.Encoding.UTF8.GetString(body).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
                Assert.Equal(count + 1, CsvRows(System.Text.Encoding.UTF8.GetString(body)).Count);
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
        var payments = page.Locator("[data-testid=export-row]", new() { HasText = "table:Payments" });
        await Assertions.Expect(payments).ToHaveCountAsync(2);
        await Assertions.Expect(payments.First.Locator("[data-testid=export-status]")).ToHaveTextAsync("ready");
        await Assertions.Expect(payments.First.Locator("[data-testid=export-size]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^[\d,.]+ (KB|MB)$"));
        await page.ScreenshotAsync(new() { Path = Path.Combine(ConsoleServer.ScreenshotDirectory, "exports.png") });
    }

    [Fact]
    public async Task An_officer_exports_a_records_history_with_its_link_rows_and_it_downloads_at_once()
    {
        var page = await server.SignInAsync("olivia.officer@console.local", "/history/Customers/3");
        await ConsoleServer.WaitForCircuitAsync(page);
        var summary = page.Locator("[data-testid=history-summary]");
        await Assertions.Expect(summary).ToContainTextAsync("version");
        var versions = int.Parse(System.Text.RegularExpressions.Regex.Match((await summary.TextContentAsync())!, @"(\d+) versions?").Groups[1].Value, CultureInfo.InvariantCulture);

        await page.ClickAsync("[data-testid=history-export]");
        var dialog = page.Locator(".mud-dialog");
        await Assertions.Expect(dialog.Locator("[data-testid=export-count]")).ToContainTextAsync("(Customers #3)");
        await dialog.Locator("[data-testid=format-csv]").ClickAsync();
        var download = await page.RunAndWaitForDownloadAsync(() => dialog.Locator("[data-testid=export-start]").ClickAsync(), new() { Timeout = 30_000 });
        Assert.StartsWith("history-", download.SuggestedFilename);
        var rows = CsvRows(await File.ReadAllTextAsync(await download.PathAsync()));
        var (subject, record) = (Array.IndexOf(rows[0], "table or event"), Array.IndexOf(rows[0], "record key or target"));
        Assert.Contains("canonical form (what the payload hash covers)", rows[0]);
        var own = rows.Skip(1).Where(r => r[subject] == "Customers").ToList();
        Assert.Equal(versions, own.Count);
        Assert.All(own, r => Assert.Equal("{\"Id\":3}", r[record]));
        var links = rows.Skip(1).Where(r => r[subject] != "Customers").ToList();
        Assert.NotEmpty(links); // the seed links every customer to accounts, tags or documents
        Assert.All(links, r => Assert.Matches(@"""(CustomerId|CustomersId)"":3\b|^\{""Id"":(\d+|""[0-9A-Fa-f-]{36}"")\}$", r[record])); // a link row, an account, a document
        await page.ScreenshotAsync(new() { Path = Path.Combine(ConsoleServer.ScreenshotDirectory, "history-export.png") });
    }

    /// <summary>RFC 4180 records, each as its fields (values hold quotes, commas and line breaks).</summary>
    private static List<string[]> CsvRows(string csv)
    {
        var rows = new List<string[]>();
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = csv.Length > 0 && csv[0] == '\uFEFF' ? 1 : 0; i < csv.Length; i++)
        {
            var c = csv[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < csv.Length && csv[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else if (c == '\r' && i + 1 < csv.Length && csv[i + 1] == '\n')
            {
                fields.Add(field.ToString());
                field.Clear();
                rows.Add([.. fields]);
                fields.Clear();
                i++;
            }
            else
            {
                field.Append(c);
            }
        }

        return rows;
    }
}
