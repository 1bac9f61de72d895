// The ingest page: wires the folder browser, the options form, the live panel, the per-file
// results and the recent sessions to one ProgressClient. Every snapshot reaches the screen through
// the client, which drops anything older than what was already shown. The shown session's results
// are read by a ResultsFeed for the table's filter, which also fills the "Failed files" panel; only
// while the table shows warnings or skipped files does the panel need a feed of its own.

import { byId, fetchJson, problemText, setText } from './dom.js';
import { FolderBrowser } from './folder-browser.js';
import { LivePanel } from './live-panel.js';
import { isFinal, Mode, ProgressClient } from './progress-client.js';
import { csvUrl, FILTERS, ResultsFeed } from './results-client.js';
import { ResultsView } from './results-table.js';
import { SessionList } from './session-list.js';

const SESSIONS_SHOWN = 15;
// Without the stream, sessions started elsewhere only show up by asking again now and then.
const SESSIONS_POLL_MS = 5000;

const client = new ProgressClient();
const folders = new FolderBrowser();
const panel = new LivePanel({ onCancel: cancelSession, onResume: resumeSession, onOpenSession: (id) => attach(id) });
const results = new ResultsView({
    onFilter: changeFilter,
    onRetry: retryFailed,
    csvFor: (sessionId, filter) => csvUrl(sessionId, FILTERS[filter]),
});
const sessions = new SessionList({ onSelect: (id) => attach(id), limit: SESSIONS_SHOWN });
const form = byId('ingest-form');
const startButton = byId('start-button');
const formError = byId('form-error');
let sessionsTimer = 0;
let tableFeed = null;
let failedFeed = null;
// What the last snapshot of the shown session said, so a change asks for the new results at once.
let seenProcessed = -1;
let seenErrors = -1;

client.addEventListener('snapshot', (event) => onSnapshot(event.detail));
client.addEventListener('mode', (event) => onMode(event.detail));
client.addEventListener('removed', (event) => onRemoved(event.detail));
form.addEventListener('submit', startIngest);

client.start();
folders.open('');
loadSessions();
attachActiveSession();

function onSnapshot(snapshot) {
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
        tableFeed?.setLive(true);
        failedFeed?.setLive(true);
    }
    // One read now: the stream may still be connecting, and polling waits a second.
    client.refresh(sessionId);
}

/** Points the results table and the failed-files panel at a session (or hides them with null). */
function showResults(sessionId) {
    tableFeed?.stop();
    failedFeed?.stop();
    tableFeed = null;
    failedFeed = null;
    seenProcessed = -1;
    seenErrors = -1;
    results.show(sessionId);
    if (sessionId !== null) {
        tableFeed = tableFeedFor(sessionId, results.filter);
    }
}

// With "all" or "failed" the table's own reads carry every failure: the panel needs no requests of
// its own (each tab of a profile shares 6 connections, so every saved request counts).
function tableCarriesFailures(filter) {
    return filter === 'all' || filter === 'failed';
}

function tableFeedFor(sessionId, filter) {
    const feed = new ResultsFeed({ sessionId, state: FILTERS[filter] });
    // A feed replaced by another filter may still answer once: only the current one reaches the table.
    feed.addEventListener('rows', (event) => {
        if (feed !== tableFeed) {
            return;
        }
        results.addRows(event.detail.items);
        if (tableCarriesFailures(filter)) {
            results.addFailures(event.detail.items.filter((item) => item.state === FILTERS.failed));
        }
    });
    feed.addEventListener('settled', () => {
        if (feed === tableFeed) {
            results.settled();
        }
    });
    return feed;
}

/** Another tab: the table starts again from cursor 0 with that state. */
function changeFilter(filter) {
    if (!panel.sessionId) {
        return;
    }
    const previous = tableFeed;
    previous?.stop();
    tableFeed = tableFeedFor(panel.sessionId, filter);
    if (tableCarriesFailures(filter)) {
        // The new table feed starts at 0 and brings every failure again; the panel drops repeats by seq.
        failedFeed?.stop();
        failedFeed = null;
    } else if (!failedFeed) {
        // Every failure up to the previous table feed's cursor is in the panel already.
        failedFeed = failedFeedFor(panel.sessionId, previous?.cursor ?? '0');
        failedFeed.setLive(panel.isRunning);
    }
    tableFeed.setLive(panel.isRunning);
}

function failedFeedFor(sessionId, cursor) {
    const feed = new ResultsFeed({ sessionId, state: FILTERS.failed, cursor });
    feed.addEventListener('rows', (event) => {
        if (feed === failedFeed) {
            results.addFailures(event.detail.items);
        }
    });
    return feed;
}

function updateResults(snapshot) {
    results.update(snapshot);
    const live = !isFinal(snapshot.status);
    tableFeed?.setLive(live);
    failedFeed?.setLive(live);
    // A file failed: read at once (a failure shows within a second). Its result is already written,
    // in the same transaction as the file's outcome.
    const errors = snapshot.stats?.errors ?? 0;
    const failed = errors !== seenErrors && seenErrors !== -1;
    seenErrors = errors;
    if (failed) {
        tableFeed?.poke({ urgent: true });
        failedFeed?.poke({ urgent: true });
    }
    // Any other file finished: read when the gap between reads allows.
    if (snapshot.processed_files !== seenProcessed) {
        seenProcessed = snapshot.processed_files;
        tableFeed?.poke();
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

async function attachActiveSession() {
    const result = await fetchJson('/api/ingest/active-session');
    if (result.ok && result.body?.session_id && !panel.isRunning) {
        client.offer(result.body.snapshot);
        attach(result.body.session_id);
    }
}
