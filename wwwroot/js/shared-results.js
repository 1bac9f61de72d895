// Per-file results (GET /api/ingest/session/{id}/files) read once per browser profile, not once per
// tab. No DOM code here (it only asks whether the page is hidden); results-table.js renders.
//
// Why: over HTTP/1.1 every tab of a profile shares 6 connections per host. With each tab polling its
// own results, 8 tabs sent ~8 requests a second during a run, and a folder listing queued behind
// them for 1–2 s. Now one visible tab, the reader (it holds the Web Lock "ingestlite-results"),
// polls each session that some visible tab shows while it runs, and relays every page it reads over
// the BroadcastChannel of the same name. A tab asks nothing while it is hidden: it gives up the lock
// (or its place in the queue for it) and only listens; the relay keeps its table current.
//
// A tab reads by itself only once per need, never repeatedly: the backlog when it opens a session,
// and a catch-up when a relayed page does not join its cursor (it joined late, it was hidden while
// nobody read, or the reader changed). Pages carry the cursor they start after and the one they end
// at, so a tab takes only what joins its own cursor, and never a row twice (seqs are kept). After a
// catch-up the tab tells the reader its cursor (a "want"); a new reader (the last one closed or was
// hidden) asks every tab for its wants and carries on from the furthest cursor reached.
//
// Messages: page {session, after, next, items} and settled {session, cursor} from the reader;
// want {tab, session, cursor, live}, gone {tab}, poke {session} to it; who {} from a new reader.
// Without BroadcastChannel or Web Locks every tab reads for itself with a ResultsFeed (paused while
// the tab is hidden), as before.

import { fetchResultsPage, ResultsFeed } from './results-client.js';

const SHARE_NAME = 'ingestlite-results';

export class SharedResults {
    #base;
    #limit;
    #tab = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    #channel = null;
    #feeds = new Set();
    #visible = true;
    #lockRequest = null;
    #releaseLock = null;
    // Reader side (this tab holds the lock): per session, the feed that polls and who wants it.
    #reading = new Map();
    // Reader side: sessions whose reads settled, and the cursor they ended at.
    #finished = new Map();
    // Every session's state as this tab's stream last said (true while it runs).
    #running = new Map();

    constructor({ base = '', limit = 500 } = {}) {
        this.#base = base;
        this.#limit = limit;
    }

    /** Whether the tabs share one reader; false: each tab reads for itself. */
    get shared() {
        return this.#channel !== null;
    }

    /** Whether this tab is the reader now. */
    get isReader() {
        return this.#releaseLock !== null;
    }

