// Reads one session's per-file results (GET /api/ingest/session/{id}/files) with the cursor, for
// as long as the run goes on. No DOM code here: results-table.js renders what this emits.
//
// Events (an EventTarget):
//   'rows'     detail: { items, total }: results not emitted before, in processing order;
//   'settled'  detail: { total }: the session is over and every result has been read;
//   'failure'  detail: { status, body }: the API refused (404 once a session is forgotten);
//   'page'     detail: { after, next, items, hasMore }: every page as read, for a relay to other tabs
//              (items are every result with after < seq <= next, of this feed's state).
//
// The cursor guarantees no gap and no repeat; the seqs seen are kept anyway, so a retried request
// or a resumed run can never show a row twice. Reads are spaced (minGapMs, 1 s) however often the
// page pokes, except urgent pokes (a file failed), which wait only urgentGapMs. A paused feed (its
// tab is hidden) reads nothing until it is resumed.

export const FILTERS = Object.freeze({
    all: '',
    failed: 'failed',
    warnings: 'committed_with_warnings',
    skipped: 'skipped',
});

export class ResultsFeed extends EventTarget {
    #base;
    #sessionId;
    #state;
    #limit;
    #pollMs;
    #minGapMs;
    #urgentGapMs;
    #cursor;
    #seqs = new Set();
    #items = [];
    #live = false;
    #begun = false;
    #stopped = false;
    #paused = false;
    #settled = false;
    #inFlight = false;
    #again = false;
    #againUrgent = false;
    #lastStart = 0;
    #timer = 0;
    #dueAt = 0;
    #abort = new AbortController();

    /**
     * @param sessionId the session to read;
     * @param state '' for every result, else one state (see FILTERS);
     * @param pollMs how often to ask while the run goes on and nothing poked;
     * @param minGapMs the least time between two reads, however often it is poked: every tab of a
     *        browser profile shares 6 connections per host, so each must ask sparingly;
     * @param urgentGapMs the same for an urgent poke (a file just failed: show it within a second);
     * @param cursor where to start: 0, or a cursor another feed of this session has read up to.
     */
    constructor({ sessionId, state = '', base = '', limit = 500, pollMs = 1000, minGapMs = 1000, urgentGapMs = 150, cursor = '0' }) {
        super();
        this.#sessionId = sessionId;
        this.#state = state;
        this.#base = base;
        this.#limit = limit;
        this.#pollMs = pollMs;
        this.#minGapMs = minGapMs;
        this.#urgentGapMs = urgentGapMs;
        this.#cursor = String(cursor);
    }

    get sessionId() {
        return this.#sessionId;
    }

    get state() {
        return this.#state;
    }

    /** The cursor read up to: every result at or before it (of this feed's state) has been emitted. */
    get cursor() {
        return this.#cursor;
    }

    /** Every result read so far, in processing order. Do not modify. */
    get items() {
        return this.#items;
    }

    /** Whether 'settled' was the last word: the run is over and every result has been read. */
    get settled() {
        return this.#settled;
    }

    /**
     * Whether the session still runs: while it does, the feed polls; when it stops, one last read
     * picks up the final results (they are written before the final state is published).
     */
    setLive(live) {
        if (this.#stopped) {
            return;
        }
        const changed = !this.#begun || live !== this.#live;
        this.#begun = true;
        this.#live = live;
        if (changed) {
            this.#settled = false;
            this.poke();
        }
    }

