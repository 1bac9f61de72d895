using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace IngestLite.Tests.Support.Pages;

/// <summary>What the live panel shows at one moment, read in a single round trip.</summary>
public sealed record PanelState(
    string Session,
    long? Seq,
    string? Status,
    string Badge,
    string Percent,
    int ProgressValue,
    string Files,
    int Metadata,
    int Keywords,
    int Scores,
    int Committed,
    int Errors,
    IReadOnlyList<string> ErrorFiles,
    string StatusText);

/// <summary>One row of the results table: its data attributes and the text of its cells (file, state, stage, reason, size, duration).</summary>
public sealed record ResultRow(long Seq, string Path, string State, IReadOnlyList<string> Cells);

/// <summary>The ingest page (<c>/</c>). Every selector the tests use lives in <see cref="Selectors"/>.</summary>
public sealed class IngestPage(IPage page)
{
    public static class Selectors
    {
        public const string FolderList = "#folder-list";
        public const string FolderRow = "#folder-list li.folder-row";
        public const string FolderCheck = "input.folder-check";
        public const string FolderName = "button.folder-name";
        public const string FolderUp = "#folder-up";
        public const string FolderPath = "#folder-path";
        public const string AddFolder = "#add-folder";
        public const string SelectedFolders = "#selected-folders";
        public const string ChipRemove = "button.chip-remove";
        public const string Pattern = "#pattern";
        public const string Recursive = "#recursive";
        public const string MaxFiles = "#max-files";
        public const string StartButton = "#start-button";
        public const string FormError = "#form-error";
        public const string LivePanel = "#live-panel";
        public const string Badge = "#connection-badge";
        public const string StatusText = "#status-text";
        public const string StallWarning = "#stall-warning";
        public const string ProgressBar = "#progress-bar";
        public const string ProgressFill = "#progress-fill";
        public const string ProgressPercent = "#progress-percent";
        public const string ProgressFiles = "#progress-files";
        public const string ErrorList = "#error-list";
        public const string ErrorItem = "#error-list li";
        public const string CancelButton = "#cancel-button";
        public const string Summary = "#run-summary";
        public const string SummaryText = "#summary-text";
        public const string ReportLink = "#report-link";
        public const string ResumeButton = "#resume-button";
        public const string CommitButton = "#commit-button";
        public const string ReviewBeforeCommit = "#review-before-commit";
        public const string RecentSessions = "#recent-sessions";
        public const string RecentSession = "#recent-sessions li.session";
        public const string CurrentFile = "#current-file";
        public const string ParentSession = "#parent-session";
        public const string ResultsPanel = "#results-panel";
        public const string ResultsRow = "#results-body tr";
        public const string ResultsRange = "#results-range";
        public const string ResultsFirst = "#results-first";
        public const string ResultsPrev = "#results-prev";
        public const string ResultsNext = "#results-next";
        public const string ResultsLast = "#results-last";
        public const string ResultsCsv = "#results-csv";
        public const string FailedItem = "#failed-list li";
        public const string FailedCount = "#failed-count";
        public const string RetryFailedButton = "#retry-failed-button";
        public const string RetryError = "#retry-error";

        /// <summary>A filter tab: <c>all</c>, <c>failed</c>, <c>warnings</c> or <c>skipped</c>.</summary>
        public static string ResultsTab(string filter) => $"#results-tab-{filter}";

        /// <summary>The count shown on a filter tab.</summary>
        public static string ResultsTabCount(string filter) => $"#results-count-{filter}";
    }

    /// <summary>
    /// An init script that lets a test hide the tab: <c>document.visibilityState</c> then says
    /// "hidden" and <c>visibilitychange</c> fires, as when the user switches to another tab.
    /// </summary>
    public const string HideableScript = """
        (() => {
          let hidden = false;
          Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
          Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
          window.__setHidden = (value) => {
            if (hidden !== value) {
              hidden = value;
              document.dispatchEvent(new Event('visibilitychange'));
            }
          };
        })();
        """;

    public IPage Page => page;

    public ILocator FolderList => page.Locator(Selectors.FolderList);

    public ILocator TypedFolder => page.Locator(Selectors.FolderPath);

    public ILocator StartButton => page.Locator(Selectors.StartButton);

    public ILocator FormError => page.Locator(Selectors.FormError);

    public ILocator LivePanel => page.Locator(Selectors.LivePanel);

    public ILocator Badge => page.Locator(Selectors.Badge);

    public ILocator StatusText => page.Locator(Selectors.StatusText);

    public ILocator StallWarning => page.Locator(Selectors.StallWarning);

    public ILocator ProgressFiles => page.Locator(Selectors.ProgressFiles);

    public ILocator ErrorItems => page.Locator(Selectors.ErrorItem);

    public ILocator CancelButton => page.Locator(Selectors.CancelButton);