    start() {
        const doc = globalThis.document;
        this.#visible = doc?.visibilityState !== 'hidden';
        doc?.addEventListener('visibilitychange', () => this.#onVisibility(doc.visibilityState !== 'hidden'));
        const canShare = typeof BroadcastChannel === 'function' && globalThis.navigator?.locks?.request;
        if (!canShare) {
            return;
        }
        this.#channel = new BroadcastChannel(SHARE_NAME);
        this.#channel.onmessage = (message) => this.#receive(message.data);
        // A tab that goes away stops being a reason to read (a closed reader releases its lock by itself).
        globalThis.addEventListener?.('pagehide', () => this.#post({ type: 'gone', tab: this.#tab }));
        if (this.#visible) {
            this.#seekLock();
        }
    }

    /**
     * Every result of one session, as an EventTarget with the events and methods of a ResultsFeed
     * ('rows', 'settled', 'failure'; setLive, poke, stop, items, cursor, settled).
     */
    feed(sessionId) {
        if (!this.shared) {
            const feed = new OwnFeed({ sessionId, base: this.#base, limit: this.#limit }, () => this.#feeds.delete(feed));
            feed.setPaused(!this.#visible);
            this.#feeds.add(feed);
            return feed;
        }
        const feed = new RelayedFeed({
            sessionId,
            base: this.#base,
            limit: this.#limit,
            hub: {
                visible: () => this.#visible,
                want: (cursor, live) => this.#send({ type: 'want', tab: this.#tab, session: sessionId, cursor, live }),
                poke: (urgent) => this.#poke(sessionId, urgent),
                closed: () => {
                    this.#feeds.delete(feed);
                    this.#send({ type: 'want', tab: this.#tab, session: sessionId, cursor: null, live: false, drop: true });
                },
            },
        });
        this.#feeds.add(feed);
        return feed;
    }

    /** What the stream says of a session: the reader stops polling a session that has ended. */
    observe(sessionId, running) {
        this.#running.set(sessionId, running);
        const entry = this.#reading.get(sessionId);
        if (entry) {
            entry.reader.setLive(running);
        } else if (running && this.#finished.delete(sessionId)) {
            // A resumed run: its results are no longer final; the tabs that show it say so again.
            this.#lead();
        }
    }

    #onVisibility(visible) {
        if (visible === this.#visible) {
            return;
        }
        this.#visible = visible;
        if (!this.shared) {
            for (const feed of this.#feeds) {
                feed.setPaused(!visible);
            }
            return;
        }
        if (visible) {
            this.#seekLock();
            for (const feed of this.#feeds) {
                feed.wake();
            }
        } else {
            this.#abdicate();
            this.#post({ type: 'gone', tab: this.#tab });
        }
    }

    // Queues for the lock; a hidden tab withdraws from the queue (the signal) or releases it.
    #seekLock() {
        if (this.#lockRequest || this.#releaseLock) {
            return;
        }
        const request = new AbortController();
        this.#lockRequest = request;
        navigator.locks.request(SHARE_NAME, { signal: request.signal }, () => {
            this.#lockRequest = null;
            if (!this.#visible) {
                // Hidden while the lock was being granted: let the next tab have it.
                return undefined;
            }
            return new Promise((resolve) => {
                this.#releaseLock = resolve;
                this.#lead();
            });
        }).catch(() => {
            // Withdrawn while queued (the tab was hidden).
            if (this.#lockRequest === request) {
                this.#lockRequest = null;
            }
        });
    }

    #abdicate() {
        this.#lockRequest?.abort();
        this.#lockRequest = null;
        for (const entry of this.#reading.values()) {
            entry.reader.stop();
        }
        this.#reading.clear();
        this.#finished.clear();
        const release = this.#releaseLock;
        this.#releaseLock = null;
        release?.();
    }

    #lead() {
        // Whoever reads on: every tab says what it shows and how far it has read (this one too).
        this.#post({ type: 'who' });
        for (const feed of this.#feeds) {
            feed.announce();
        }
    }

    #poke(sessionId, urgent) {
        if (this.isReader) {
            this.#reading.get(sessionId)?.reader.poke({ urgent });
        } else if (urgent) {
            // The reader's own stream says a file finished too; only "a file failed" is worth a message.
            this.#post({ type: 'poke', session: sessionId, urgent });
        }
    }

