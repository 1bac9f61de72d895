using Microsoft.Playwright;

namespace IngestLite.Tests.Support;

/// <summary>
/// Finds and launches the browsers the browser tests drive: Chromium (<c>$INGESTLITE_BROWSER</c>, the
/// usual system paths, then Playwright's own download) and Firefox (<c>$INGESTLITE_FIREFOX</c>, Debian's
/// <c>firefox-esr</c>, then Playwright's own build). The Playwright package ships its driver, so the
/// browsers are the only thing a machine has to provide.
/// </summary>
public static class BrowserLocator
{
    public const string Chromium = "chromium";

    public const string Firefox = "firefox";

    /// <summary>Every browser the tests run in, by the name that appears in the tests' names.</summary>
    public static IReadOnlyList<string> All { get; } = [Chromium, Firefox];

    public const string EnvironmentVariable = "INGESTLITE_BROWSER";

    public const string FirefoxEnvironmentVariable = "INGESTLITE_FIREFOX";

    public const string HowToGetOne =
        "Install one (Debian/Ubuntu: `sudo apt-get install chromium`) or set INGESTLITE_BROWSER to a Chromium or Chrome executable; " +
        "`bash scripts/test.sh` does the install itself when run as root.";

    public const string HowToGetFirefox =
        "Install one (Debian: `sudo apt-get install firefox-esr`) or set INGESTLITE_FIREFOX to a stock Firefox executable (driven over WebDriver BiDi; checked with 153 ESR); " +
        "`bash scripts/test.sh` does the install itself when run as root.";

    private static readonly string[] SystemPaths = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

    private static readonly string[] FirefoxSystemPaths = ["/usr/bin/firefox-esr", "/usr/bin/firefox"];

    /// <summary>Headless in containers and CI: no sandbox (often no user namespaces), no GPU, nothing phoning home.</summary>
    public static readonly string[] LaunchArguments =
    [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
    ];

    /// <summary>Firefox's counterpart of <see cref="LaunchArguments"/>: nothing phoning home or updating itself during a run.</summary>
    public static readonly Dictionary<string, object> FirefoxPreferences = new()
    {
        ["app.update.enabled"] = false,
        ["app.normandy.enabled"] = false,
        ["browser.shell.checkDefaultBrowser"] = false,
        ["datareporting.policy.dataSubmissionEnabled"] = false,
        ["toolkit.telemetry.enabled"] = false,
        ["extensions.update.enabled"] = false,
    };

    /// <summary>Chromium executables to try, in order; null stands for Playwright's own installed Chromium.</summary>
    public static IReadOnlyList<string?> Candidates() => Candidates(EnvironmentVariable, SystemPaths);

    /// <summary>Firefox executables to try, in order; null stands for Playwright's own installed Firefox.</summary>
    public static IReadOnlyList<string?> FirefoxCandidates() => Candidates(FirefoxEnvironmentVariable, FirefoxSystemPaths);

    /// <summary>Launches the first candidate of <paramref name="browser"/> that starts; fails with every reason and how to fix it otherwise.</summary>
    public static Task<IBrowser> LaunchAsync(IPlaywright playwright, string browser) =>
        LaunchAsync(playwright, browser, browser == Firefox ? FirefoxCandidates() : Candidates());

    /// <summary>Launches the first of <paramref name="candidates"/> that starts as <paramref name="browser"/>.</summary>
    internal static async Task<IBrowser> LaunchAsync(IPlaywright playwright, string browser, IReadOnlyList<string?> candidates)
    {
        var (launch, label, howTo) = browser switch
        {
            Chromium => ((Func<string?, Task<IBrowser>>)(path => LaunchChromiumAsync(playwright, path)), "Chromium", HowToGetOne),
            Firefox => (path => LaunchFirefoxAsync(playwright, path), "Firefox", HowToGetFirefox),
            _ => throw new ArgumentOutOfRangeException(nameof(browser), browser, $"not one of {string.Join(", ", All)}"),
        };

        var failures = new List<string>();
        foreach (var candidate in candidates)
        {
            try
            {
                var launched = await launch(candidate);
                if (failures.Count > 0)
                {
                    TestContext.Progress.WriteLine($"Browser tests: skipped {string.Join("; ", failures)}");
                }

                return launched;
            }
            catch (PlaywrightException ex)
            {
                failures.Add($"{candidate ?? $"Playwright's own {label}"}: {FirstLine(ex.Message)}");
            }
        }

        throw new InvalidOperationException(
            $"No {label} could be launched for the browser tests. {howTo}{Environment.NewLine}Tried:{Environment.NewLine}  " +
            string.Join(Environment.NewLine + "  ", failures));
    }

    private static Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright, string? path) =>
        playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = path,
            Headless = true,
            Args = LaunchArguments,
            Timeout = 60_000,
        });

    /// <summary>
    /// A stock Firefox (Debian's firefox-esr) is driven over WebDriver BiDi, which Playwright selects with
    /// the <c>moz-firefox</c> channel; Playwright's own patched build (no path) speaks its own protocol.
    /// </summary>
    private static Task<IBrowser> LaunchFirefoxAsync(IPlaywright playwright, string? path) =>
        playwright.Firefox.LaunchAsync(new BrowserTypeLaunchOptions
        {
            Channel = path is null ? null : "moz-firefox",
            ExecutablePath = path,
            Headless = true,
            FirefoxUserPrefs = FirefoxPreferences,
            Timeout = 60_000,
        });

    private static IReadOnlyList<string?> Candidates(string environmentVariable, string[] systemPaths)
    {
        var candidates = new List<string?>();
        if (Environment.GetEnvironmentVariable(environmentVariable) is { Length: > 0 } configured)
        {
            candidates.Add(configured);
        }

        candidates.AddRange(systemPaths.Where(File.Exists).Where(path => !candidates.Contains(path)));
        candidates.Add(null);
        return candidates;
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}
