// The multiplexed event stream (GET /api/ingest/stream), opened at most once per browser profile.
// No DOM code here: progress-client.js builds on it, and it can be read and tested on its own.
//
// Why share: over HTTP/1.1 Chromium allows 6 connections per host across all tabs of a profile, so
// one EventSource per tab would starve the 7th tab (even its fetch calls would queue). The tab that
// holds the Web Lock "ingestlite-stream" (the leader) owns the EventSource and relays every event
// and every connection-mode change over a BroadcastChannel; the other tabs only listen. When the
// leader tab closes, the browser releases its lock and a waiting tab takes over.

export const Mode = Object.freeze({
    CONNECTING: 'CONNECTING',
    LIVE: 'LIVE',
    RECONNECTING: 'RECONNECTING',
    POLLING: 'POLLING',
    // Connected, but the server says its sessions may be stale (it cannot reach its database); they catch up by themselves.
    PAUSED: 'PAUSED',
});

import { Events, parseEventData, STATE_EVENTS } from './wire.js';

const SHARE_NAME = 'ingestlite-stream';

/**
 * One EventSource with the fallback rules. EventSource reconnects by itself (sending Last-Event-ID)
 * but never exposes an HTTP status, so failures are told apart by whether any event came first:
 * an error before the first event means the stream is blocked (refused, stripped by a proxy,
 * aborted); errors after events mean it dropped, and it gets `maxErrors` tries before polling.
 */
export class StreamConnection {
    #url;
    #onEvent;
    #onMode;
    #maxErrors;
    #probeMs;
    #source = null;
    #probeTimer = 0;
    #mode = Mode.CONNECTING;
    #stopped = false;

    constructor({ url, onEvent, onMode, maxErrors = 3, probeMs = 10_000 }) {
        this.#url = url;
        this.#onEvent = onEvent;
        this.#onMode = onMode;
        this.#maxErrors = maxErrors;
        this.#probeMs = probeMs;
    }

    get mode() {
        return this.#mode;
    }

    start() {
        if (typeof globalThis.EventSource !== 'function') {
            // Nothing to retry later: this browser (or a script) has no EventSource at all.
            this.#setMode(Mode.POLLING);
            return;
        }
        this.#open(false);
    }

    stop() {
        this.#stopped = true;
        clearTimeout(this.#probeTimer);
        this.#close();
    }

    // A probe is a quiet retry while polling: it only takes over once a real event arrives.
    #open(probing) {
        const source = new EventSource(this.#url);
        const state = { sawEvent: false, errors: 0, probing };
        this.#source = source;

        const onMessage = (kind) => (event) => {
            if (this.#source !== source) {
                return;
            }
            state.sawEvent = true;
            state.errors = 0;
            state.probing = false;
            clearTimeout(this.#probeTimer);
            if (kind === Events.HEARTBEAT) {
                // A heartbeat says whether the server's sessions are fresh: {"stale": why} while it cannot reach its database.
                this.#setMode(parseEventData(event.data)?.stale ? Mode.PAUSED : Mode.LIVE);
            } else {
                this.#setMode(this.#mode === Mode.PAUSED ? Mode.PAUSED : Mode.LIVE);
                this.#onEvent(kind, event.data);
            }
        };
        for (const kind of [...STATE_EVENTS, Events.HEARTBEAT]) {
            source.addEventListener(kind, onMessage(kind));
        }

        // A 200 text/event-stream answer: the stream works, even if the server has nothing to say yet.
        source.onopen = () => {
            if (this.#source === source && !state.probing) {
                this.#setMode(Mode.LIVE);
            }
        };
        source.onerror = () => {
            if (this.#source === source) {
                this.#onError(source, state);
            }
        };
    }

    #onError(source, state) {
        state.errors += 1;
        const fatal = source.readyState === EventSource.CLOSED;
        if (state.probing || fatal || !state.sawEvent || state.errors >= this.#maxErrors) {
            this.#fallBack();
            return;
        }
        // Dropped after working: EventSource is already retrying with Last-Event-ID.
        this.#setMode(Mode.RECONNECTING);
    }

    #fallBack() {
        this.#close();
        this.#setMode(Mode.POLLING);
        if (!this.#stopped) {
            clearTimeout(this.#probeTimer);
            this.#probeTimer = setTimeout(() => this.#open(true), this.#probeMs);
        }
    }

    #close() {
        if (this.#source) {
            this.#source.close();
            this.#source = null;
        }
    }

    #setMode(mode) {
        if (this.#mode !== mode) {
            this.#mode = mode;
            this.#onMode(mode);
        }
    }
}

/**
 * The stream shared by every tab of the profile. `onEvent(kind, data)` receives the raw SSE data
 * (a snapshot's JSON, or `{"session_id"}` for `removed`); `onMode(mode)` the leader's mode.
 * Without Web Locks or BroadcastChannel (older browsers, or Web Locks on a non-secure origin)
 * each tab opens its own stream.
 */
export class SharedStream {
    #url;
    #onEvent;
    #onMode;
    #channel = null;
    #connection = null;
    #releaseLock = null;
    // The leader's last event per session, replayed to a tab that joins late.
    #latest = new Map();

    constructor({ url, onEvent, onMode }) {
        this.#url = url;
        this.#onEvent = onEvent;
        this.#onMode = onMode;
    }

    get isLeader() {
        return this.#connection !== null;
    }

    start() {
        const canShare = typeof BroadcastChannel === 'function' && globalThis.navigator?.locks?.request;
        if (!canShare) {
            this.#lead();
            return;
        }

        this.#channel = new BroadcastChannel(SHARE_NAME);
        this.#channel.onmessage = (message) => this.#onChannel(message.data);
        this.#channel.postMessage({ type: 'hello' });
        navigator.locks.request(SHARE_NAME, () => {
            this.#lead();
            // Held until the tab goes away (or stop()); the browser then releases it for the next tab.
            return new Promise((resolve) => { this.#releaseLock = resolve; });
        }).catch(() => this.#lead());
    }

    stop() {
        this.#connection?.stop();
        this.#connection = null;
        this.#releaseLock?.();
        this.#channel?.close();
    }

    #lead() {
        if (this.#connection) {
            return;
        }
        this.#connection = new StreamConnection({
            url: this.#url,
            onEvent: (kind, data) => this.#leaderEvent(kind, data),
            onMode: (mode) => {
                this.#onMode(mode);
                this.#post({ type: 'mode', mode });
            },
        });
        this.#connection.start();
    }

    #leaderEvent(kind, data) {
        this.#remember(kind, data);
        this.#onEvent(kind, data);
        this.#post({ type: 'event', kind, data });
    }

    #remember(kind, data) {
        const id = parseEventData(data)?.session_id;
        if (id === undefined) {
            // Not a session's event: nothing to replay.
            return;
        }
        if (kind === Events.REMOVED) {
            this.#latest.delete(id);
        } else {
            this.#latest.set(id, { kind, data });
        }
    }

    #onChannel(message) {
        if (this.isLeader) {
            if (message?.type === 'hello') {
                this.#post({ type: 'state', mode: this.#connection.mode, events: [...this.#latest.values()] });
            }
            return;
        }

        switch (message?.type) {
            case 'event':
                this.#onEvent(message.kind, message.data);
                break;
            case 'mode':
                this.#onMode(message.mode);
                break;
            case 'state':
                this.#onMode(message.mode);
                for (const event of message.events) {
                    this.#onEvent(event.kind, event.data);
                }
                break;
            default:
                break;
        }
    }

    #post(message) {
        this.#channel?.postMessage(message);
    }
}