    // Messages to the reader reach this tab too when it is the reader.
    #send(message) {
        this.#post(message);
        if (this.isReader) {
            this.#toReader(message);
        }
    }

    // The reader's pages reach this tab's own feeds too.
    #relay(message) {
        this.#post(message);
        this.#toFeeds(message);
    }

    #receive(message) {
        switch (message?.type) {
            case 'page':
            case 'settled':
                this.#toFeeds(message);
                break;
            case 'who':
                for (const feed of this.#feeds) {
                    feed.announce();
                }
                break;
            default:
                if (this.isReader) {
                    this.#toReader(message);
                }
                break;
        }
    }

    #toFeeds(message) {
        for (const feed of this.#feeds) {
            if (feed.sessionId === message.session) {
                feed.deliver(message);
            }
        }
    }

    #toReader(message) {
        switch (message.type) {
            case 'want':
                this.#want(message);
                break;
            case 'gone':
                for (const [session, entry] of this.#reading) {
                    this.#drop(session, entry, message.tab);
                }
                break;
            case 'poke':
                this.#reading.get(message.session)?.reader.poke({ urgent: Boolean(message.urgent) });
                break;
            default:
                break;
        }
    }

    #want({ tab, session, cursor, live, drop }) {
        const entry = this.#reading.get(session);
        if (drop) {
            if (entry) {
                this.#drop(session, entry, tab);
            }
            return;
        }
        // Over when either says so: this tab's stream may lag, or may be polling other sessions only.
        const running = live && this.#running.get(session) !== false;
        if (entry) {
            entry.wants.add(tab);
            entry.reader.setLive(running);
            if (Number(cursor) < Number(entry.reader.cursor)) {
                // That tab is behind the reader, and a quiet run may relay nothing for a while: tell it
                // where the reader is, so it reads the difference once.
                this.#relay({ type: 'page', session, after: entry.reader.cursor, next: entry.reader.cursor, items: [] });
            }
            return;
        }
        if (!running && this.#finished.has(session)) {
            this.#relay({ type: 'settled', session, cursor: this.#finished.get(session) });
            return;
        }
        // Carry on from the cursor this tab reached (a late tab has read its backlog before it asks).
        const reader = new ResultsFeed({ sessionId: session, base: this.#base, limit: this.#limit, cursor });
        const started = { reader, wants: new Set([tab]) };
        this.#reading.set(session, started);
        reader.addEventListener('page', (event) => {
            const { after, next, items } = event.detail;
            if (items.length === 0) {
                return;
            }
            this.#relay({ type: 'page', session, after, next, items });
        });
        reader.addEventListener('settled', () => {
            if (this.#reading.get(session) !== started) {
                return;
            }
            reader.stop();
            this.#reading.delete(session);
            this.#finished.set(session, reader.cursor);
            this.#relay({ type: 'settled', session, cursor: reader.cursor });
        });
        reader.addEventListener('failure', (event) => {
            if (event.detail.status === 404 && this.#reading.get(session) === started) {
                this.#reading.delete(session);
            }
        });
        reader.setLive(running);
    }

    #drop(session, entry, tab) {
        entry.wants.delete(tab);
        if (entry.wants.size === 0) {
            entry.reader.stop();
            this.#reading.delete(session);
        }
    }

    #post(message) {
        this.#channel?.postMessage(message);
    }
}

/** A tab's own ResultsFeed (no sharing possible); the hub pauses it while the tab is hidden. */
class OwnFeed extends ResultsFeed {
    #closed;

    constructor(options, closed) {
        super(options);
        this.#closed = closed;
    }

    stop() {
        super.stop();
        this.#closed();
    }
}

/**
 * One tab's view of a session's results when a reader relays them: its own backlog read, then the
 * reader's pages. It reads again by itself only when a page does not join its cursor, and only while
 * the tab is visible.
 */
class RelayedFeed extends EventTarget {
    #sessionId;
    #base;
    #limit;
    #hub;
    #cursor = '0';
    #seqs = new Set();
    #items = [];
    #live = true;
    #begun = false;
    #stopped = false;
    #settled = false;
    #reading = false;
    #behind = true;
    #buffer = [];
    #endAt = null;
    #retryTimer = 0;
    #abort = new AbortController();

    constructor({ sessionId, base, limit, hub }) {
        super();
        this.#sessionId = sessionId;
        this.#base = base;
        this.#limit = limit;
        this.#hub = hub;
    }

    get sessionId() {
        return this.#sessionId;
    }

    get state() {
        return '';
    }

    get cursor() {
        return this.#cursor;
    }

    get items() {
        return this.#items;
    }

    get settled() {
        return this.#settled;
    }

    setLive(live) {
        if (this.#stopped) {
            return;
        }
        const changed = !this.#begun || live !== this.#live;
        this.#begun = true;
        this.#live = live;
        if (!changed) {
            return;
        }
        if (live) {
            // A resumed run: more results will come.
            this.#settled = false;
            this.#endAt = null;
        }
        if (this.#behind) {
            this.#catchUp();
        } else {
            this.#checkSettled();
            this.announce();
        }
    }

