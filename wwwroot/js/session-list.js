// "Recent sessions": newest first, each row updated in place as its snapshots arrive.

import { byId, el, setText } from './dom.js';
import * as format from './format.js';

export class SessionList {
    #list = byId('recent-sessions');
    #empty = byId('no-sessions');
    #rows = new Map();
    #limit;
    #onSelect;
    #current = null;

    constructor({ onSelect, limit = 15 }) {
        this.#onSelect = onSelect;
        this.#limit = limit;
    }

    upsert(s) {
        let row = this.#rows.get(s.session_id);
        if (!row) {
            if (this.#rows.size >= this.#limit && !this.#isNewerThanOldest(s)) {
                return;
            }
            row = this.#create(s);
            this.#insertSorted(row, s.start_time);
            this.#trim();
        }
        if (s.seq > row.seq) {
            this.#fill(row, s);
        }
        this.#empty.hidden = true;
    }

    remove(sessionId) {
        const row = this.#rows.get(sessionId);
        if (row) {
            row.node.remove();
            this.#rows.delete(sessionId);
        }
    }

    /** Called once the first listing answered, so "no sessions" only shows when it is true. */
    loaded() {
        this.#empty.hidden = this.#rows.size > 0;
    }

    markCurrent(sessionId) {
        this.#current = sessionId;
        for (const [id, row] of this.#rows) {
            row.button.setAttribute('aria-current', String(id === sessionId));
        }
    }

    #create(s) {
        const row = {
            seq: -1,
            start: s.start_time,
            status: el('span', { class: 'session-status' }),
            when: el('span', { class: 'session-when muted', text: format.when(s.start_time) }),
            files: el('span', { class: 'session-files' }),
            errors: el('span', { class: 'session-errors' }),
            fill: el('span', { class: 'mini-fill' }),
        };
        row.button = el('button', {
            type: 'button',
            class: 'session-row',
            title: `Show session ${s.session_id} in the live panel`,
            'aria-current': String(s.session_id === this.#current),
            onclick: () => this.#onSelect(s.session_id),
        }, row.status, row.when, row.files, row.errors, el('span', { class: 'mini' }, row.fill));
        row.node = el('li', { id: `session-${s.session_id}`, class: 'session', 'data-session-id': s.session_id }, row.button);
        this.#rows.set(s.session_id, row);
        return row;
    }

    #fill(row, s) {
        row.seq = s.seq;
        row.node.dataset.status = s.status;
        setText(row.status, format.statusLabel(s.status));
        setText(row.files, `${format.count(s.processed_files)} / ${format.plural(s.total_files, 'file')}`);
        const errors = s.stats?.errors ?? 0;
        setText(row.errors, errors ? format.plural(errors, 'error') : '');
        row.fill.style.transform = `scaleX(${Math.min(100, Math.max(0, s.progress ?? 0)) / 100})`;
    }

    #insertSorted(row, start) {
        // ISO-8601 UTC timestamps of one format compare correctly as strings.
        const before = [...this.#list.children].find((node) => (this.#rows.get(node.dataset.sessionId)?.start ?? '') < start);
        this.#list.insertBefore(row.node, before ?? null);
    }

    #isNewerThanOldest(s) {
        return [...this.#rows.values()].some((row) => row.start < s.start_time);
    }

    #trim() {
        while (this.#rows.size > this.#limit) {
            const oldest = this.#list.lastElementChild;
            this.remove(oldest.dataset.sessionId);
        }
    }
}
