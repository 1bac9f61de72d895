// How numbers, times and paths read on screen. Pure functions, no DOM.

const number = new Intl.NumberFormat(undefined);

export function count(n) {
    return number.format(n ?? 0);
}

export function plural(n, one, many = `${one}s`) {
    return `${count(n)} ${n === 1 ? one : many}`;
}

export function rate(filesPerSecond) {
    const value = Number(filesPerSecond) || 0;
    return `${value.toFixed(value >= 100 ? 0 : 1)} files/s`;
}

/** "45 s", "3 min 05 s", "2 h 10 min"; a dash when unknown. */
export function duration(seconds) {
    if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) {
        return '—';
    }
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) {
        return `${s} s`;
    }
    const minutes = Math.floor(s / 60);
    if (minutes < 60) {
        return `${minutes} min ${String(s % 60).padStart(2, '0')} s`;
    }
    return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** Like duration, with a tenth of a second for short runs ("0.4 s" rather than "0 s"). */
export function elapsed(startIso, endIso) {
    const start = Date.parse(startIso);
    const end = endIso ? Date.parse(endIso) : Date.now();
    if (!Number.isFinite(start) || !Number.isFinite(end)) {
        return '—';
    }
    const seconds = Math.max(0, (end - start) / 1000);
    return seconds < 10 ? `${seconds.toFixed(1)} s` : duration(seconds);
}

/** Local time for today, date and time otherwise. */
export function when(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) {
        return '';
    }
    const today = new Date().toDateString() === date.toDateString();
    return today
        ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
        : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function bytes(n) {
    if (!Number.isFinite(n)) {
        return '';
    }
    const units = ['B', 'KB', 'MB', 'GB', 'TB'];
    let value = n;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
        value /= 1024;
        unit += 1;
    }
    return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function fileName(path) {
    if (!path) {
        return '';
    }
    const parts = String(path).split('/');
    return parts[parts.length - 1];
}

export function folderOf(path) {
    const parts = String(path ?? '').split('/');
    parts.pop();
    return parts.join('/');
}

/** How a session's status reads in a sentence. */
export function statusLabel(status) {
    return {
        starting: 'Starting',
        processing: 'Processing',
        completed: 'Completed',
        error: 'Failed',
        cancelled: 'Cancelled',
        interrupted: 'Interrupted',
        committing: 'Committing',
        committed: 'Committed',
        commit_error: 'Commit failed',
    }[status] ?? String(status ?? '');
}

/** "840 ms", "3.2 s", "2 min 05 s": how long one file took. */
export function milliseconds(ms) {
    const value = Number(ms);
    if (!Number.isFinite(value) || value < 0) {
        return '';
    }
    if (value < 1000) {
        return `${Math.round(value)} ms`;
    }
    return value < 60_000 ? `${(value / 1000).toFixed(1)} s` : duration(value / 1000);
}
