namespace ComplianceConsole.E2E.Tests;

/// <summary>
/// Finds the Chromium the end-to-end tests drive, in this order: the path in <c>CC_CHROMIUM</c>; then
/// chromium, chromium-browser, google-chrome or google-chrome-stable on the PATH; then Playwright's own browser
/// cache (PLAYWRIGHT_BROWSERS_PATH, or ~/.cache/ms-playwright), full Chromium before the headless shell, newest
/// first. The file system and environment are passed in, so the order is tested without either.
/// </summary>
public sealed class ChromiumLocator(Func<string, string?> environment, Func<string, bool> fileExists, Func<string, IEnumerable<string>> subdirectories)
{
    public const string Variable = "CC_CHROMIUM";

    public static readonly string[] PathNames = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

    /// <summary>Inside a Playwright cache: folder prefix, then the executable's path below a folder (new layout first).</summary>
    private static readonly (string Prefix, string[][] Executables)[] PlaywrightBuilds =
    [
        ("chromium-", [["chrome-linux64", "chrome"], ["chrome-linux", "chrome"]]),
        ("chromium_headless_shell-", [["chrome-headless-shell-linux64", "chrome-headless-shell"], ["chrome-linux", "headless_shell"]]),
    ];

    public static string HowToGetOne =>
        "No Chromium for the end-to-end tests. Install one of: `apt-get install chromium` (Debian/Ubuntu, as .ci/run does); "
        + "Playwright's own build with `pwsh tests/Console.E2E.Tests/bin/Debug/net10.0/playwright.ps1 install chromium`; "
        + $"or set {Variable} to the path of a Chromium or Chrome executable.";

    public static ChromiumLocator ForThisMachine { get; } = new(
        Environment.GetEnvironmentVariable,
        File.Exists,
        dir => Directory.Exists(dir) ? Directory.EnumerateDirectories(dir) : []);

    /// <summary>The browser to use, or null when there is none. A <c>CC_CHROMIUM</c> that names no file is an error, not a fallback.</summary>
    public string? Find()
    {
        if (environment(Variable) is { Length: > 0 } configured)
        {
            return fileExists(configured)
                ? configured
                : throw new InvalidOperationException($"{Variable} is set to \"{configured}\", but there is no file there. Point it at a Chromium or Chrome executable, or unset it.");
        }

        foreach (var dir in (environment("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var name in PathNames)
            {
                var candidate = Path.Combine(dir, name);
                if (fileExists(candidate))
                {
                    return candidate;
                }
            }
        }

        var cache = PlaywrightCache();
        foreach (var (prefix, executables) in PlaywrightBuilds)
        {
            var builds = subdirectories(cache)
                .Where(d => Path.GetFileName(d).StartsWith(prefix, StringComparison.Ordinal))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d)[prefix.Length..], out var revision) ? revision : -1);
            foreach (var build in builds)
            {
                foreach (var parts in executables)
                {
                    var candidate = Path.Combine([build, .. parts]);
                    if (fileExists(candidate))
                    {
                        return candidate;
                    }
                }
            }
        }

        return null;
    }

    private string PlaywrightCache() =>
        environment("PLAYWRIGHT_BROWSERS_PATH") is { Length: > 0 } custom && custom != "0"
            ? custom
            : Path.Combine(environment("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "ms-playwright");

    /// <summary>
    /// The browser on this machine. When there is none, asks Playwright to install its Chromium (works only where
    /// the network allows), looks again, and otherwise fails with one message that says what to install.
    /// </summary>
    public static string Resolve()
    {
        if (ForThisMachine.Find() is { } found)
        {
            return found;
        }

        int exit;
        try
        {
            exit = Microsoft.Playwright.Program.Main(["install", "chromium"]);
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException(HowToGetOne + $" (Installing Playwright's Chromium failed: {ex.Message})", ex);
        }

        return ForThisMachine.Find()
            ?? throw new InvalidOperationException(HowToGetOne + $" (Installing Playwright's Chromium did not work here: exit code {exit}; is the network closed?)");
    }
}
