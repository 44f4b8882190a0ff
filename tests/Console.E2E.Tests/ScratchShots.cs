using Microsoft.Playwright;

namespace ComplianceConsole.E2E.Tests;

// Scratch: screenshots of many pages against a running console, plus 2x2 contact sheets. Deleted before commit.
public sealed class ScratchShots
{
    [Fact]
    public async Task Shots()
    {
        var url = Environment.GetEnvironmentVariable("CC_SCRATCH_URL");
        if (url is null) return;
        var paths = (Environment.GetEnvironmentVariable("CC_SCRATCH_PATHS") ?? "/audit").Split(' ');
        var user = Environment.GetEnvironmentVariable("CC_SCRATCH_USER") ?? "admin@console.local";
        using var pw = await Playwright.CreateAsync();
        await using var browser = await pw.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--allow-file-access-from-files"] });
        var shots = new Dictionary<int, List<string>>();
        foreach (var (w, h) in new[] { (1280, 800), (1440, 900) })
        foreach (var dark in new[] { false, true })
        {
            var ctx = await browser.NewContextAsync(new() { ViewportSize = new() { Width = w, Height = h }, ColorScheme = dark ? ColorScheme.Dark : ColorScheme.Light });
            var page = await ctx.NewPageAsync();
            var signedIn = false;
            for (var i = 0; i < paths.Length; i++)
            {
                var path = paths[i];
                var anonymous = path.StartsWith("anon:");
                if (!anonymous && !signedIn)
                {
                    await page.GotoAsync(url + "/account/login");
                    await page.FillAsync("#email", user);
                    await page.FillAsync("#password", "Demo-Passw0rd!long");
                    await page.ClickAsync("button[type=submit]");
                    await page.WaitForURLAsync(u => !u.Contains("/account/login"));
                    signedIn = true;
                }

                var parts = (anonymous ? path[5..] : path).Split('|');
                await page.GotoAsync(url + parts[0]);
                if (!anonymous && !path.StartsWith("/account")) await ConsoleServer.WaitForCircuitAsync(page);
                await page.WaitForTimeoutAsync(1500);
                foreach (var click in parts.Skip(1)) { await page.ClickAsync(click); await page.WaitForTimeoutAsync(800); }
                var file = $"/tmp/shots/{i:00}-{w}-{(dark ? "dark" : "light")}.png";
                await page.ScreenshotAsync(new() { Path = file, FullPage = Environment.GetEnvironmentVariable("CC_SCRATCH_FULL") == "1" });
                (shots.TryGetValue(i, out var l) ? l : shots[i] = []).Add(file);
                var sw = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
                Console.WriteLine($"{i:00} {path} {w} {dark}: scrollWidth {sw}");
            }
            await ctx.CloseAsync();
        }

        var sheetCtx = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1440, Height = 920 } });
        var sheet = await sheetCtx.NewPageAsync();
        foreach (var (i, files) in shots)
        {
            var html = "<html><body style='margin:0;display:grid;grid-template-columns:1fr 1fr;gap:4px;background:#888'>" +
                string.Join("", files.Select(f => $"<img src='file://{f}' style='width:718px'>")) + "</body></html>";
            await File.WriteAllTextAsync($"/tmp/shots/sheet-{i:00}.html", html);
            await sheet.GotoAsync($"file:///tmp/shots/sheet-{i:00}.html");
            await sheet.WaitForTimeoutAsync(200);
            await sheet.ScreenshotAsync(new() { Path = $"/tmp/shots/sheet-{i:00}.png", FullPage = true });
        }
    }
}
