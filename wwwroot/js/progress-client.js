// Follows ingest sessions and emits their snapshots plus the connection mode. No DOM code here.
//
// Events (an EventTarget, so any page can listen):
//   'snapshot' detail: the snapshot object, only ever newer (higher seq) than the last one emitted
//              for that session, so a display fed from here never goes backwards;
//   'mode'     detail: 'CONNECTING' | 'LIVE' | 'RECONNECTING' | 'POLLING';
//   'removed'  detail: the session id the server forgot.
//
// Snapshots come from the shared multiplexed stream while it works. When it does not (no
// EventSource, or the stream fails) the mode is POLLING and this tab polls
// /api/ingest/status/{id} every second for the sessions it follows; the stream is retried quietly
// in the background (shared-stream.js) and polling stops as soon as it is LIVE again.

import { Mode, SharedStream } from './shared-stream.js';
import { Events, isFinal, parseEventData } from './wire.js';

export { Mode };

export class ProgressClient extends EventTarget {
    #base;
    #pollMs;
    #stream = null;
    #mode = Mode.CONNECTING;
    #lastSeq = new Map();
    #latest = new Map();
    #followed = new Set();
    #pollTimer = 0;

    constructor({ base = '', pollMs = 1000 } = {}) {
        super();
        this.#base = base;
        this.#pollMs = pollMs;
    }

    get mode() {
        return this.#mode;
    }

    start() {
        this.#stream = new SharedStream({
            url: `${this.#base}/api/ingest/stream`,
            onEvent: (kind, data) => this.#onStreamEvent(kind, data),
            onMode: (mode) => this.#setMode(mode),
        });
        this.#stream.start();
    }

    stop() {
        clearTimeout(this.#pollTimer);
        this.#stream?.stop();
    }

    /** The newest snapshot seen for a session, from any source. */
    latest(sessionId) {
        return this.#latest.get(sessionId);
    }

    /** Polls this session while the stream is down (the stream itself carries every session). */
    follow(sessionId) {
        this.#followed.add(sessionId);
        if (this.#mode === Mode.POLLING) {
            this.#fetchStatus(sessionId);
        }
    }

    unfollow(sessionId) {
        this.#followed.delete(sessionId);
    }

    /**
     * Hands in a snapshot fetched elsewhere (the sessions list, a command's answer). It goes through
     * the same seq check as streamed ones. Returns whether it was newer.
     */
    offer(snapshot) {
        if (!snapshot?.session_id || typeof snapshot.seq !== 'number') {
            return false;
        }
        const last = this.#lastSeq.get(snapshot.session_id);
        if (last !== undefined && snapshot.seq <= last) {
            return false;
        }
        this.#lastSeq.set(snapshot.session_id, snapshot.seq);
        this.#latest.set(snapshot.session_id, snapshot);
        this.dispatchEvent(new CustomEvent('snapshot', { detail: snapshot }));
        return true;
    }

    /** Fetches a session's status now and offers it; resolves to the snapshot or null. */
    async refresh(sessionId) {
        return this.#fetchStatus(sessionId);
    }

    #onStreamEvent(kind, data) {
        const payload = parseEventData(data);
        if (payload === null) {
            return;
        }
        if (kind === Events.REMOVED) {
            this.#lastSeq.delete(payload.session_id);
            this.#latest.delete(payload.session_id);
            this.dispatchEvent(new CustomEvent('removed', { detail: payload.session_id }));
            return;
        }
        this.offer(payload);
    }

    #setMode(mode) {
        if (mode === this.#mode) {
            return;
        }
        this.#mode = mode;
        this.dispatchEvent(new CustomEvent('mode', { detail: mode }));
        clearTimeout(this.#pollTimer);
        if (mode === Mode.POLLING) {
            this.#pollLoop();
        }
    }

    // One round at a time: the next one is scheduled only after this one answered.
    async #pollLoop() {
        const pending = [...this.#followed].filter((id) => !isFinal(this.#latest.get(id)?.status));
        await Promise.all(pending.map((id) => this.#fetchStatus(id)));
        if (this.#mode === Mode.POLLING) {
            clearTimeout(this.#pollTimer);
            this.#pollTimer = setTimeout(() => this.#pollLoop(), this.#pollMs);
        }
    }

    async #fetchStatus(sessionId) {
        try {
            const response = await fetch(`${this.#base}/api/ingest/status/${encodeURIComponent(sessionId)}`, {
                headers: { Accept: 'application/json' },
                cache: 'no-store',
            });
            if (!response.ok) {
                return null;
            }
            const snapshot = await response.json();
            this.offer(snapshot);
            return snapshot;
        } catch {
            // Offline for a moment: the next round tries again.
            return null;
        }
    }
}
