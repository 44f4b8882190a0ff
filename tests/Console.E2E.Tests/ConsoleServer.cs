using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace ComplianceConsole.E2E.Tests;

/// <summary>
/// The real console, built as for `dotnet run`, started as its own process on a free loopback port with a
/// fresh SQLite file and a short demo history; plus a Chromium (see <see cref="ChromiumLocator"/>) driven by Playwright.
/// </summary>
public sealed partial class ConsoleServer : IAsyncLifetime
{
    public const string Password = "E2e-Passw0rd!long";
    private readonly string _database;
    private Process? _process;
    private IPlaywright? _playwright;

    public ConsoleServer()
        : this(Path.Combine(Path.GetTempPath(), $"cc-e2e-{Guid.NewGuid():N}.db"))
    {
    }

    private ConsoleServer(string database) => _database = database;

    /// <summary>A second console, on a database file of the test's own (a copy of the shared one, say); disposed by the test.</summary>
    public static async Task<ConsoleServer> StartOnAsync(string database)
    {
        var server = new ConsoleServer(database);
        await server.InitializeAsync();
        return server;
    }

    public string BaseUrl { get; private set; } = "";

    /// <summary>The SQLite file the console writes; tests read it to check what was stored.</summary>
    public string DatabasePath => _database;
    public IBrowser Browser { get; private set; } = null!;

    public static string ScreenshotDirectory
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("CC_SCREENSHOTS")
                ?? Path.Combine(RepoRoot(), "artifacts", "screenshots");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    /// <summary>The console's own output (its log), kept so that a failure can say what the server was doing.</summary>
    private readonly System.Text.StringBuilder _output = new();

    /// <summary>The last <paramref name="lines"/> lines the console wrote.</summary>
    public string LogTail(int lines = 40)
    {
        lock (_output)
        {
            return string.Join('\n', _output.ToString().Split('\n').TakeLast(lines));
        }
    }

    public async Task InitializeAsync()
    {
        var start = ConsoleProcess(_database);
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["Seed__Days"] = "7";
        // Each request's start and end with its time, so that a slow page can be traced in console-server.log.
        start.Environment["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information";
        _process = Process.Start(start)!;

        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = _output;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (ListeningLine().Match(e.Data) is { Success: true } m)
            {
                listening.TrySetResult(m.Groups[1].Value);
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var done = await Task.WhenAny(listening.Task, _process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(120)));
        if (done != listening.Task)
        {
            throw new InvalidOperationException("The console did not start:\n" + output);
        }

        BaseUrl = listening.Task.Result;
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumLocator.Resolve(),
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>A fresh browser context (1440×900 unless <paramref name="options"/> say otherwise) signed in as <paramref name="email"/>, on <paramref name="path"/>.</summary>
    public async Task<IPage> SignInAsync(string email, string path, BrowserNewContextOptions? options = null)
    {
        options ??= new BrowserNewContextOptions();
        options.ViewportSize ??= new ViewportSize { Width = 1440, Height = 900 };
        var context = await Browser.NewContextAsync(options);
        var page = await context.NewPageAsync();
        await page.GotoAsync(BaseUrl + path);
        await page.FillAsync("#email", email);
        await page.FillAsync("#password", Password);
        await page.ClickAsync("button[type=submit]");
        try
        {
            await page.WaitForURLAsync(u => !u.Contains("/account/login"));
        }
        catch (Microsoft.Playwright.PlaywrightException ex)
        {
            // Not retried: the server's log says what the sign-in waited for.
            throw new Xunit.Sdk.XunitException($"The sign-in of {email} did not leave the login page ({ex.Message}). The console's log ends:\n{LogTail()}");
        }

        return page;
    }

    /// <summary>Waits for a side effect that happens after the page answers (an event written by the circuit), up to a deadline.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"Not within {seconds} s: {what}.");
            }

            await Task.Delay(100);
        }
    }

    public static Task WaitForCircuitAsync(IPage page) =>
        page.Locator("[data-testid=circuit-interactive]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        lock (_output)
        {
            // The console's whole log beside the screenshots: what a failed test's server was doing.
            File.WriteAllText(Path.Combine(ScreenshotDirectory, "console-server.log"), _output.ToString());
        }

        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(_database + suffix);
        }

        foreach (var folder in new[] { ".archives", ".exports" })
        {
            if (Directory.Exists(_database + folder))
            {
                Directory.Delete(_database + folder, recursive: true);
            }
        }
    }

    /// <summary>How to start the built console (as `dotnet run` would) on <paramref name="database"/>, with extra arguments.</summary>
    public static ProcessStartInfo ConsoleProcess(string database, params string[] args)
    {
        var webDir = Path.Combine(RepoRoot(), "src", "Console.Web");
        var dll = Path.Combine(AppContext.BaseDirectory.Replace(Path.Combine("tests", "Console.E2E.Tests"), Path.Combine("src", "Console.Web")), "ComplianceConsole.Web.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"The console was not built at {dll}; build the solution first.");
        }

        var start = new ProcessStartInfo("dotnet", ["exec", dll, .. args])
        {
            WorkingDirectory = webDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_CONTENTROOT"] = webDir;
        start.Environment["Database__ConnectionString"] = $"Data Source={database}";
        // Each test database has its own checkpoints and key, never the shared App_Data of the source tree.
        start.Environment["Audit__Checkpoints__Folder"] = database + ".checkpoints";
        start.Environment["Audit__Checkpoints__KeyPath"] = database + ".checkpoint-key.pem";
        start.Environment["Audit__SpoolPath"] = database + ".spool.jsonl";
        start.Environment["Retention__ArchiveFolder"] = database + ".archives";
        start.Environment["Exports__Folder"] = database + ".exports";
        // No nightly purge: a test that runs at 02:30 UTC would otherwise see the schedule's run besides its own.
        start.Environment["Retention__Schedule"] = "";
        // A regulatory floor, as an installation would configure one.
        start.Environment["Retention__Floors__0__Scope"] = "Payments";
        start.Environment["Retention__Floors__0__Days"] = "365";
        start.Environment["Retention__Floors__0__Regulation"] = "PCI DSS";
        start.Environment["Seed__DemoPassword"] = Password;
        return start;
    }

    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Console.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Console.sln not found above the test folder.");
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();
}

[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ConsoleServer>
{
    public const string Name = "console";
}
