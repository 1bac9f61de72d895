// The ingest page: wires the folder browser, the options form, the live panel, the per-file
// results and the recent sessions to one ProgressClient. Every snapshot reaches the screen through
// the client, which drops anything older than what was already shown. Every result of the shown
// session comes from one feed of SharedResults (read once for all tabs of the profile, see
// shared-results.js); it fills the table and the "Failed files" panel. A filter tab reads that
// state's backlog once and then picks its rows out of the same feed (FilteredResults).

import { byId, fetchJson, problemText, setText } from './dom.js';
import { FolderBrowser } from './folder-browser.js';
import { LivePanel } from './live-panel.js';
import { Mode, ProgressClient } from './progress-client.js';
import { csvUrl, FILTERS, FilteredResults } from './results-client.js';
import { ResultsView } from './results-table.js';
import { SessionList } from './session-list.js';
import { SharedResults } from './shared-results.js';
import { WatchList } from './watch-list.js';
import { awaitsCommit, isFinal } from './wire.js';

const SESSIONS_SHOWN = 15;
// Without the stream, sessions started elsewhere only show up by asking again now and then.
const SESSIONS_POLL_MS = 5000;

const client = new ProgressClient();
const shared = new SharedResults();
const folders = new FolderBrowser();
const panel = new LivePanel({ onCancel: cancelSession, onResume: resumeSession, onCommit: commitSession, onOpenSession: (id) => attach(id) });
const results = new ResultsView({
    onFilter: changeFilter,
    onRetry: retryFailed,
    csvFor: (sessionId, filter) => csvUrl(sessionId, FILTERS[filter]),
});
const sessions = new SessionList({ onSelect: (id) => attach(id), limit: SESSIONS_SHOWN });
const watches = new WatchList({ onOpen: (id) => attach(id) });
const form = byId('ingest-form');
const startButton = byId('start-button');
const formError = byId('form-error');
let sessionsTimer = 0;
// Every result of the shown session; the filtered view of it while the table shows one state.
let feed = null;
let filtered = null;
// What the last snapshot of the shown session said, so a change asks for the new results at once.
let seenProcessed = -1;
let seenErrors = -1;

client.addEventListener('snapshot', (event) => onSnapshot(event.detail));
client.addEventListener('mode', (event) => onMode(event.detail));
client.addEventListener('removed', (event) => onRemoved(event.detail));
form.addEventListener('submit', startIngest);

shared.start();
client.start();
folders.open('');
loadSessions();
attachRequestedSession();
watches.load();

function onSnapshot(snapshot) {
    shared.observe(snapshot.session_id, !isFinal(snapshot.status));
    sessions.upsert(snapshot);
    if (snapshot.session_id === panel.sessionId) {
        const wasRunning = panel.isRunning;
        panel.render(snapshot);
        updateResults(snapshot);
        if (wasRunning && isFinal(snapshot.status)) {
            // The run changed what is ingested: refresh the folder counts once.
            folders.reload();
        }
        return;
    }
    // A run started in another tab (or by the API) takes over an idle or finished panel.
    if (!isFinal(snapshot.status) && !panel.isRunning) {
        attach(snapshot.session_id);
    }
}

function onMode(mode) {
    panel.setMode(mode);
    clearInterval(sessionsTimer);
    if (mode === Mode.POLLING) {
        sessionsTimer = setInterval(loadSessions, SESSIONS_POLL_MS);
    }
}

function onRemoved(sessionId) {
    sessions.remove(sessionId);
    if (panel.sessionId === sessionId) {
        client.unfollow(sessionId);
        panel.show(null);
        showResults(null);
    }
}

/** Shows a session in the live panel and keeps it fresh whatever the connection does. */
function attach(sessionId, started = null) {
    if (panel.sessionId !== sessionId) {
        if (panel.sessionId) {
            client.unfollow(panel.sessionId);
        }
        panel.show(sessionId, started);
        showResults(sessionId);
        sessions.markCurrent(sessionId);
    }
    client.follow(sessionId);
    const known = client.latest(sessionId);
    if (known) {
        panel.render(known);
        updateResults(known);
    } else {
        // No snapshot yet: read the results as for a running session until one says otherwise.
        feed?.setLive(true);
    }
    // One read now: the stream may still be connecting, and polling waits a second.
    client.refresh(sessionId);
}

/** Points the results table and the failed-files panel at a session (or hides them with null). */
function showResults(sessionId) {
    feed?.stop();
    filtered?.stop();
    feed = null;
    filtered = null;
    seenProcessed = -1;
    seenErrors = -1;
    results.show(sessionId);
    if (sessionId !== null) {
        feed = feedFor(sessionId);
    }
}

function feedFor(sessionId) {
    const all = shared.feed(sessionId);
    // A feed replaced by another session may still answer once: only the current one reaches the table.
    all.addEventListener('rows', (event) => {
        if (all !== feed) {
            return;
        }
        results.addFailures(event.detail.items.filter((item) => item.state === FILTERS.failed));
        if (!filtered) {
            results.addRows(event.detail.items);
        }
    });
    all.addEventListener('settled', () => {
        if (all === feed && !filtered) {
            results.settled();
        }
    });
    return all;
}

/** Another tab: "all" shows what the feed holds; a state reads its backlog once, then follows the feed. */
function changeFilter(filter) {
    if (!feed) {
        return;
    }
    filtered?.stop();
    filtered = null;
    if (filter === 'all') {
        results.addRows(feed.items);
        if (feed.settled) {
            results.settled();
        }
        return;
    }
    const view = new FilteredResults({ source: feed, state: FILTERS[filter] });
    view.addEventListener('rows', (event) => {
        if (view === filtered) {
            results.addRows(event.detail.items);
        }
    });
    view.addEventListener('settled', () => {
        if (view === filtered) {
            results.settled();
        }
    });
    filtered = view;
    view.start();
}

