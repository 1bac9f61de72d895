// "Watched folders": each watch with its folder and how it is followed (events, or reconcile only and why),
// a link that shows its session in the live panel, and a button that stops it. The sessions themselves
// stream like any other; this list only asks the API when the page opens and after a change.

import { byId, el, fetchJson, problemText } from './dom.js';

export class WatchList {
    #list = byId('watch-list');
    #empty = byId('no-watches');
    #error = byId('watch-error');
    #onOpen;

    constructor({ onOpen }) {
        this.#onOpen = onOpen;
    }

    async load() {
        const result = await fetchJson('/api/watch');
        if (!result.ok || !Array.isArray(result.body)) {
            return;
        }
        this.#list.replaceChildren(...result.body.map((watch) => this.#row(watch)));
        this.#empty.hidden = result.body.length > 0;
        this.#list.dataset.state = 'loaded';
    }

    #row(watch) {
        const folder = watch.directory === '' ? '/' : watch.directory;
        return el('li', { class: 'watch-row', id: `watch-${watch.watch_id}`, 'data-session': watch.session_id },
            el('button', { type: 'button', class: 'link-button watch-open', title: 'Show this watch in the live panel', text: folder, onclick: () => this.#onOpen(watch.session_id) }),
            el('span', { class: 'muted watch-mode', text: watch.mode ?? 'starting' }),
            el('button', { type: 'button', class: 'watch-stop', text: 'Stop watching', onclick: () => this.#stop(watch) }));
    }

    async #stop(watch) {
        this.#error.hidden = true;
        const result = await fetchJson(`/api/watch/${encodeURIComponent(watch.watch_id)}`, { method: 'DELETE' });
        if (!result.ok) {
            this.#error.textContent = problemText(result);
            this.#error.hidden = false;
        }
        await this.load();
    }
}
