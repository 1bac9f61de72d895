// The catalog page. The search form is a plain GET to /catalog?q=…, so every search is a link
// that can be shared or bookmarked; this module reads q from the address and asks /api/media.
// There is no thumbnail endpoint yet, so each hit is a text card with a kind icon.

import { byId, el, fetchJson, problemText, setText } from './dom.js';
import * as format from './format.js';

const LIMIT = 60;

const query = new URLSearchParams(window.location.search).get('q') ?? '';
const input = byId('catalog-query');
const results = byId('catalog-results');
const summary = byId('catalog-summary');
const error = byId('catalog-error');

input.value = query;
search(query);

async function search(q) {
    results.setAttribute('aria-busy', 'true');
    const result = await fetchJson(`/api/media?q=${encodeURIComponent(q)}&limit=${LIMIT}`);
    results.setAttribute('aria-busy', 'false');
    if (!result.ok) {
        setText(error, problemText(result));
        error.hidden = false;
        return;
    }
    error.hidden = true;
    const items = result.body.items ?? [];
    results.replaceChildren(...items.map(card));
    results.dataset.count = String(items.length);
    setText(summary, describe(q, items.length));
}

function describe(q, count) {
    if (count === 0) {
        return q ? `Nothing in the catalog matches “${q}”.` : 'The catalog is empty: ingest a folder first.';
    }
    const shown = count === LIMIT ? `the first ${LIMIT}` : format.plural(count, 'item');
    return q ? `Showing ${shown} matching “${q}”.` : `Showing ${shown}, newest first.`;
}

function card(item) {
    const kind = item.kind === 'video' ? 'video' : 'image';
    return el('li', { class: `media-card kind-${kind}`, 'data-path': item.path },
        el('div', { class: 'media-thumb', 'aria-hidden': 'true' }, el('span', { class: 'media-ext', text: extension(item.path) })),
        el('div', { class: 'media-body' },
            el('h3', { class: 'media-name', title: item.path, text: format.fileName(item.path) }),
            el('p', { class: 'media-folder muted mono', text: format.folderOf(item.path) || '/' }),
            el('p', { class: 'media-facts', text: facts(item) }),
            item.prompt ? el('p', { class: 'media-prompt', title: item.prompt, text: item.prompt }) : null,
            keywords(item.keywords ?? [])));
}

function facts(item) {
    const parts = [];
    if (item.width && item.height) {
        parts.push(`${item.width}×${item.height}`);
    }
    if (item.duration_seconds) {
        parts.push(format.duration(item.duration_seconds));
    }
    parts.push(format.bytes(item.size));
    if (item.score !== null && item.score !== undefined) {
        parts.push(`score ${item.score}`);
    }
    if (item.taken_at) {
        parts.push(`taken ${format.when(item.taken_at)}`);
    }
    return parts.join(' · ');
}

function keywords(list) {
    if (list.length === 0) {
        return null;
    }
    return el('ul', { class: 'keywords', 'aria-label': 'Keywords' },
        ...list.slice(0, 12).map((word) => el('li', {},
            el('a', { class: 'keyword', href: `/catalog?q=${encodeURIComponent(word)}`, text: word }))));
}

function extension(path) {
    const name = format.fileName(path);
    const dot = name.lastIndexOf('.');
    return dot > 0 ? name.slice(dot + 1).toUpperCase() : '';
}
