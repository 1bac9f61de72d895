using Microsoft.Playwright;

namespace IngestLite.Tests.Support;

/// <summary>
/// Finds and launches the Chromium the browser tests drive: <c>$INGESTLITE_BROWSER</c>, then the
/// usual system paths, then Playwright's own download. The Playwright package ships its driver, so
/// the browser is the only thing a machine has to provide.
/// </summary>
public static class BrowserLocator
{
    public const string EnvironmentVariable = "INGESTLITE_BROWSER";

    public const string HowToGetOne =
        "Install one (Debian/Ubuntu: `sudo apt-get install chromium`) or set INGESTLITE_BROWSER to a Chromium or Chrome executable; " +
        "`bash scripts/test.sh` does the install itself when run as root.";

    private static readonly string[] SystemPaths = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

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

    /// <summary>Executables to try, in order; null stands for Playwright's own installed Chromium.</summary>
    public static IReadOnlyList<string?> Candidates()
    {
        var candidates = new List<string?>();
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } configured)
        {
            candidates.Add(configured);
        }

        candidates.AddRange(SystemPaths.Where(File.Exists).Where(path => !candidates.Contains(path)));
        candidates.Add(null);
        return candidates;
    }

    /// <summary>Launches the first candidate that starts; fails with every reason and how to fix it otherwise.</summary>
    public static async Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        var failures = new List<string>();
        foreach (var candidate in Candidates())
        {
            try
            {
                var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
                {
                    ExecutablePath = candidate,
                    Headless = true,
                    Args = LaunchArguments,
                    Timeout = 60_000,
                });
                if (failures.Count > 0)
                {
                    TestContext.Progress.WriteLine($"Browser tests: skipped {string.Join("; ", failures)}");
                }

                return browser;
            }
            catch (PlaywrightException ex)
            {
                failures.Add($"{candidate ?? "Playwright's own Chromium"}: {FirstLine(ex.Message)}");
            }
        }

        throw new InvalidOperationException(
            $"No Chromium could be launched for the browser tests. {HowToGetOne}{Environment.NewLine}Tried:{Environment.NewLine}  " +
            string.Join(Environment.NewLine + "  ", failures));
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}
