// The folder browser: walks the media root through /api/ingest/directories and keeps the set of
// selected folders. A typed path is added as written; the server decides whether it is allowed,
// so its message (not a guess made here) is what the person sees.

import { byId, el, fetchJson, problemText, setText } from './dom.js';
import * as format from './format.js';

const ROOT = '.';

export class FolderBrowser {
    #up = byId('folder-up');
    #breadcrumb = byId('folder-breadcrumb');
    #selectHere = byId('folder-select-here');
    #hereSummary = byId('folder-here-summary');
    #error = byId('folder-error');
    #list = byId('folder-list');
    #empty = byId('folder-empty');
    #typed = byId('folder-path');
    #add = byId('add-folder');
    #chips = byId('selected-folders');
    #selectedCount = byId('selected-count');
    #noSelection = byId('no-selection');

    #path = '';
    #parent = null;
    #request = 0;
    #selected = new Set();

    constructor() {
        this.#up.addEventListener('click', () => this.#parent !== null && this.open(this.#parent));
        this.#selectHere.addEventListener('change', () => this.#toggle(toKey(this.#path), this.#selectHere.checked));
        this.#add.addEventListener('click', () => this.#addTyped());
        this.#typed.addEventListener('keydown', (event) => {
            if (event.key === 'Enter') {
                event.preventDefault();
                this.#addTyped();
            }
        });
        this.#renderSelection();
    }

    /** The selected folders as the API takes them: relative to the media root, "." for the root. */
    selected() {
        return [...this.#selected];
    }

    reload() {
        return this.open(this.#path);
    }

    async open(path) {
        const request = ++this.#request;
        this.#list.setAttribute('aria-busy', 'true');
        const result = await fetchJson(`/api/ingest/directories?path=${encodeURIComponent(path)}`);
        // A slower answer for a folder the person already left must not overwrite the newer one.
        if (request !== this.#request) {
            return;
        }
        this.#list.setAttribute('aria-busy', 'false');
        if (!result.ok) {
            this.#showError(problemText(result));
            return;
        }
        this.#showError('');
        this.#render(result.body);
    }

    // Paths in the media root (relative_*): path and parent are absolute, as the replaced app's page reads them.
    #render(listing) {
        this.#path = listing.relative_path;
        this.#parent = listing.relative_parent;
        this.#list.dataset.path = listing.relative_path;
        this.#up.disabled = listing.relative_parent === null;
        this.#renderBreadcrumb(listing.relative_path);
        const summary = listing.files ?? { total_files: 0, ingested_files: 0 };
        setText(this.#hereSummary, `${format.plural(summary.total_files, 'media file')} directly in this folder, ${format.count(summary.ingested_files)} ingested`);
        this.#selectHere.checked = this.#selected.has(toKey(listing.relative_path));
        this.#list.replaceChildren(...listing.directories.map((entry) => this.#row(entry)));
        this.#empty.hidden = listing.directories.length > 0;
        this.#list.dataset.state = 'loaded';
    }

    #row(entry) {
        const checkbox = el('input', {
            type: 'checkbox',
            class: 'folder-check',
            checked: this.#selected.has(entry.relative_path),
            'aria-label': `Select ${entry.name}`,
            onchange: (event) => this.#toggle(entry.relative_path, event.target.checked),
        });
        const name = el('button', {
            type: 'button',
            class: 'folder-name',
            'data-has-children': String(entry.has_children),
            title: `Open ${entry.relative_path}`,
            onclick: () => this.open(entry.relative_path),
        }, el('span', { class: 'folder-icon', 'aria-hidden': 'true' }), el('span', { class: 'folder-label', text: entry.name }));
        const share = entry.total_files > 0 ? entry.ingested_files / entry.total_files : 0;
        const meter = el('span', { class: 'mini', title: `${Math.round(share * 100)}% ingested` }, el('span', { class: 'mini-fill' }));
        meter.firstChild.style.transform = `scaleX(${Math.min(1, share)})`;
        const counts = el('span', { class: 'folder-counts' },
            el('span', { class: 'folder-total', text: format.plural(entry.total_files, 'file') }),
            el('span', { class: 'folder-ingested muted', text: `${format.count(entry.ingested_files)} ingested` }),
            meter);
        return el('li', { class: 'folder-row', 'data-path': entry.relative_path }, checkbox, name, counts);
    }

    #renderBreadcrumb(path) {
        const crumbs = [el('button', { type: 'button', class: 'crumb', text: 'media root', onclick: () => this.open('') })];
        const parts = path ? path.split('/') : [];
        parts.forEach((part, index) => {
            const target = parts.slice(0, index + 1).join('/');
            crumbs.push(el('span', { class: 'crumb-sep', 'aria-hidden': 'true', text: '/' }));
            crumbs.push(index === parts.length - 1
                ? el('span', { class: 'crumb crumb-current', 'aria-current': 'location', text: part })
                : el('button', { type: 'button', class: 'crumb', text: part, onclick: () => this.open(target) }));
        });
        this.#breadcrumb.replaceChildren(...crumbs);
    }

    #addTyped() {
        const path = this.#typed.value.trim();
        if (!path) {
            this.#typed.focus();
            return;
        }
        this.#toggle(path, true);
        this.#typed.value = '';
    }

    #toggle(path, on) {
        if (on) {
            this.#selected.add(path);
        } else {
            this.#selected.delete(path);
        }
        this.#renderSelection();
    }

    #renderSelection() {
        this.#chips.replaceChildren(...[...this.#selected].map((path) => el('li', { class: 'chip', 'data-path': path },
            el('span', { class: 'mono', text: path === ROOT ? '/ (media root)' : path }),
            el('button', {
                type: 'button',
                class: 'chip-remove',
                'aria-label': `Remove ${path}`,
                text: '×',
                onclick: () => this.#toggle(path, false),
            }))));
        setText(this.#selectedCount, String(this.#selected.size));
        this.#noSelection.hidden = this.#selected.size > 0;
        // Keep the checkboxes on screen in step with chips removed elsewhere.
        this.#selectHere.checked = this.#selected.has(toKey(this.#path));
        for (const row of this.#list.querySelectorAll('.folder-row')) {
            row.querySelector('.folder-check').checked = this.#selected.has(row.dataset.path);
        }
    }

    #showError(text) {
        setText(this.#error, text);
        this.#error.hidden = !text;
    }
}

function toKey(path) {
    return path === '' ? ROOT : path;
}