    public ILocator Summary => page.Locator(Selectors.Summary);

    public ILocator SummaryText => page.Locator(Selectors.SummaryText);

    public ILocator ReportLink => page.Locator(Selectors.ReportLink);

    public ILocator ResumeButton => page.Locator(Selectors.ResumeButton);

    public ILocator RecentSessions => page.Locator(Selectors.RecentSession);

    public ILocator CurrentFile => page.Locator(Selectors.CurrentFile);

    public ILocator ParentSession => page.Locator(Selectors.ParentSession);

    public ILocator CommitButton => page.Locator(Selectors.CommitButton);

    public ILocator ReviewBeforeCommit => page.Locator(Selectors.ReviewBeforeCommit);

    public ILocator ResultsPanel => page.Locator(Selectors.ResultsPanel);

    public ILocator ResultRows => page.Locator(Selectors.ResultsRow);

    public ILocator ResultsRange => page.Locator(Selectors.ResultsRange);

    public ILocator ResultsFirst => page.Locator(Selectors.ResultsFirst);

    public ILocator ResultsPrev => page.Locator(Selectors.ResultsPrev);

    public ILocator ResultsNext => page.Locator(Selectors.ResultsNext);

    public ILocator ResultsLast => page.Locator(Selectors.ResultsLast);

    public ILocator ResultsCsv => page.Locator(Selectors.ResultsCsv);

    public ILocator FailedItems => page.Locator(Selectors.FailedItem);

    public ILocator FailedCount => page.Locator(Selectors.FailedCount);

    public ILocator RetryFailedButton => page.Locator(Selectors.RetryFailedButton);

    public ILocator RetryError => page.Locator(Selectors.RetryError);

    public ILocator ResultsTab(string filter) => page.Locator(Selectors.ResultsTab(filter));

    public ILocator ResultsTabCount(string filter) => page.Locator(Selectors.ResultsTabCount(filter));

    public ILocator FolderRow(string path) => page.Locator($"{Selectors.FolderRow}[data-path=\"{path}\"]");

    /// <summary>Opens the page and waits until the folder browser has listed the media root.</summary>
    public async Task GotoAsync(float timeoutMs = 15_000, string path = "/")
    {
        await page.GotoAsync(path, new PageGotoOptions { Timeout = timeoutMs });
        await Expect(FolderList).ToHaveAttributeAsync("data-state", "loaded", new() { Timeout = timeoutMs });
    }

    public async Task SelectFolderAsync(string path) =>
        await FolderRow(path).Locator(Selectors.FolderCheck).CheckAsync();

    public async Task OpenFolderAsync(string path) =>
        await FolderRow(path).Locator(Selectors.FolderName).ClickAsync();

    /// <summary>Goes up one folder and waits until the parent is listed.</summary>
    public async Task FolderUpAsync(string parent)
    {
        await page.Locator(Selectors.FolderUp).ClickAsync();
        await Expect(FolderList).ToHaveAttributeAsync("data-path", parent);
    }

    public async Task AddTypedFolderAsync(string path)
    {
        await TypedFolder.FillAsync(path);
        await page.Locator(Selectors.AddFolder).ClickAsync();
    }

    public async Task RemoveSelectedAsync(string path) =>
        await page.Locator($"{Selectors.SelectedFolders} li[data-path=\"{path}\"] {Selectors.ChipRemove}").ClickAsync();

    public async Task SetPatternAsync(string pattern) => await page.Locator(Selectors.Pattern).FillAsync(pattern);

    /// <summary>Selects the folder, presses Start and returns the session the panel attaches to.</summary>
    public async Task<string> StartAsync(string folder)
    {
        await SelectFolderAsync(folder);
        await StartButton.ClickAsync();
        return await WaitForSessionAsync();
    }

    public async Task<string> WaitForSessionAsync(float timeoutMs = 10_000)
    {
        await Expect(LivePanel).Not.ToHaveAttributeAsync("data-session", "", new() { Timeout = timeoutMs });
        return (await LivePanel.GetAttributeAsync("data-session"))!;
    }

    /// <summary>Waits until the panel shows the session in a final state; the badge then reads that state.</summary>
    public async Task WaitForFinalAsync(string status, float timeoutMs = 60_000)
    {
        await Expect(LivePanel).ToHaveAttributeAsync("data-status", status, new() { Timeout = timeoutMs });
        await Expect(Badge).ToHaveTextAsync(status.ToUpperInvariant(), new() { Timeout = 5_000 });
    }

    /// <summary>Picks a filter tab and waits until the table has read every result of that filter (the run must be over).</summary>
    public async Task ChooseFilterAsync(string filter)
    {
        await ResultsTab(filter).ClickAsync();
        await Expect(ResultsTab(filter)).ToHaveAttributeAsync("aria-selected", "true");
        await Expect(ResultsPanel).ToHaveAttributeAsync("data-filter", filter);
        await WaitForResultsSettledAsync();
    }

