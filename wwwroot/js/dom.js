// Small DOM and HTTP helpers shared by the pages. Text always goes in through textContent (or text
// nodes): file names, prompts and error messages come from untrusted files.

export function byId(id) {
    const node = document.getElementById(id);
    if (!node) {
        throw new Error(`missing element #${id}`);
    }
    return node;
}

/**
 * createElement with properties: `class`, `text`, `data-*`, `aria-*`, `role`, `for` and `title` set as
 * attributes, anything else as a DOM property. Children may be nodes or strings (become text nodes).
 */
export function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null) {
            continue;
        }
        if (key === 'class') {
            node.className = value;
        } else if (key === 'text') {
            node.textContent = String(value);
        } else if (key.startsWith('data-') || key.startsWith('aria-') || ['role', 'for', 'title'].includes(key)) {
            node.setAttribute(key, String(value));
        } else {
            node[key] = value;
        }
    }
    node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
    return node;
}

export function setText(node, text) {
    const value = String(text);
    // Skipping identical writes keeps MutationObservers (and screen readers) quiet.
    if (node.textContent !== value) {
        node.textContent = value;
    }
}

/** fetch that always resolves: `{ ok, status, body }`, body parsed as JSON when it is JSON. */
export async function fetchJson(url, init = {}) {
    try {
        const response = await fetch(url, {
            cache: 'no-store',
            ...init,
            headers: { Accept: 'application/json', ...(init.headers ?? {}) },
        });
        const type = response.headers.get('Content-Type') ?? '';
        const body = type.includes('json') ? await response.json().catch(() => null) : await response.text();
        return { ok: response.ok, status: response.status, body };
    } catch (error) {
        return { ok: false, status: 0, body: null, error };
    }
}

/** The one line to show for a failed call: the ProblemDetails `detail`, else its title, else the status. */
export function problemText(result) {
    if (result.status === 0) {
        return 'The server could not be reached. Check that IngestLite is running, then try again.';
    }
    const body = result.body;
    if (body && typeof body === 'object') {
        return body.detail || body.title || `The server answered ${result.status}.`;
    }
    return `The server answered ${result.status}.`;
}
