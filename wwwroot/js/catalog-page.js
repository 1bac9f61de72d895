// The catalog page. Every view is a link: the query, the filters (facets) and the sort live in the
// address, and this module passes them on to /api/media and /api/media/facets. A thumbnail grid
// (lazy-loaded, cached for good by content version), a facet sidebar with counts, and a detail view
// with every generation field, "copy prompt" and the image's near-duplicates. Keyboard: arrows move
// between cards, Enter opens one, ← → go through them in the detail view, Esc closes it.

import { byId, el, fetchJson, problemText, setText } from './dom.js';
import * as format from './format.js';

const LIMIT = 60;

/** The address parameters that are filters: passed to the API as they are, and kept by every link. */
const FILTERS = ['model', 'sampler', 'scheduler', 'lora', 'lora_mode', 'steps_min', 'steps_max', 'cfg_min', 'cfg_max',
    'seed', 'width', 'height', 'score_min', 'score_max', 'kind', 'folder', 'date_min', 'date_max'];

const FACETS = [['model', 'Model'], ['sampler', 'Sampler'], ['scheduler', 'Scheduler'], ['lora', 'LoRA'], ['size', 'Size']];

const address = new URLSearchParams(window.location.search);
const query = address.get('q') ?? '';
const input = byId('catalog-query');
const results = byId('catalog-results');
const summary = byId('catalog-summary');
const error = byId('catalog-error');
const facets = byId('catalog-facets');
const dialog = byId('media-detail');
let items = [];
let shown = -1;

input.value = query;
renderHiddenFilters();
renderSort();
load();
wireDetail();
results.addEventListener('keydown', onGridKey);

/** The API query for this view: q, every filter and the sort, as in the address. */
function apiQuery(extra = {}) {
    const params = new URLSearchParams();
    for (const [key, value] of address) {
        if (key === 'q' || key === 'sort' || FILTERS.includes(key)) {
            params.append(key, value);
        }
    }
    for (const [key, value] of Object.entries(extra)) {
        params.set(key, value);
    }
    return params.toString();
}

async function load() {
    results.setAttribute('aria-busy', 'true');
    const [found, counted] = await Promise.all([fetchJson(`/api/media?${apiQuery({ limit: LIMIT })}`), fetchJson(`/api/media/facets?${apiQuery()}`)]);
    results.setAttribute('aria-busy', 'false');
    if (!found.ok) {
        setText(error, problemText(found));
        error.hidden = false;
        results.dataset.count = '0';
        return;
    }
    error.hidden = true;
    items = found.body.items ?? [];
    results.replaceChildren(...items.map(card));
    results.dataset.count = String(items.length);
    setText(summary, describe(items.length));
    if (counted.ok) {
        renderFacets(counted.body);
    }
}

function describe(count) {
    const filtered = FILTERS.some((key) => address.has(key));
    if (count === 0) {
        return query || filtered ? 'Nothing in the catalog matches.' : 'The catalog is empty: ingest a folder first.';
    }
    const n = count === LIMIT ? `the first ${LIMIT}` : format.plural(count, 'item');
    return query ? `Showing ${n} matching “${query}”.` : `Showing ${n}.`;
}

function card(item, index) {
    const kind = item.kind === 'video' ? 'video' : 'image';
    const thumb = el('div', { class: 'media-thumb' },
        el('img', { src: item.thumbnail_url, alt: '', loading: 'lazy', decoding: 'async', width: 160, height: 160 }));
    const missing = item.missing_at ? ' missing' : '';
    return el('li', { class: `media-card kind-${kind}${missing}`, 'data-path': item.path, 'data-index': index, tabIndex: 0, onclick: () => open(index) },
        thumb,
        el('div', { class: 'media-body' },
            el('h3', { class: 'media-name', title: item.path, text: format.fileName(item.path) }),
            item.missing_at ? el('p', { class: 'media-missing', title: `gone from disk since ${item.missing_at}`, text: 'missing from disk' }) : null,
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
    if (item.parameters?.model) {
        parts.push(item.parameters.model);
    }
    parts.push(format.bytes(item.size));
    if (item.score !== null && item.score !== undefined) {
        parts.push(`score ${item.score}`);
    }
    return parts.join(' · ');
}

function keywords(list) {
    if (list.length === 0) {
        return null;
    }
    return el('ul', { class: 'keywords', 'aria-label': 'Keywords' },
        ...list.slice(0, 12).map((word) => el('li', {},
            el('a', { class: 'keyword', href: `/catalog?q=${encodeURIComponent(word)}`, text: word, onclick: (event) => event.stopPropagation() }))));
}

// ---- Facets, sort and hidden filters: links that change one parameter of this view ----

/** This view's address with some parameters changed (null removes one); a change of filter starts again at the top. */
function linkWith(changes) {
    const next = new URLSearchParams(address);
    for (const [key, value] of Object.entries(changes)) {
        next.delete(key);
        for (const one of [].concat(value ?? [])) {
            next.append(key, one);
        }
    }
    const text = next.toString();
    return text ? `/catalog?${text}` : '/catalog';
}

function renderFacets(counts) {
    const groups = FACETS.map(([name, title]) => {
        const values = counts[name] ?? [];
        if (values.length === 0) {
            return null;
        }
        return el('section', { class: 'facet', 'data-facet': name },
            el('h3', { class: 'subhead', text: title }),
            el('ul', {}, ...values.map((v) => facetValue(name, v))));
    }).filter(Boolean);
    // Clearing keeps what is not a filter of the catalog's values: the search, the folder and the sort.
    const cleared = FILTERS.filter((key) => key !== 'folder' && address.has(key));
    if (cleared.length > 0) {
        groups.push(el('a', { class: 'facet-clear', href: linkWith(Object.fromEntries(cleared.map((key) => [key, null]))), text: 'Clear filters' }));
    }
    facets.replaceChildren(...groups);
}

function facetValue(name, { value, count }) {
    let on;
    let href;
    if (name === 'size') {
        const [w, h] = value.split('x');
        on = address.get('width') === w && address.get('height') === h;
        href = linkWith(on ? { width: null, height: null } : { width: w, height: h });
    } else {
        const chosen = address.getAll(name);
        on = chosen.includes(value);
        href = linkWith({ [name]: on ? chosen.filter((c) => c !== value) : [...chosen, value] });
    }
    return el('li', { class: on ? 'facet-value is-on' : 'facet-value', 'data-value': value },
        el('a', { href, 'aria-pressed': String(on) },
            el('span', { class: 'facet-label', text: value }),
            el('span', { class: 'facet-count', text: format.count(count) })));
}

function renderSort() {
    const current = address.get('sort') ?? 'date';
    for (const link of document.querySelectorAll('#catalog-sort a')) {
        link.href = linkWith({ sort: link.dataset.sort === 'date' ? null : link.dataset.sort });
        link.classList.toggle('is-on', link.dataset.sort === current);
        link.setAttribute('aria-current', String(link.dataset.sort === current));
    }
}

/** A new search keeps the filters: they ride along as hidden fields of the form. */
function renderHiddenFilters() {
    const fields = [];
    for (const [key, value] of address) {
        if (key === 'sort' || FILTERS.includes(key)) {
            fields.push(el('input', { type: 'hidden', name: key, value }));
        }
    }
    byId('catalog-hidden').replaceChildren(...fields);
}

// ---- Keyboard ----

function onGridKey(event) {
    const current = event.target.closest?.('li.media-card');
    if (!current) {
        return;
    }
    const index = Number(current.dataset.index);
    if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        open(index);
        return;
    }
    const columns = Math.max(1, Math.round(results.clientWidth / current.offsetWidth));
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns }[event.key];
    if (step === undefined) {
        return;
    }
    event.preventDefault();
    results.children[Math.min(items.length - 1, Math.max(0, index + step))]?.focus();
}