function updateResults(snapshot) {
    results.update(snapshot);
    feed?.setLive(!isFinal(snapshot.status));
    // A file failed: read at once (a failure shows within a second). Its result is already written,
    // in the same transaction as the file's outcome.
    const errors = snapshot.stats?.errors ?? 0;
    const failed = errors !== seenErrors && seenErrors !== -1;
    seenErrors = errors;
    if (failed) {
        feed?.poke({ urgent: true });
    }
    // Any other file finished: read when the gap between reads allows.
    if (snapshot.processed_files !== seenProcessed) {
        seenProcessed = snapshot.processed_files;
        feed?.poke();
    }
}

async function retryFailed(sessionId) {
    results.setRetryBusy(true);
    results.showRetryError('');
    const result = await fetchJson(`/api/ingest/session/${encodeURIComponent(sessionId)}/retry-failed`, { method: 'POST' });
    results.setRetryBusy(false);
    if (!result.ok) {
        results.showRetryError(problemText(result));
        return;
    }
    // The new session is linked to this one; the panel follows it and names its parent.
    attach(result.body.session_id, result.body);
    revealPanel();
}

async function startIngest(event) {
    event.preventDefault();
    if (startButton.disabled) {
        return;
    }
    showFormError('');
    setStarting(true);
    const result = await fetchJson('/api/ingest/process', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ parameters: readParameters() }),
    });
    setStarting(false);
    if (!result.ok) {
        showFormError(problemText(result));
        return;
    }
    attach(result.body.session_id, result.body);
    revealPanel();
}

// On a narrow screen the panel sits below the form: bring it into view, but only when it is out of view.
function revealPanel() {
    const panel = byId('live-panel');
    const top = panel.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight - 120) {
        panel.scrollIntoView({ block: 'start', behavior: 'smooth' });
    }
}

function readParameters() {
    const parameters = {};
    const selected = folders.selected();
    if (selected.length === 1) {
        parameters.directory = selected[0];
    } else if (selected.length > 1) {
        parameters.directories = selected;
    }
    const pattern = byId('pattern').value.trim();
    if (pattern) {
        parameters.pattern = pattern;
    }
    parameters.recursive = byId('recursive').checked;
    parameters.extract_metadata = byId('extract-metadata').checked;
    parameters.extract_keywords = byId('extract-keywords').checked;
    parameters.import_scores = byId('import-scores').checked;
    parameters.skip_existing = byId('skip-existing').checked;
    parameters.commit_mode = byId('review-before-commit').checked ? 'deferred' : 'per_file';
    const maxFiles = byId('max-files').value.trim();
    if (maxFiles) {
        // Sent as typed (even 0 or 2.5): the API's message explains what is wrong with it.
        parameters.max_files = Number(maxFiles);
    }
    return parameters;
}

function setStarting(busy) {
    startButton.disabled = busy;
    startButton.setAttribute('aria-busy', String(busy));
    setText(startButton, busy ? 'Starting…' : 'Start ingest');
}

function showFormError(text) {
    setText(formError, text);
    formError.hidden = !text;
}

async function cancelSession(sessionId) {
    panel.setBusy('cancel', true);
    const result = await fetchJson(`/api/ingest/cancel/${encodeURIComponent(sessionId)}`, { method: 'POST' });
    if (!result.ok) {
        panel.setBusy('cancel', false);
        panel.showError(problemText(result));
        return;
    }
    // The answer is the snapshot at the moment of the request; the final "cancelled" follows.
    client.offer(result.body);
}

async function resumeSession(sessionId) {
    panel.setBusy('resume', true);
    panel.showError('');
    const result = await fetchJson(`/api/ingest/resume/${encodeURIComponent(sessionId)}`, { method: 'POST' });
    panel.setBusy('resume', false);
    if (!result.ok) {
        panel.showError(problemText(result));
        return;
    }
    client.follow(sessionId);
    client.offer(result.body);
}

// A deferred session's staged files go to the catalog; the commit's progress arrives on the stream.
async function commitSession(sessionId) {
    panel.setBusy('commit', true);
    panel.showError('');
    const result = await fetchJson('/api/ingest/commit', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ session_id: sessionId }),
    });
    panel.setBusy('commit', false);
    if (!result.ok) {
        panel.showError(problemText(result));
        return;
    }
    client.follow(sessionId);
    await client.refresh(sessionId);
}

async function loadSessions() {
    const result = await fetchJson(`/api/ingest/sessions?limit=${SESSIONS_SHOWN}`);
    if (!result.ok || !Array.isArray(result.body)) {
        return;
    }
    for (const snapshot of result.body) {
        // Already delivered (by the stream) or newer: offer() says no, the row exists anyway.
        client.offer(snapshot);
    }
    sessions.loaded();
}

// A link to one session (/?session=<id>, as the Hangfire dashboard makes) shows that one; else the active one.
async function attachRequestedSession() {
    const requested = new URLSearchParams(window.location.search).get('session');
    if (requested && /^[0-9a-f]{32}$/.test(requested)) {
        const snapshot = await client.refresh(requested);
        if (snapshot) {
            attach(requested);
            return;
        }
    }
    await attachActiveSession();
}

async function attachActiveSession() {
    const result = await fetchJson('/api/ingest/active-session');
    // The newest session is shown if it runs, or waits for its commit; a finished one stays in the list below.
    const snapshot = result.body?.snapshot;
    if (result.ok && snapshot && (!isFinal(snapshot.status) || awaitsCommit(snapshot)) && !panel.isRunning) {
        client.offer(result.body.snapshot);
        attach(result.body.session_id);
    }
}
