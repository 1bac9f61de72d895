// The live panel: renders one session's snapshots. Everything tests touch has a stable id; the
// root carries data-seq / data-updated-at / data-status of the last rendered snapshot, so a test
// (or a person in devtools) can see exactly what is on screen.

import { byId, el, setText } from './dom.js';
import * as format from './format.js';
import { Mode } from './progress-client.js';
import { awaitsCommit, isFinal } from './wire.js';

const STATS = [
    ['stat-metadata', 'metadata_extracted'],
    ['stat-keywords', 'keywords_added'],
    ['stat-scores', 'scores_imported'],
    ['stat-committed', 'committed_files'],
    ['stat-errors', 'errors'],
];

const IDLE_TEXT = 'No ingest running. Choose folders and press Start.';

export class LivePanel {
    #root = byId('live-panel');
    #badge = byId('connection-badge');
    #statusText = byId('status-text');
    #bar = byId('progress-bar');
    #fill = byId('progress-fill');
    #percent = byId('progress-percent');
    #files = byId('progress-files');
    #currentFile = byId('current-file');
    #currentStage = byId('current-stage');
    #speed = byId('files-per-second');
    #eta = byId('eta');
    #errorList = byId('error-list');
    #errorCount = byId('error-count');
    #errorsMore = byId('errors-more');
    #cancel = byId('cancel-button');
    #summary = byId('run-summary');
    #summaryText = byId('summary-text');
    #report = byId('report-link');
    #resume = byId('resume-button');
    #commit = byId('commit-button');
    #panelError = byId('panel-error');
    #stall = byId('stall-warning');
    #sessionLine = byId('session-line');
    #sessionCode = byId('session-id');
    #parentLine = byId('session-parent');
    #parentButton = byId('parent-session');

    #sessionId = null;
    #status = null;
    #seq = -1;
    #shownProgress = 0;
    #mode = Mode.CONNECTING;
    #errorKeys = new Set();

    constructor({ onCancel, onResume, onCommit, onOpenSession }) {
        this.#commit.addEventListener('click', () => this.#sessionId && onCommit(this.#sessionId));
        this.#cancel.addEventListener('click', () => this.#sessionId && onCancel(this.#sessionId));
        this.#parentButton.addEventListener('click', () => this.#parentButton.dataset.session && onOpenSession(this.#parentButton.dataset.session));
        this.#resume.addEventListener('click', () => this.#sessionId && onResume(this.#sessionId));
        this.#renderBadge();
    }

    get sessionId() {
        return this.#sessionId;
    }

    /** True while the shown session has not reached a final state (or has not reported yet). */
    get isRunning() {
        return this.#sessionId !== null && !isFinal(this.#status);
    }

