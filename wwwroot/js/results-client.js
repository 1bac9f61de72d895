// Reads one session's per-file results (GET /api/ingest/session/{id}/files) with the cursor, for
// as long as the run goes on. No DOM code here: results-table.js renders what this emits.
//
// Events (an EventTarget):
//   'rows'     detail: { items, total }: results not emitted before, in processing order;
//   'settled'  detail: { total }: the session is over and every result has been read;
//   'failure'  detail: { status, body }: the API refused (404 once a session is forgotten).
//
// The cursor guarantees no gap and no repeat; the seqs seen are kept anyway, so a retried request
// or a resumed run can never show a row twice. Reads are spaced (minGapMs, 1 s) however often the
// page pokes, except urgent pokes (a file failed), which wait only urgentGapMs.

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
            this.dispatchEvent(new CustomEvent('settled', { detail: { total: this.#items.length } }));
        }
    }

    // Follows has_more until the end; resolves to whether it reached the end without an error.
    async #drain() {
        for (;;) {
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
            if (added.length > 0) {
                this.dispatchEvent(new CustomEvent('rows', { detail: { items: added, total: this.#items.length } }));
            }
            if (!page.has_more) {
                return true;
            }
        }
    }

    async #fetchPage() {
        const query = new URLSearchParams({ cursor: this.#cursor, limit: String(this.#limit) });
        if (this.#state) {
            query.set('state', this.#state);
        }
        const url = `${this.#base}/api/ingest/session/${encodeURIComponent(this.#sessionId)}/files?${query}`;
        try {
            const response = await fetch(url, {
                headers: { Accept: 'application/json' },
                cache: 'no-store',
                signal: this.#abort.signal,
            });
            const body = await response.json().catch(() => null);
            if (!response.ok) {
                if (response.status === 404) {
                    // Forgotten (deleted): nothing more will ever come.
                    this.stop();
                }
                this.dispatchEvent(new CustomEvent('failure', { detail: { status: response.status, body } }));
                return null;
            }
            return body;
        } catch {
            // Aborted, or offline for a moment: the next round tries again.
            return null;
        }
    }
}

/** The results URL for a CSV download of one session, keeping the filter. */
export function csvUrl(sessionId, state = '', base = '') {
    const path = `${base}/api/ingest/session/${encodeURIComponent(sessionId)}/files.csv`;
    return state ? `${path}?state=${encodeURIComponent(state)}` : path;
}
