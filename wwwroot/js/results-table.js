// The results table and the "Failed files" panel of the session on the ingest page. Only one page
// of rows (PAGE_SIZE) is ever in the DOM, whatever the number of results: new results are appended
// to the page on screen while it has room, and the page is rebuilt only when the reader turns it
// or picks another filter. Every text from a result goes in through textContent (el's `text`).
//
// The root carries data-session, data-filter, data-total (results read for this filter), data-page
// and data-settled ("true" once the run is over and every result has been read), for tests.

import { byId, el, setText } from './dom.js';
import * as format from './format.js';
import { isFinal } from './wire.js';

export const PAGE_SIZE = 100;

// The panel lists this many failures; the Failed tab and the CSV have them all.
const FAILED_SHOWN = 100;

const STATE_LABELS = Object.freeze({
    committed: 'Committed',
    committed_with_warnings: 'Warnings',
    skipped: 'Skipped',
    failed: 'Failed',
    staged: 'Staged',
    staged_with_warnings: 'Staged, warnings',
});

const EMPTY_TEXT = Object.freeze({
    all: 'No files',
    failed: 'No failed files',
    warnings: 'No files with warnings',
    skipped: 'No skipped files',
});

export class ResultsView {
    #root = byId('results-panel');
    #tabs = [...byId('results-tabs').querySelectorAll('[role="tab"]')];
    #view = byId('results-view');
    #body = byId('results-body');
    #empty = byId('results-empty');
    #range = byId('results-range');
    #first = byId('results-first');
    #prev = byId('results-prev');
    #next = byId('results-next');
    #last = byId('results-last');
    #csv = byId('results-csv');
    #failedList = byId('failed-list');
    #failedCount = byId('failed-count');
    #failedMore = byId('failed-more');
    #retry = byId('retry-failed-button');
    #retryError = byId('retry-error');

    #sessionId = null;
    #filter = 'all';
    #rows = [];
    #page = 0;
    #follow = false;
    #failures = 0;
    #failureSeqs = new Set();
    #final = false;
    #settled = false;
    #csvFor;

