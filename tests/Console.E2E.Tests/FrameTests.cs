using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace ComplianceConsole.E2E.Tests;

/// <summary>The console's frame: sign-in, theme per user, not-found page, widths and URL-echoed values.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class FrameTests(ConsoleServer server)
{
    private static readonly ViewportSize Laptop = new() { Width = 1280, Height = 800 };

    private static ILocator Frame(IPage page) => page.Locator("[data-testid=frame]");

    private static async Task ChooseThemeAsync(IPage page, string choice)
    {
        await page.Locator("[data-testid=theme-menu] button").First.ClickAsync();
        await page.Locator($"[data-testid=theme-{choice}]").ClickAsync();
    }

    [Fact]
    public async Task A_theme_choice_survives_a_reload_and_a_new_tab_and_belongs_to_its_user_only()
    {
        var omar = await server.SignInAsync("omar.officer@console.local", "/customers");
        await ConsoleServer.WaitForCircuitAsync(omar);
        await Assertions.Expect(Frame(omar)).ToHaveAttributeAsync("data-theme", "light");
        await ChooseThemeAsync(omar, "dark");
        await Assertions.Expect(Frame(omar)).ToHaveAttributeAsync("data-theme", "dark");

        // The page as the server sends it is already dark: no flash of the light theme on reload.
        var reloaded = await omar.ReloadAsync();
        Assert.Contains("data-theme=\"dark\"", await reloaded!.TextAsync());
        await ConsoleServer.WaitForCircuitAsync(omar);
        await Assertions.Expect(Frame(omar)).ToHaveAttributeAsync("data-theme", "dark");
        var appBar = await omar.Locator(".mud-appbar").EvaluateAsync<string>("e => getComputedStyle(e).backgroundColor");
        Assert.Equal("rgb(22, 51, 92)", appBar);

        var newTab = await omar.Context.NewPageAsync();
        await newTab.GotoAsync(server.BaseUrl + "/payments");
        await ConsoleServer.WaitForCircuitAsync(newTab);
        await Assertions.Expect(Frame(newTab)).ToHaveAttributeAsync("data-theme", "dark");
        await Assertions.Expect(Frame(newTab)).ToHaveAttributeAsync("data-theme-choice", "dark");

        // The same choice on the static password page, which is in the same frame.
        await newTab.GotoAsync(server.BaseUrl + "/account/password");
        await Assertions.Expect(Frame(newTab)).ToHaveAttributeAsync("data-theme", "dark");

        var other = await server.SignInAsync("oscar.operator@console.local", "/customers");
        await ConsoleServer.WaitForCircuitAsync(other);
        await Assertions.Expect(Frame(other)).ToHaveAttributeAsync("data-theme", "light");
        await Assertions.Expect(Frame(other)).ToHaveAttributeAsync("data-theme-choice", "system");
    }

    [Fact]
    public async Task The_system_colour_scheme_is_the_default_from_the_sign_in_page_on()
    {
        var context = await server.Browser.NewContextAsync(new BrowserNewContextOptions { ColorScheme = ColorScheme.Dark, ViewportSize = Laptop });
        var page = await context.NewPageAsync();
        await page.GotoAsync(server.BaseUrl + "/account/login");
        await Assertions.Expect(Frame(page)).ToHaveAttributeAsync("data-theme", "dark");
        await page.FillAsync("#email", "aurora.auditor@console.local");
        await page.FillAsync("#password", ConsoleServer.Password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(u => !u.Contains("/account/login"));
        await ConsoleServer.WaitForCircuitAsync(page);
        await Assertions.Expect(Frame(page)).ToHaveAttributeAsync("data-theme-choice", "system");
        await Assertions.Expect(Frame(page)).ToHaveAttributeAsync("data-theme", "dark");

        // The system changes its mind: a user who follows it follows it live.
        await page.EmulateMediaAsync(new PageEmulateMediaOptions { ColorScheme = ColorScheme.Light });
        await Assertions.Expect(Frame(page)).ToHaveAttributeAsync("data-theme", "light");
    }

    [Fact]
    public async Task An_unknown_address_shows_the_consoles_not_found_page_in_its_frame_with_status_404()
    {
        var page = await server.SignInAsync("admin@console.local", "/", new BrowserNewContextOptions { ViewportSize = Laptop });
        var response = await page.GotoAsync(server.BaseUrl + "/no-such-page");
        Assert.Equal(404, response!.Status);
        await ConsoleServer.WaitForCircuitAsync(page);
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Page not found");
        await Assertions.Expect(page.Locator("[data-testid=not-found]")).ToContainTextAsync("/no-such-page");
        await Assertions.Expect(Frame(page).Locator(".mud-appbar")).ToContainTextAsync("Compliance Console");
        await Assertions.Expect(page.Locator(".mud-drawer")).ToContainTextAsync("Customers");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleServer.ScreenshotDirectory, "not-found.png") });
    }

    [Fact]
    public async Task A_refused_sign_in_keeps_the_email_typed_and_the_page_in_the_consoles_frame()
    {
        var context = await server.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = Laptop });
        var page = await context.NewPageAsync();
        await page.GotoAsync(server.BaseUrl + "/account/login");
        await Assertions.Expect(Frame(page).Locator(".mud-appbar")).ToContainTextAsync("Compliance Console");
        var font = await page.Locator("h1").EvaluateAsync<string>("e => getComputedStyle(e).fontFamily");
        Assert.Contains("Liberation Sans", font);
        await page.FillAsync("#email", "abel.auditor@console.local");
        await page.FillAsync("#password", "not-the-password");
        await page.ClickAsync("button[type=submit]");
        await Assertions.Expect(page.Locator("[role=alert]")).ToContainTextAsync("not right");
        await Assertions.Expect(page.Locator("#email")).ToHaveValueAsync("abel.auditor@console.local");
        await Assertions.Expect(page.Locator("#password")).ToHaveValueAsync("");
        Assert.DoesNotContain("abel", page.Url);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleServer.ScreenshotDirectory, "sign-in-refused.png") });
    }

    [Theory]
    [InlineData("/customers")]
    [InlineData("/accounts")]
    [InlineData("/payments")]
    [InlineData("/documents")]
    [InlineData("/tags")]
    [InlineData("/customers?q=no-such-customer")]
    [InlineData("/payments?q=no-such-payment")]
    [InlineData("/accounts?q=no-such-account")]
    public async Task A_list_page_has_no_horizontal_scroll_at_1280_by_800(string path)
    {
        var page = await server.SignInAsync("admin@console.local", path, new BrowserNewContextOptions { ViewportSize = Laptop });
        await ConsoleServer.WaitForCircuitAsync(page);
        await AssertNoHorizontalScrollAsync(page);
        if (path.Contains("?q="))
        {
            await Assertions.Expect(page.Locator("[data-testid=empty-action]")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator(".mud-table")).Not.ToContainTextAsync("of 0"); // no "0-0 of 0" pager
        }
    }

    [Theory]
    [InlineData("/customers?q=")]
    [InlineData("/accounts?status=Open&q=")]
    [InlineData("/documents?q=")]
    [InlineData("/no-such-page?x=")]
    [InlineData("/account/password?error=")]
    public async Task A_5000_character_query_parameter_does_not_widen_the_page(string prefix)
    {
        var page = await server.SignInAsync("admin@console.local", "/", new BrowserNewContextOptions { ViewportSize = Laptop });
        await ConsoleServer.WaitForCircuitAsync(page);
        await page.GotoAsync(server.BaseUrl + prefix + new string('w', 5000));
        await page.Locator("h1, h4").First.WaitForAsync();
        await AssertNoHorizontalScrollAsync(page);
    }

    [Fact]
    public async Task A_search_is_a_new_history_entry_so_back_returns_to_the_list_before_it()
    {
        var page = await server.SignInAsync("aurora.auditor@console.local", "/customers");
        await ConsoleServer.WaitForCircuitAsync(page);
        await page.Locator("[data-testid=search] input, input[data-testid=search]").First.FillAsync("no-such-customer");
        await page.WaitForURLAsync(new Regex("q=no-such-customer"));
        await Assertions.Expect(page.Locator("[data-testid=customer-grid]")).ToContainTextAsync("No customers match");

        await page.GoBackAsync();
        await page.WaitForURLAsync(u => u.EndsWith("/customers"));
        await Assertions.Expect(page.Locator("[data-testid=search] input, input[data-testid=search]").First).ToHaveValueAsync("");
        await Assertions.Expect(page.Locator("[data-testid=customer-grid] tbody tr").First).Not.ToContainTextAsync("No customers match");
    }

    private static async Task AssertNoHorizontalScrollAsync(IPage page)
    {
        var widths = await page.EvaluateAsync<int[]>(
            "() => [document.documentElement.scrollWidth - document.documentElement.clientWidth, " +
            "...[...document.querySelectorAll('.mud-table-container')].map(e => e.scrollWidth - e.clientWidth)]");
        Assert.All(widths, overflow => Assert.True(overflow <= 0, $"{page.Url[..Math.Min(page.Url.Length, 80)]} scrolls sideways by {string.Join(", ", widths)} px (page, then each grid)."));
    }
}