    /** A paused feed asks nothing (a hidden tab must not poll); resuming catches up at once. */
    setPaused(paused) {
        if (this.#paused === paused || this.#stopped) {
            return;
        }
        this.#paused = paused;
        if (paused) {
            clearTimeout(this.#timer);
            this.#timer = 0;
        } else if (this.#begun && !this.#settled) {
            this.poke();
        }
    }

    /**
     * Something new has probably been written: reads as soon as the gap since the last read allows
     * (or once the request in flight has answered). Urgent pokes use the short gap.
     */
    poke({ urgent = false } = {}) {
        if (this.#stopped) {
            return;
        }
        if (this.#inFlight) {
            this.#again = true;
            this.#againUrgent ||= urgent;
            return;
        }
        this.#readAt(this.#lastStart + (urgent ? this.#urgentGapMs : this.#minGapMs));
    }

    stop() {
        this.#stopped = true;
        clearTimeout(this.#timer);
        this.#abort.abort();
    }

    // Reads at `due` (a Date.now() time), unless a read is already planned sooner.
    #readAt(due) {
        if (this.#paused) {
            return;
        }
        const wait = due - Date.now();
        if (wait <= 0) {
            this.#read();
            return;
        }
        if (this.#timer && this.#dueAt <= due) {
            return;
        }
        clearTimeout(this.#timer);
        this.#dueAt = due;
        this.#timer = setTimeout(() => this.#read(), wait);
    }

    async #read() {
        clearTimeout(this.#timer);
        this.#timer = 0;
        if (this.#stopped) {
            return;
        }
        this.#inFlight = true;
        this.#lastStart = Date.now();
        let complete = false;
        try {
            complete = await this.#drain();
        } finally {
            this.#inFlight = false;
        }
        if (this.#stopped) {
            return;
        }
        if (this.#again) {
            const urgent = this.#againUrgent;
            this.#again = false;
            this.#againUrgent = false;
            this.poke({ urgent });
        } else if (this.#live || !complete) {
            // Still running, or the last read failed: ask again in a moment.
            this.#readAt(Date.now() + this.#pollMs);
        } else {
            this.#settled = true;
            this.dispatchEvent(new CustomEvent('settled', { detail: { total: this.#items.length } }));
        }
    }

    // Follows has_more until the end; resolves to whether it reached the end without an error.
    async #drain() {
        for (;;) {
            const after = this.#cursor;
            const page = await this.#fetchPage();
            if (!page || this.#stopped) {
                return false;
            }
            const added = [];
            for (const item of page.items ?? []) {
                if (!this.#seqs.has(item.seq)) {
                    this.#seqs.add(item.seq);
                    this.#items.push(item);
                    added.push(item);
                }
            }
            if (typeof page.next_cursor === 'string') {
                this.#cursor = page.next_cursor;
            }
            this.dispatchEvent(new CustomEvent('page', {
                detail: { after, next: this.#cursor, items: page.items ?? [], hasMore: Boolean(page.has_more) },
            }));
            if (added.length > 0) {
                this.dispatchEvent(new CustomEvent('rows', { detail: { items: added, total: this.#items.length } }));
            }
            if (!page.has_more) {
                return true;
            }
        }
    }

    async #fetchPage() {
        const result = await fetchResultsPage({
            base: this.#base,
            sessionId: this.#sessionId,
            state: this.#state,
            cursor: this.#cursor,
            limit: this.#limit,
            signal: this.#abort.signal,
        });
        if (result && !result.ok) {
            if (result.status === 404) {
                // Forgotten (deleted): nothing more will ever come.
                this.stop();
            }
            this.dispatchEvent(new CustomEvent('failure', { detail: { status: result.status, body: result.body } }));
            return null;
        }
        return result?.body ?? null;
    }
}

/**
 * One state's results (a filter of the table), derived from a feed of every result of the session
 * (`source`: a ResultsFeed or a relayed one). It reads that state's backlog once, from cursor 0, and
 * from then on only picks that state's rows out of what the source emits: a filtered view never
 * polls. No gap: whatever the source has not emitted yet it will, and what it emitted before the
 * backlog read was written before it, so the backlog has it. Repeats are dropped by seq; the backlog
 * holds everything older than what the source emits next, so the order stays the processing order.
 * Emits 'rows', 'settled' and 'failure' as a ResultsFeed does.
 */
export class FilteredResults extends EventTarget {
    #source;
    #state;
    #base;
    #limit;
    #retryMs;
    #seqs = new Set();
    #items = [];
    #buffer = [];
    #loaded = false;
    #stopped = false;
    #timer = 0;
    #abort = new AbortController();
    #onRows = (event) => this.#sourceRows(event.detail.items);
    #onSettled = () => this.#maybeSettled();

    constructor({ source, state, base = '', limit = 500, retryMs = 1000 }) {
        super();
        this.#source = source;
        this.#state = state;
        this.#base = base;
        this.#limit = limit;
        this.#retryMs = retryMs;
    }

    get state() {
        return this.#state;
    }

    get items() {
        return this.#items;
    }

    start() {
        this.#source.addEventListener('rows', this.#onRows);
        this.#source.addEventListener('settled', this.#onSettled);
        this.#load();
    }

    stop() {
        this.#stopped = true;
        clearTimeout(this.#timer);
        this.#abort.abort();
        this.#source.removeEventListener('rows', this.#onRows);
        this.#source.removeEventListener('settled', this.#onSettled);
    }

    async #load() {
        const backlog = [];
        let cursor = '0';
        for (;;) {
            const result = await fetchResultsPage({
                base: this.#base,
                sessionId: this.#source.sessionId,
                state: this.#state,
                cursor,
                limit: this.#limit,
                signal: this.#abort.signal,
            });
            if (this.#stopped) {
                return;
            }
            if (!result) {
                // Offline for a moment: read the backlog again (the source keeps buffering meanwhile).
                this.#timer = setTimeout(() => this.#load(), this.#retryMs);
                return;
            }
            if (!result.ok) {
                this.dispatchEvent(new CustomEvent('failure', { detail: { status: result.status, body: result.body } }));
                return;
            }
            backlog.push(...(result.body.items ?? []));
            cursor = String(result.body.next_cursor ?? cursor);
            if (!result.body.has_more) {
                break;
            }
        }
        this.#loaded = true;
        this.#add([...backlog, ...this.#buffer.splice(0)].sort((x, y) => x.seq - y.seq));
        this.#maybeSettled();
    }

    #sourceRows(items) {
        const mine = items.filter((item) => item.state === this.#state);
        if (!this.#loaded) {
            this.#buffer.push(...mine);
            return;
        }
        this.#add(mine);
    }

    #add(items) {
        const added = [];
        for (const item of items) {
            if (item.state === this.#state && !this.#seqs.has(item.seq)) {
                this.#seqs.add(item.seq);
                this.#items.push(item);
                added.push(item);
            }
        }
        if (added.length > 0) {
            this.dispatchEvent(new CustomEvent('rows', { detail: { items: added, total: this.#items.length } }));
        }
    }

    // Settled once the backlog is in and the source has read everything of a finished run.
    #maybeSettled() {
        if (this.#loaded && !this.#stopped && this.#source.settled) {
            this.dispatchEvent(new CustomEvent('settled', { detail: { total: this.#items.length } }));
        }
    }
}

/**
 * Reads one page of a session's results. Resolves to { ok: true, body } (body: { items, next_cursor,
 * has_more }), { ok: false, status, body } when the API refused, or null when aborted or offline.
 */
export async function fetchResultsPage({ base = '', sessionId, state = '', cursor = '0', limit = 500, signal }) {
    const query = new URLSearchParams({ cursor: String(cursor), limit: String(limit) });
    if (state) {
        query.set('state', state);
    }
    const url = `${base}/api/ingest/session/${encodeURIComponent(sessionId)}/files?${query}`;
    try {
        const response = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store', signal });
        const body = await response.json().catch(() => null);
        return response.ok ? { ok: true, body } : { ok: false, status: response.status, body };
    } catch {
        return null;
    }
}

/** The results URL for a CSV download of one session, keeping the filter. */
export function csvUrl(sessionId, state = '', base = '') {
    const path = `${base}/api/ingest/session/${encodeURIComponent(sessionId)}/files.csv`;
    return state ? `${path}?state=${encodeURIComponent(state)}` : path;
}
