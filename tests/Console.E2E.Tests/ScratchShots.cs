using Microsoft.Playwright;

namespace ComplianceConsole.E2E.Tests;

// Scratch: screenshots against a console already running at CC_SCRATCH_URL. Deleted before commit.
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
        await using var browser = await pw.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"] });
        foreach (var (w, h) in new[] { (1280, 800), (1440, 900) })
        foreach (var dark in new[] { false, true })
        {
            var ctx = await browser.NewContextAsync(new() { ViewportSize = new() { Width = w, Height = h }, ColorScheme = dark ? ColorScheme.Dark : ColorScheme.Light });
            var page = await ctx.NewPageAsync();
            await page.GotoAsync(url + "/account/login");
            await page.FillAsync("#email", user);
            await page.FillAsync("#password", "Demo-Passw0rd!long");
            await page.ClickAsync("button[type=submit]");
            await page.WaitForURLAsync(u => !u.Contains("/account/login"));
            var i = 0;
            foreach (var path in paths)
            {
                await page.GotoAsync(url + path);
                await ConsoleServer.WaitForCircuitAsync(page);
                if (dark && await page.Locator("[aria-label='Toggle dark mode']").CountAsync() > 0 && i == 0)
                {
                    var isDark = await page.EvaluateAsync<bool>("() => getComputedStyle(document.body).backgroundColor !== 'rgb(255, 255, 255)' && !getComputedStyle(document.body).backgroundColor.startsWith('rgb(2')");
                    if (!isDark) await page.ClickAsync("[aria-label='Toggle dark mode']");
                }
                await page.WaitForTimeoutAsync(1500);
                await page.ScreenshotAsync(new() { Path = $"/tmp/shots/{i++}-{w}-{(dark ? "dark" : "light")}.png", FullPage = false });
                var sw = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
                Console.WriteLine($"{path} {w} {dark}: scrollWidth {sw}");
            }
            await ctx.CloseAsync();
        }
    }
}