    /** Switches the panel to another session (or to idle with null) and clears what was shown. */
    show(sessionId, started = null) {
        // First, so everything reset below is already attributed to the new session.
        this.#root.dataset.session = sessionId ?? '';
        this.#sessionId = sessionId;
        this.#status = null;
        this.#seq = -1;
        this.#shownProgress = 0;
        this.#errorKeys.clear();
        this.#errorList.replaceChildren();
        this.#errorsMore.hidden = true;
        this.#summary.hidden = true;
        this.#panelError.hidden = true;
        this.#stall.hidden = true;
        this.#cancel.hidden = sessionId === null;
        this.#cancel.disabled = false;
        this.#setProgress(0);
        setText(this.#files, `0 / ${format.count(started?.total_files ?? 0)} files`);
        for (const node of [this.#currentFile, this.#currentStage, this.#speed, this.#eta]) {
            setText(node, '—');
        }
        for (const [id] of STATS) {
            setText(byId(id), '0');
        }
        setText(this.#errorCount, '0');
        this.#sessionLine.hidden = sessionId === null;
        setText(this.#sessionCode, sessionId ?? '');
        this.#parentLine.hidden = true;
        setText(this.#parentButton, '');
        delete this.#parentButton.dataset.session;
        setText(this.#statusText, sessionId === null ? IDLE_TEXT : 'Starting…');
        this.#root.dataset.state = sessionId === null ? 'idle' : 'running';
        delete this.#root.dataset.status;
        delete this.#root.dataset.seq;
        delete this.#root.dataset.updatedAt;
        this.#renderBadge();
    }

    /** Renders a snapshot of the shown session if it is newer than what is on screen. */
    render(snapshot) {
        if (snapshot.session_id !== this.#sessionId || snapshot.seq <= this.#seq) {
            return false;
        }
        const resumed = isFinal(this.#status) && !isFinal(snapshot.status);
        if (resumed) {
            // A resume is a new run of the same session: the summary goes, the bar carries on.
            this.#summary.hidden = true;
            this.#shownProgress = 0;
        }
        this.#seq = snapshot.seq;
        this.#status = snapshot.status;

        this.#renderProgress(snapshot);
        this.#renderParent(snapshot);
        this.#renderFacts(snapshot);
        this.#renderStats(snapshot);
        this.#renderErrors(snapshot);
        this.#renderOutcome(snapshot);
        this.#renderBadge();

        // Written last, once the snapshot is fully on screen (tests time this attribute).
        this.#root.dataset.status = snapshot.status;
        this.#root.dataset.updatedAt = snapshot.updated_at;
        this.#root.dataset.seq = String(snapshot.seq);
        return true;
    }

    setMode(mode) {
        this.#mode = mode;
        this.#renderBadge();
    }

    /** A failed cancel or resume, shown inside the panel. */
    showError(text) {
        setText(this.#panelError, text);
        this.#panelError.hidden = !text;
    }

    setBusy(action, busy) {
        const button = { cancel: this.#cancel, resume: this.#resume, commit: this.#commit }[action];
        button.disabled = busy;
        button.setAttribute('aria-busy', String(busy));
    }

    #renderProgress(s) {
        // seq already orders snapshots; the max also guards against a server that ever recounted.
        this.#shownProgress = Math.max(this.#shownProgress, Math.min(100, Math.max(0, s.progress ?? 0)));
        this.#setProgress(this.#shownProgress);
        setText(this.#files, `${format.count(s.processed_files)} / ${format.count(s.total_files)} files`);
    }

    #setProgress(value) {
        this.#bar.setAttribute('aria-valuenow', String(value));
        this.#bar.setAttribute('aria-valuetext', `${value}%`);
        // CSSOM writes are allowed by a strict CSP (unlike style attributes in markup).
        this.#fill.style.transform = `scaleX(${value / 100})`;
        setText(this.#percent, `${value}%`);
    }

    // A retry-failed session names the session it retried; a click shows that one.
    #renderParent(s) {
        const parent = s.parent_session_id ?? '';
        this.#parentLine.hidden = !parent;
        setText(this.#parentButton, parent);
        if (parent) {
            this.#parentButton.dataset.session = parent;
        }
    }

    #renderFacts(s) {
        const running = !isFinal(s.status);
        // current_file is the name alone (as the replaced app's clients show it); current_path has the folders.
        setText(this.#currentFile, running && s.current_path ? s.current_path : '—');
        this.#currentFile.title = running && s.current_path ? s.current_path : '';
        setText(this.#currentStage, running ? stageText(s) : '—');
        setText(this.#speed, s.files_per_second > 0 || !running ? format.rate(s.files_per_second) : '—');
        setText(this.#eta, running ? format.duration(s.eta_seconds) : 'done');
    }

    #renderStats(s) {
        for (const [id, field] of STATS) {
            setText(byId(id), format.count(s.stats?.[field] ?? 0));
        }
        byId('stat-errors').closest('.stat')?.classList.toggle('stat-bad', (s.stats?.errors ?? 0) > 0);
    }

    // Appends errors not shown yet, oldest first; the list is never rebuilt, so it only grows.
    #renderErrors(s) {
        for (const error of s.error_details ?? []) {
            const key = `${error.at}\u0000${error.file}\u0000${error.stage}\u0000${error.message}`;
            if (this.#errorKeys.has(key)) {
                continue;
            }
            this.#errorKeys.add(key);
            this.#errorList.append(el('li', { class: 'error-item', 'data-file': error.file },
                el('span', { class: 'error-file mono', text: error.file }),
                el('span', { class: 'error-stage', text: error.stage }),
                el('span', { class: 'error-message', text: error.message })));
        }
        const total = s.stats?.errors ?? 0;
        setText(this.#errorCount, format.count(total));
        // The snapshot carries only the last 10 errors; the report has every one.
        const unseen = total - this.#errorKeys.size;
        this.#errorsMore.hidden = unseen <= 0;
        if (unseen > 0) {
            setText(this.#errorsMore, `${format.plural(unseen, 'earlier error')} not listed here; the report has them all.`);
        }
    }

    #renderOutcome(s) {
        const final = isFinal(s.status);
        this.#root.dataset.state = final ? 'final' : 'running';
        setText(this.#statusText, statusSentence(s));
        // The server's watchdog flags a run that has not moved for a while (a hung disk or file).
        this.#stall.hidden = final || !s.stalled;
        if (!final && s.stalled) {
            setText(this.#stall, `Stalled: ${s.message || 'no progress for a while'}. Cancel stops it; committed files stay.`);
        }
        this.#cancel.hidden = final;
        if (!final) {
            this.#cancel.disabled = false;
            this.#commit.hidden = true;
            return;
        }
        this.#summary.hidden = false;
        this.#summary.dataset.status = s.status;
        setText(this.#summaryText, summarySentence(s));
        this.#report.href = `/api/ingest/report/${encodeURIComponent(s.session_id)}`;
        this.#resume.hidden = !['cancelled', 'interrupted'].includes(s.status);
        this.#resume.disabled = false;
        this.#commit.hidden = !awaitsCommit(s);
        this.#commit.disabled = false;
    }

    #renderBadge() {
        const final = this.#sessionId !== null && isFinal(this.#status);
        const text = final ? this.#status.toUpperCase() : this.#mode;
        setText(this.#badge, text);
        this.#badge.dataset.mode = text;
        this.#badge.title = final
            ? 'This run is over.'
            : {
                LIVE: 'Updates arrive as they happen (Server-Sent Events).',
                POLLING: 'The live stream is unavailable; checking every second instead.',
                RECONNECTING: 'The live stream dropped; reconnecting without losing updates.',
                CONNECTING: 'Connecting to the live stream…',
                PAUSED: 'The server cannot reach its database: what is shown may be stale, and catches up once it is back.',
            }[this.#mode] ?? '';
    }
}

function stageText(s) {
    if (!s.current_stage) {
        return s.status === 'starting' ? 'waiting for a worker' : '—';
    }
    if (s.current_file_size > 0 && s.current_file_bytes !== null && s.current_file_bytes !== undefined) {
        return `${s.current_stage} ${Math.floor((s.current_file_bytes * 100) / s.current_file_size)}%`;
    }
    return s.current_stage;
}

function statusSentence(s) {
    const files = format.plural(s.total_files, 'file');
    switch (s.status) {
        case 'starting':
            return `Starting: ${files} to ingest.`;
        case 'processing':
            return `Ingesting ${files}…`;
        case 'completed':
            return s.commit_mode === 'deferred'
                ? `Ready to review: ${format.plural(s.processed_files, 'file')} processed, ${format.plural(s.stats?.errors ?? 0, 'error')}. Nothing is in the catalog until you commit.`
                : `Completed: ${format.count(s.stats?.committed_files)} committed, ${format.plural(s.stats?.errors ?? 0, 'error')}.`;
        case 'committing':
            return `Committing: ${s.commit_progress ?? 0}% (${format.count(s.stats?.committed_files)} in the catalog)…`;
        case 'committed':
            return `Committed: ${format.count(s.stats?.committed_files)} in the catalog, ${format.plural(s.stats?.errors ?? 0, 'error')}.`;
        case 'commit_error':
            return `Commit failed${s.commit_error ? `: ${s.commit_error}` : '.'}`;
        case 'cancelled':
            return `Cancelled after ${format.count(s.processed_files)} of ${files}.`;
        case 'interrupted':
            return `Interrupted${s.message ? `: ${s.message}` : '.'}`;
        case 'error':
            return `Failed${s.message ? `: ${s.message}` : '.'}`;
        default:
            return format.statusLabel(s.status);
    }
}

function summarySentence(s) {
    const st = s.stats ?? {};
    const parts = [
        `${format.statusLabel(s.status)} in ${format.elapsed(s.start_time, s.end_time)}:`,
        `${format.count(s.processed_files)} of ${format.plural(s.total_files, 'file')} processed,`,
        `${format.count(st.committed_files)} committed, ${format.plural(st.errors ?? 0, 'error')},`,
        `${format.count(st.skipped_existing)} skipped as already ingested.`,
        `${format.count(st.metadata_extracted)} with metadata, ${format.plural(st.keywords_added ?? 0, 'keyword')},`,
        `${format.plural(st.scores_imported ?? 0, 'score')} imported${st.warnings ? `, ${format.plural(st.warnings, 'warning')}` : ''}.`,
    ];
    if (s.status === 'cancelled') {
        parts.push('Committed files stay in the catalog; Resume finishes the rest.');
    } else if (s.status === 'interrupted') {
        parts.push(`${s.message ? `${s.message}. ` : ''}Resume finishes the rest.`);
    } else if (s.status === 'error' && s.message) {
        parts.push(s.message);
    } else if (awaitsCommit(s)) {
        parts.push(s.status === 'commit_error'
            ? `${s.commit_error ?? 'The commit failed'}. Commit writes the files still staged.`
            : 'The files are staged, not in the catalog: open the report, then Commit (or delete the session to discard them).');
    }
    return parts.join(' ');
}