// ---- The detail view ----

function wireDetail() {
    byId('detail-close').addEventListener('click', () => dialog.close());
    byId('detail-copy').addEventListener('click', async () => {
        const button = byId('detail-copy');
        try {
            await navigator.clipboard.writeText(items[shown]?.prompt ?? '');
            setText(button, 'Copied');
        } catch {
            setText(button, 'Copy failed');
        }
    });
    dialog.addEventListener('keydown', (event) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        if (step !== undefined && shown + step >= 0 && shown + step < items.length) {
            event.preventDefault();
            open(shown + step);
        }
    });
    dialog.addEventListener('close', () => results.children[shown]?.focus());
}

function open(index) {
    const item = items[index];
    if (!item) {
        return;
    }
    shown = index;
    const p = item.parameters ?? {};
    dialog.dataset.path = item.path;
    setText(byId('detail-title'), format.fileName(item.path));
    setText(byId('detail-folder'), format.folderOf(item.path) || '/');
    byId('detail-image').src = item.thumbnail_url;
    setText(byId('detail-prompt'), item.prompt ?? '—');
    setText(byId('detail-negative'), p.negative_prompt ?? '—');
    setText(byId('detail-copy'), 'Copy prompt');
    const fields = [
        ['Model', p.model], ['Model hash', p.model_hash], ['VAE', p.vae], ['Sampler', p.sampler], ['Scheduler', p.scheduler],
        ['Steps', p.steps], ['CFG scale', p.cfg_scale], ['Seed', p.seed], ['Size', item.width && item.height ? `${item.width}×${item.height}` : null],
        ['Denoising', p.denoise], ['Clip skip', p.clip_skip], ['Hires upscale', p.hires_upscale], ['Hires upscaler', p.hires_upscaler],
        ['Generator', p.generator], ['Version', p.version], ['Samplers in the graph', p.samplers > 1 ? p.samplers : null],
    ].filter(([, value]) => value !== null && value !== undefined && value !== '');
    byId('detail-fields').replaceChildren(...fields.flatMap(([name, value]) => [el('dt', { text: name }), el('dd', { text: String(value) })]));
    const loras = p.loras ?? [];
    byId('detail-loras').replaceChildren(...(loras.length === 0
        ? [el('li', { class: 'muted', text: 'none' })]
        : loras.map((l) => el('li', { 'data-name': l.name, text: l.weight === null || l.weight === undefined ? l.name : `${l.name} (${l.weight})` }))));
    const similar = byId('detail-similar');
    similar.replaceChildren(el('li', { class: 'muted', text: 'looking…' }));
    if (!dialog.open) {
        dialog.showModal();
    }
    loadSimilar(item, similar);
}

async function loadSimilar(item, list) {
    const result = await fetchJson(`/api/media/${item.id}/similar?limit=12`);
    if (items[shown] !== item) {
        return;
    }
    const near = result.ok ? result.body.items ?? [] : [];
    list.replaceChildren(...(near.length === 0
        ? [el('li', { class: 'muted', text: result.ok ? 'none' : problemText(result) })]
        : near.map((n) => el('li', { 'data-path': n.media.path, title: `${n.media.path} (${n.distance} bits apart)` },
            el('img', { src: n.media.thumbnail_url, alt: format.fileName(n.media.path), loading: 'lazy', width: 96, height: 96 }),
            el('span', { class: 'muted', text: `${n.distance} bits` })))));
}