    /// <summary>Waits until the run is over and the table has read all its results.</summary>
    public async Task WaitForResultsSettledAsync(float timeoutMs = 15_000) =>
        await Expect(ResultsPanel).ToHaveAttributeAsync("data-settled", "true", new() { Timeout = timeoutMs });

    /// <summary>Hides or shows the tab (the page must have been opened with <see cref="HideableScript"/>).</summary>
    public async Task SetHiddenAsync(bool hidden) =>
        await page.EvaluateAsync("(hidden) => window.__setHidden(hidden)", hidden);

    /// <summary>Waits until the results table has read <paramref name="total"/> results of its filter.</summary>
    public async Task WaitForResultsTotalAsync(int total, float timeoutMs = 10_000) =>
        await Expect(ResultsPanel).ToHaveAttributeAsync("data-total", total.ToString(System.Globalization.CultureInfo.InvariantCulture), new() { Timeout = timeoutMs });

    /// <summary>
    /// Opens a folder in the browser and returns the milliseconds from the click to the listing on
    /// screen, timed inside the page (no test-runner round trips in the number).
    /// </summary>
    public async Task<double> TimeFolderListingAsync(string path) =>
        await page.EvaluateAsync<double>("""
            (path) => new Promise((resolve, reject) => {
              const list = document.querySelector('#folder-list');
              const button = [...list.querySelectorAll('li.folder-row')].find((li) => li.dataset.path === path)?.querySelector('button.folder-name');
              if (!button) {
                reject(new Error(`no folder row ${path}`));
                return;
              }
              const started = performance.now();
              const done = () => list.dataset.path === path && list.dataset.state === 'loaded';
              const observer = new MutationObserver(() => {
                if (done()) {
                  observer.disconnect();
                  resolve(performance.now() - started);
                }
              });
              observer.observe(list, { attributes: true, childList: true, subtree: true });
              button.click();
            })
            """, path);

    /// <summary>The rows of the results table now in the DOM, top to bottom.</summary>
    public async Task<IReadOnlyList<ResultRow>> ReadResultRowsAsync()
    {
        var json = await page.EvaluateAsync<JsonElement>("""
            () => [...document.querySelectorAll('#results-body tr')].map((tr) => ({
              seq: Number(tr.dataset.seq),
              path: tr.dataset.path,
              state: tr.dataset.state,
              cells: [...tr.cells].map((td) => td.textContent),
            }))
            """);
        return [.. json.EnumerateArray().Select(r => new ResultRow(
            r.GetProperty("seq").GetInt64(),
            r.GetProperty("path").GetString()!,
            r.GetProperty("state").GetString()!,
            [.. r.GetProperty("cells").EnumerateArray().Select(c => c.GetString()!)]))];
    }

    public async Task<PanelState> ReadAsync()
    {
        var json = await page.EvaluateAsync<JsonElement>("""
            () => {
              const text = (id) => document.getElementById(id).textContent.trim();
              const number = (id) => Number(text(id).replace(/[^0-9]/g, ''));
              const panel = document.getElementById('live-panel');
              return {
                session: panel.dataset.session ?? '',
                seq: panel.dataset.seq === undefined ? null : Number(panel.dataset.seq),
                status: panel.dataset.status ?? null,
                badge: text('connection-badge'),
                percent: text('progress-percent'),
                progressValue: Number(document.getElementById('progress-bar').getAttribute('aria-valuenow')),
                files: text('progress-files'),
                metadata: number('stat-metadata'),
                keywords: number('stat-keywords'),
                scores: number('stat-scores'),
                committed: number('stat-committed'),
                errors: number('stat-errors'),
                errorFiles: [...document.querySelectorAll('#error-list li')].map((li) => li.dataset.file),
                statusText: text('status-text'),
              };
            }
            """);
        return new PanelState(
            json.GetProperty("session").GetString()!,
            json.GetProperty("seq").ValueKind == JsonValueKind.Null ? null : json.GetProperty("seq").GetInt64(),
            json.GetProperty("status").GetString(),
            json.GetProperty("badge").GetString()!,
            json.GetProperty("percent").GetString()!,
            json.GetProperty("progressValue").GetInt32(),
            json.GetProperty("files").GetString()!,
            json.GetProperty("metadata").GetInt32(),
            json.GetProperty("keywords").GetInt32(),
            json.GetProperty("scores").GetInt32(),
            json.GetProperty("committed").GetInt32(),
            json.GetProperty("errors").GetInt32(),
            [.. json.GetProperty("errorFiles").EnumerateArray().Select(e => e.GetString()!)],
            json.GetProperty("statusText").GetString()!);
    }
}
