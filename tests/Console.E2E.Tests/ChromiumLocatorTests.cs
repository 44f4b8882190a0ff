namespace ComplianceConsole.E2E.Tests;

public sealed class ChromiumLocatorTests
{
    private const string Home = "/home/tester";
    private static readonly string Cache = Path.Combine(Home, ".cache", "ms-playwright");

    private static ChromiumLocator Locator(Dictionary<string, string> environment, params string[] files) => new(
        name => environment.GetValueOrDefault(name),
        files.Contains,
        dir => files.Where(f => f.StartsWith(dir + "/", StringComparison.Ordinal))
            .Select(f => dir + "/" + f[(dir.Length + 1)..].Split('/')[0])
            .Distinct());

    private static Dictionary<string, string> Env(string? chromium = null, string path = "/usr/local/bin:/usr/bin")
    {
        var env = new Dictionary<string, string> { ["PATH"] = path, ["HOME"] = Home };
        if (chromium is not null)
        {
            env[ChromiumLocator.Variable] = chromium;
        }

        return env;
    }

    [Fact]
    public void The_environment_variable_wins_over_the_path_and_the_playwright_cache()
    {
        var locator = Locator(Env("/opt/chrome/chrome"), "/opt/chrome/chrome", "/usr/bin/chromium", Cache + "/chromium-1248/chrome-linux64/chrome");
        Assert.Equal("/opt/chrome/chrome", locator.Find());
    }

    [Fact]
    public void An_environment_variable_naming_no_file_is_an_error_that_names_it()
    {
        var locator = Locator(Env("/nowhere/chrome"), "/usr/bin/chromium");
        var error = Assert.Throws<InvalidOperationException>(() => locator.Find());
        Assert.Contains("/nowhere/chrome", error.Message);
        Assert.Contains(ChromiumLocator.Variable, error.Message);
    }

    [Fact]
    public void On_the_path_each_folder_is_searched_in_order_and_chromium_comes_before_chrome()
    {
        Assert.Equal("/usr/bin/chromium", Locator(Env(), "/usr/bin/google-chrome", "/usr/bin/chromium").Find());
        Assert.Equal("/usr/local/bin/google-chrome-stable", Locator(Env(), "/usr/local/bin/google-chrome-stable", "/usr/bin/chromium").Find());
        Assert.Equal("/usr/bin/chromium-browser", Locator(Env(), "/usr/bin/chromium-browser", Cache + "/chromium-1248/chrome-linux64/chrome").Find());
    }

    [Fact]
    public void The_playwright_cache_comes_last_newest_full_chromium_before_the_headless_shell()
    {
        var locator = Locator(Env(),
            Cache + "/chromium_headless_shell-1300/chrome-headless-shell-linux64/chrome-headless-shell",
            Cache + "/chromium-1100/chrome-linux/chrome",
            Cache + "/chromium-1248/chrome-linux64/chrome");
        Assert.Equal(Cache + "/chromium-1248/chrome-linux64/chrome", locator.Find());

        var shellOnly = Locator(Env(), Cache + "/chromium_headless_shell-1140/chrome-linux/headless_shell");
        Assert.Equal(Cache + "/chromium_headless_shell-1140/chrome-linux/headless_shell", shellOnly.Find());
    }

    [Fact]
    public void Playwright_browsers_path_replaces_the_default_cache()
    {
        var env = Env();
        env["PLAYWRIGHT_BROWSERS_PATH"] = "/srv/pw";
        Assert.Equal("/srv/pw/chromium-1248/chrome-linux64/chrome", Locator(env, "/srv/pw/chromium-1248/chrome-linux64/chrome", Cache + "/chromium-1300/chrome-linux64/chrome").Find());
    }

    [Fact]
    public void Nothing_found_is_null_and_the_message_says_what_to_install()
    {
        Assert.Null(Locator(Env(), "/usr/bin/firefox").Find());
        Assert.Contains("apt-get install chromium", ChromiumLocator.HowToGetOne);
        Assert.Contains("playwright.ps1 install chromium", ChromiumLocator.HowToGetOne);
        Assert.Contains(ChromiumLocator.Variable, ChromiumLocator.HowToGetOne);
    }
}