    /** The page saw a file finish: the reader hears of it (only failures cross tabs, see SharedResults). */
    poke({ urgent = false } = {}) {
        if (!this.#stopped) {
            this.#hub.poke(urgent);
        }
    }

    stop() {
        if (this.#stopped) {
            return;
        }
        this.#stopped = true;
        clearTimeout(this.#retryTimer);
        this.#abort.abort();
        this.#hub.closed();
    }

    /** Tells the reader this tab shows the session and how far it has read (visible tabs only). */
    announce() {
        if (this.#begun && !this.#stopped && !this.#behind && !this.#reading && !this.#settled && this.#hub.visible()) {
            this.#hub.want(this.#cursor, this.#live);
        }
    }

    /** The tab is visible again: read what it missed, or tell the reader it is back. */
    wake() {
        if (!this.#begun || this.#stopped) {
            return;
        }
        if (this.#behind) {
            this.#catchUp();
        } else {
            this.announce();
        }
    }

    /** A message of the reader for this session. */
    deliver(message) {
        if (this.#stopped) {
            return;
        }
        if (this.#reading) {
            this.#buffer.push(message);
            return;
        }
        if (message.type === 'settled') {
            this.#endAt = message.cursor;
        } else if (Number(message.after) > Number(this.#cursor)) {
            // Rows between this tab's cursor and the page's start were never seen here.
            this.#catchUp();
            return;
        } else {
            this.#add(message.items, message.next);
        }
        this.#checkSettled();
    }

    #checkSettled() {
        if (this.#settled || this.#live || this.#endAt === null) {
            return;
        }
        if (Number(this.#cursor) >= Number(this.#endAt)) {
            this.#settle();
        } else {
            this.#catchUp();
        }
    }

    #settle() {
        this.#settled = true;
        this.dispatchEvent(new CustomEvent('settled', { detail: { total: this.#items.length } }));
    }

    #add(items, next) {
        const added = [];
        for (const item of items ?? []) {
            if (!this.#seqs.has(item.seq)) {
                this.#seqs.add(item.seq);
                this.#items.push(item);
                added.push(item);
            }
        }
        if (Number(next) > Number(this.#cursor)) {
            this.#cursor = String(next);
        }
        if (added.length > 0) {
            this.dispatchEvent(new CustomEvent('rows', { detail: { items: added, total: this.#items.length } }));
        }
    }

    // One read from this tab's cursor to the end; deferred while the tab is hidden.
    async #catchUp() {
        this.#behind = true;
        if (this.#reading || this.#stopped || !this.#begun || !this.#hub.visible()) {
            return;
        }
        this.#reading = true;
        const final = !this.#live;
        const complete = await this.#drain();
        this.#reading = false;
        if (this.#stopped) {
            return;
        }
        if (!complete) {
            // Offline for a moment: try again (once a second, and only while visible).
            clearTimeout(this.#retryTimer);
            this.#retryTimer = setTimeout(() => this.#catchUp(), 1000);
            return;
        }
        this.#behind = false;
        if (final && !this.#live) {
            // Read after the run ended: every result is in.
            this.#endAt = this.#cursor;
        }
        // What the reader relayed meanwhile, in order; a page that still does not join reads again.
        for (const message of this.#buffer.splice(0)) {
            this.deliver(message);
        }
        if (!this.#behind) {
            this.#checkSettled();
            this.announce();
        }
    }

    async #drain() {
        for (;;) {
            const result = await fetchResultsPage({
                base: this.#base,
                sessionId: this.#sessionId,
                cursor: this.#cursor,
                limit: this.#limit,
                signal: this.#abort.signal,
            });
            if (this.#stopped || !result) {
                return false;
            }
            if (!result.ok) {
                this.dispatchEvent(new CustomEvent('failure', { detail: { status: result.status, body: result.body } }));
                if (result.status === 404) {
                    // Forgotten (deleted): nothing more will ever come.
                    this.stop();
                }
                return false;
            }
            this.#add(result.body.items, result.body.next_cursor);
            if (!result.body.has_more) {
                return true;
            }
        }
    }
}
