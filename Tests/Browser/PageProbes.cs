namespace IngestLite.Tests.Integration.Browser;

/// <summary>
/// Init scripts that record, inside the page, what the screen showed and when. They run before the
/// page's own scripts, observe the DOM only (never the app's code), and keep their records on
/// <c>window.__probe</c>. Times are <c>performance.timeOrigin + performance.now()</c>: wall-clock
/// milliseconds with sub-millisecond resolution, comparable with the server's <c>updated_at</c>
/// because both run on this machine.
/// </summary>
public static class PageProbes
{
    /// <summary>
    /// Records every rendered seq (with its <c>updated_at</c> and status), every progress-bar value,
    /// every error-list addition with the status on screen at that moment, every badge text, and the
    /// time of each click on Start.
    /// </summary>
    public const string Recorder = """
        (() => {
          const now = () => performance.timeOrigin + performance.now();
          const probe = { renders: [], files: [], bar: [], errors: [], badges: [], clicks: [] };
          window.__probe = probe;
          const panel = () => document.getElementById('live-panel');

          document.addEventListener('click', (event) => {
            if (event.target instanceof Element && event.target.closest('#start-button')) {
              probe.clicks.push(now());
            }
          }, true);

          new MutationObserver((mutations) => {
            const at = now();
            for (const m of mutations) {
              const target = m.target;
              if (m.type === 'attributes' && m.attributeName === 'data-seq' && target.id === 'live-panel' && target.dataset.seq) {
                probe.renders.push({ at, session: target.dataset.session, seq: Number(target.dataset.seq),
                  updatedAt: Date.parse(target.dataset.updatedAt), status: target.dataset.status });
              } else if (target.id === 'progress-files' || target.parentNode?.id === 'progress-files') {
                // The "X / Y files" text: the moment a count reached the screen, and the snapshot it came from.
                const files = document.getElementById('progress-files').textContent;
                const updatedAt = Date.parse(panel()?.dataset.updatedAt ?? '');
                if (probe.files.at(-1)?.text !== files && Number.isFinite(updatedAt)) {
                  probe.files.push({ at, session: panel()?.dataset.session ?? '', text: files, updatedAt });
                }
              } else if (m.type === 'attributes' && m.attributeName === 'aria-valuenow' && target.id === 'progress-bar') {
                probe.bar.push({ at, session: panel()?.dataset.session ?? '', value: Number(target.getAttribute('aria-valuenow')) });
              } else if (m.type === 'childList' && target.id === 'error-list') {
                for (const node of m.addedNodes) {
                  if (node.nodeType === 1) {
                    probe.errors.push({ at, file: node.dataset.file, status: panel()?.dataset.status ?? '' });
                  }
                }
              } else if (target.id === 'connection-badge' || target.parentNode?.id === 'connection-badge') {
                const badge = document.getElementById('connection-badge');
                probe.badges.push({ at, text: badge.textContent, status: panel()?.dataset.status ?? '' });
              }
            }
          }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true,
                                 attributeFilter: ['data-seq', 'aria-valuenow'] });
        })();
        """;

    /// <summary>
    /// Records on <c>window.__results</c> every row added to the results table and every item added to
    /// the failed-files panel (with the time and the status on screen then), how many rows were ever
    /// removed, the most rows the table held at once, and every text the current-file field showed.
    /// </summary>
    public const string ResultsRecorder = """
        (() => {
          const now = () => performance.timeOrigin + performance.now();
          const probe = { rows: [], failed: [], removed: 0, maxRows: 0, currentFiles: [] };
          window.__results = probe;
          const status = () => document.getElementById('live-panel')?.dataset.status ?? '';
          const session = () => document.getElementById('live-panel')?.dataset.session ?? '';
          const elements = (nodes) => [...nodes].filter((node) => node.nodeType === 1);

          new MutationObserver((mutations) => {
            const at = now();
            for (const m of mutations) {
              const target = m.target;
              if (target.id === 'results-body') {
                for (const node of elements(m.addedNodes)) {
                  probe.rows.push({ at, session: session(), seq: Number(node.dataset.seq), path: node.dataset.path,
                    state: node.dataset.state, status: status() });
                }
                probe.removed += elements(m.removedNodes).length;
                probe.maxRows = Math.max(probe.maxRows, target.childElementCount);
              } else if (target.id === 'failed-list') {
                for (const node of elements(m.addedNodes)) {
                  probe.failed.push({ at, session: session(), seq: Number(node.dataset.seq), path: node.dataset.path,
                    state: 'failed', status: status() });
                }
              } else if (target.id === 'current-file') {
                probe.currentFiles.push(target.textContent);
              }
            }
          }).observe(document, { subtree: true, childList: true });
        })();
        """;

    /// <summary>Turns every Content-Security-Policy violation into a console error the test fails on.</summary>
    public const string CspWatcher = """
        document.addEventListener('securitypolicyviolation', (event) => {
          console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || 'inline'} at ${event.sourceFile}:${event.lineNumber}`);
        }, true);
        """;

    /// <summary>A browser without EventSource, as some embedded or locked-down browsers are.</summary>
    public const string NoEventSource = "delete window.EventSource;";
}
