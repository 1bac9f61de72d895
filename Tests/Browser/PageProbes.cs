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
          const probe = { renders: [], bar: [], errors: [], badges: [], clicks: [] };
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

    /// <summary>Turns every Content-Security-Policy violation into a console error the test fails on.</summary>
    public const string CspWatcher = """
        document.addEventListener('securitypolicyviolation', (event) => {
          console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || 'inline'} at ${event.sourceFile}:${event.lineNumber}`);
        }, true);
        """;

    /// <summary>A browser without EventSource, as some embedded or locked-down browsers are.</summary>
    public const string NoEventSource = "delete window.EventSource;";
}