    /**
     * @param onFilter called with the filter name ('all', 'failed', 'warnings', 'skipped') when the reader picks a tab;
     * @param onRetry called with the session id when "Retry failed" is pressed;
     * @param csvFor builds the CSV link for (session id, filter name).
     */
    constructor({ onFilter, onRetry, csvFor }) {
        this.#csvFor = csvFor;
        for (const tab of this.#tabs) {
            tab.addEventListener('click', () => this.#choose(tab.dataset.filter, onFilter));
            tab.addEventListener('keydown', (event) => this.#onTabKey(event, onFilter));
        }
        this.#first.addEventListener('click', () => this.#turnTo(0, false));
        this.#prev.addEventListener('click', () => this.#turnTo(this.#page - 1, false));
        this.#next.addEventListener('click', () => this.#turnTo(this.#page + 1, false));
        // "Last" follows the tail: while the run goes on, the newest page stays on screen.
        this.#last.addEventListener('click', () => this.#turnTo(this.#lastPage(), true));
        this.#retry.addEventListener('click', () => this.#sessionId && onRetry(this.#sessionId));
    }

    get filter() {
        return this.#filter;
    }

    /** Switches to another session (or hides the section with null); the filter goes back to "all". */
    show(sessionId) {
        this.#sessionId = sessionId;
        this.#root.hidden = sessionId === null;
        this.#root.dataset.session = sessionId ?? '';
        this.#final = false;
        this.#failures = 0;
        this.#failureSeqs.clear();
        this.#failedList.replaceChildren();
        this.#failedMore.hidden = true;
        setText(this.#failedCount, '0');
        this.#retry.hidden = true;
        this.#retry.disabled = false;
        this.showRetryError('');
        for (const name of Object.keys(EMPTY_TEXT)) {
            setText(byId(`results-count-${name}`), '0');
        }
        this.#select('all');
        this.#clearRows();
    }

    /** Results of the current filter not shown before, in processing order. */
    addRows(items) {
        const before = this.#rows.length;
        for (const item of items) {
            this.#rows.push(item);
        }
        const start = this.#page * PAGE_SIZE;
        const end = start + PAGE_SIZE;
        if (this.#follow && this.#rows.length > end) {
            this.#page = this.#lastPage();
            this.#renderPage();
        } else if (before < end && this.#rows.length > start) {
            // Only the new rows that land on the page on screen are created; nothing is rebuilt.
            const from = Math.max(before, start);
            const to = Math.min(this.#rows.length, end);
            this.#body.append(...this.#rows.slice(from, to).map(resultRow));
        }
        this.#renderPager();
    }

    /** Failures of the session, whatever the filter; one already listed (same seq) is skipped. */
    addFailures(items) {
        for (const item of items) {
            if (this.#failureSeqs.has(item.seq)) {
                continue;
            }
            this.#failureSeqs.add(item.seq);
            this.#failures += 1;
            if (this.#failures <= FAILED_SHOWN) {
                this.#failedList.append(failedItem(item));
            }
        }
        setText(this.#failedCount, format.count(this.#failures));
        const hidden = this.#failures - FAILED_SHOWN;
        this.#failedMore.hidden = hidden <= 0;
        if (hidden > 0) {
            setText(this.#failedMore, `${format.plural(hidden, 'more failed file')}: see the Failed tab or the CSV.`);
        }
        this.#renderRetry();
    }

    /** Every result of the current filter has been read and the run is over. */
    settled() {
        this.#settled = true;
        this.#root.dataset.settled = 'true';
        this.#renderPager();
    }

    /** The session's snapshot: tab counts (its stats) and whether the run is over. */
    update(s) {
        if (s.session_id !== this.#sessionId) {
            return;
        }
        const st = s.stats ?? {};
        const counts = {
            all: (st.committed_files ?? 0) + (st.errors ?? 0) + (st.skipped_existing ?? 0),
            failed: st.errors ?? 0,
            warnings: st.warnings ?? 0,
            skipped: st.skipped_existing ?? 0,
        };
        for (const [name, value] of Object.entries(counts)) {
            setText(byId(`results-count-${name}`), format.count(value));
        }
        const final = isFinal(s.status);
        if (final !== this.#final) {
            this.#final = final;
            if (!final) {
                // A resumed run: more results will come.
                this.#settled = false;
                delete this.#root.dataset.settled;
            }
        }
        this.#root.dataset.status = s.status;
        this.#renderRetry();
        this.#renderPager();
    }

    showRetryError(text) {
        setText(this.#retryError, text);
        this.#retryError.hidden = !text;
    }

    setRetryBusy(busy) {
        this.#retry.disabled = busy;
        this.#retry.setAttribute('aria-busy', String(busy));
        setText(this.#retry, busy ? 'Starting…' : 'Retry failed');
    }

    #renderRetry() {
        // Offered once the run is over: retrying files the run may still be failing would race it.
        this.#retry.hidden = !(this.#final && this.#failures > 0);
    }

    #choose(filter, onFilter) {
        if (!filter || filter === this.#filter || this.#sessionId === null) {
            return;
        }
        this.#select(filter);
        this.#clearRows();
        onFilter(filter);
    }

    #onTabKey(event, onFilter) {
        const index = this.#tabs.indexOf(event.currentTarget);
        const target = {
            ArrowLeft: index - 1,
            ArrowRight: index + 1,
            Home: 0,
            End: this.#tabs.length - 1,
        }[event.key];
        if (target === undefined) {
            return;
        }
        event.preventDefault();
        const tab = this.#tabs[(target + this.#tabs.length) % this.#tabs.length];
        tab.focus();
        this.#choose(tab.dataset.filter, onFilter);
    }

    #select(filter) {
        this.#filter = filter;
        this.#root.dataset.filter = filter;
        for (const tab of this.#tabs) {
            const selected = tab.dataset.filter === filter;
            tab.setAttribute('aria-selected', String(selected));
            tab.tabIndex = selected ? 0 : -1;
            if (selected) {
                this.#view.setAttribute('aria-labelledby', tab.id);
            }
        }
        this.#csv.href = this.#sessionId ? this.#csvFor(this.#sessionId, filter) : '#';
    }

    #clearRows() {
        this.#rows = [];
        this.#page = 0;
        this.#follow = false;
        this.#settled = false;
        delete this.#root.dataset.settled;
        this.#body.replaceChildren();
        this.#renderPager();
    }

    #turnTo(page, follow) {
        this.#follow = follow;
        const target = Math.max(0, Math.min(page, this.#lastPage()));
        if (target !== this.#page) {
            this.#page = target;
            this.#renderPage();
        }
        this.#renderPager();
    }

    #lastPage() {
        return Math.max(0, Math.ceil(this.#rows.length / PAGE_SIZE) - 1);
    }

    #renderPage() {
        const start = this.#page * PAGE_SIZE;
        this.#body.replaceChildren(...this.#rows.slice(start, start + PAGE_SIZE).map(resultRow));
    }

    #renderPager() {
        const total = this.#rows.length;
        const start = this.#page * PAGE_SIZE;
        const end = Math.min(total, start + PAGE_SIZE);
        const more = this.#settled || this.#final ? '' : ' so far';
        setText(this.#range, total === 0 ? `0 rows${more}` : `rows ${format.count(start + 1)}–${format.count(end)} of ${format.count(total)}${more}`);
        this.#first.disabled = this.#page === 0;
        this.#prev.disabled = this.#page === 0;
        this.#next.disabled = this.#page >= this.#lastPage();
        this.#last.disabled = this.#page >= this.#lastPage();
        this.#last.setAttribute('aria-pressed', String(this.#follow));
        this.#empty.hidden = total > 0;
        if (total === 0) {
            setText(this.#empty, this.#settled ? `${EMPTY_TEXT[this.#filter]}.` : `${EMPTY_TEXT[this.#filter]} yet.`);
        }
        this.#root.dataset.total = String(total);
        this.#root.dataset.page = String(this.#page);
    }
}

function resultRow(item) {
    const state = String(item.state ?? '');
    return el('tr', { class: 'result-row', 'data-seq': item.seq, 'data-state': state, 'data-path': item.path },
        el('td', { class: 'result-file mono', title: item.path, text: item.path }),
        el('td', { class: 'result-state' },
            el('span', { class: 'state', 'data-state': state, title: state.replaceAll('_', ' '), text: STATE_LABELS[state] ?? state })),
        el('td', { class: 'result-stage', text: item.stage ?? '' }),
        el('td', { class: 'result-reason', title: item.reason || null, text: item.reason ?? '' }),
        el('td', { class: 'num', text: format.bytes(item.size) }),
        el('td', { class: 'num', text: format.milliseconds(item.duration_ms) }));
}

function failedItem(item) {
    return el('li', { class: 'failed-item', 'data-seq': item.seq, 'data-path': item.path },
        el('span', { class: 'failed-file mono', title: item.path, text: item.path }),
        el('span', { class: 'failed-reason', text: item.stage ? `${item.stage}: ${item.reason ?? ''}` : (item.reason ?? '') }));
}
