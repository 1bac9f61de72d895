// IngestLite inside the Hangfire dashboard (bundled by Hangfire after its own script, on every dashboard page).
// Three views, each only where its element is: the live panel of an ingest job (#ingestlite-job), the Ingest
// page (#ingestlite-dashboard), and the % of each ingest in the Processing jobs list. They follow the
// dashboard's own routes (/ingest/stream…), which answer only where the dashboard does. Updates are pushed
// over Server-Sent Events; without them (no EventSource, or a stream that fails before its first event) a
// view polls once a second and retries the stream every 15 s, as IngestLite's page does. Every value from a
// session is written with textContent: file names and errors are text, never HTML.
(function () {
    'use strict';

    // The final states, as wire.js has them (a unit test checks both against the server).
    var FINAL = ['completed', 'error', 'cancelled', 'interrupted', 'committed', 'commit_error'];
    var POLL_MS = 1000;
    var PROBE_MS = 15000;

    function isFinal(status) {
        return FINAL.indexOf(status) >= 0;
    }

    function parse(text) {
        try {
            return JSON.parse(text);
        } catch (e) {
            return null;
        }
    }

    function setText(node, text) {
        if (node && node.textContent !== text) {
            node.textContent = text;
        }
    }

    function field(root, name) {
        return root.querySelector('[data-field="' + name + '"]');
    }

    function count(n) {
        return Number(n || 0).toLocaleString('en-US');
    }

    function duration(seconds) {
        if (seconds === null || seconds === undefined || !isFinite(seconds)) {
            return '—';
        }
        var s = Math.max(0, Math.round(seconds));
        return s < 60 ? s + ' s' : Math.floor(s / 60) + ' min ' + String(s % 60).padStart(2, '0') + ' s';
    }

    function percentOf(s) {
        return s.status === 'committing' ? (s.commit_progress || 0) : Math.max(0, Math.min(100, s.progress || 0));
    }

    function statusText(s) {
        return s.status === 'committing' ? 'committing ' + (s.commit_progress || 0) + '%' : s.status;
    }

    function setBar(bar, value) {
        bar.setAttribute('aria-valuenow', String(value));
        bar.style.width = value + '%';
    }

    function dashboardBase() {
        var config = document.getElementById('hangfireConfig');
        var poll = config ? config.getAttribute('data-pollurl') || '' : '';
        return poll.replace(/\/stats$/, '');
    }

    function csrfHeaders() {
        var name = document.querySelector('meta[name="csrf-header"]');
        var token = document.querySelector('meta[name="csrf-token"]');
        var headers = {};
        if (name && token) {
            headers[name.getAttribute('content')] = token.getAttribute('content');
        }
        return headers;
    }

    // Follows a stream; named: the multiplexed stream's events (progress, done, removed), else a session
    // stream's unnamed ones. onData(kind, payload) gets every state; onMode the connection's mode. When the
    // stream cannot work, poll() is called every second until a probe of the stream hears an event again.
    function follow(url, named, onData, onMode, poll) {
        var source = null;
        var pollTimer = 0;
        var probeTimer = 0;
        var ended = false;

        function open(probing) {
            if (!window.EventSource) {
                fallBack();
                return;
            }
            var es = new EventSource(url);
            var heard = false;
            source = es;
            function hear(kind) {
                return function (event) {
                    if (source !== es) {
                        return;
                    }
                    if (!heard) {
                        heard = true;
                        stopPolling();
                    }
                    onMode('LIVE');
                    if (kind !== 'heartbeat') {
                        onData(kind, parse(event.data));
                    }
                };
            }
            if (named) {
                ['progress', 'done', 'removed', 'heartbeat'].forEach(function (kind) {
                    es.addEventListener(kind, hear(kind));
                });
            } else {
                es.onmessage = hear('message');
                es.addEventListener('heartbeat', hear('heartbeat'));
            }
            es.onopen = function () {
                if (source === es && !probing) {
                    onMode('LIVE');
                }
            };
            es.onerror = function () {
                if (source !== es || ended) {
                    return;
                }
                if (es.readyState === EventSource.CLOSED || !heard) {
                    es.close();
                    source = null;
                    fallBack();
                } else {
                    onMode('RECONNECTING');
                }
            };
        }

        function fallBack() {
            if (ended) {
                return;
            }
            onMode('POLLING');
            if (!pollTimer) {
                pollLoop();
            }
            clearTimeout(probeTimer);
            if (window.EventSource) {
                probeTimer = setTimeout(function () { open(true); }, PROBE_MS);
            }
        }

        function pollLoop() {
            pollTimer = setTimeout(function () {
                Promise.resolve(poll()).then(function () {
                    if (pollTimer && !ended) {
                        pollLoop();
                    }
                });
            }, POLL_MS);
        }

        function stopPolling() {
            clearTimeout(pollTimer);
            clearTimeout(probeTimer);
            pollTimer = 0;
        }

        open(false);
        return {
            // The session is over: no more requests of any kind.
            end: function () {
                ended = true;
                stopPolling();
                if (source) {
                    source.close();
                    source = null;
                }
            },
        };
    }

    function fetchJson(url) {
        return fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' })
            .then(function (response) { return response.ok ? response.json() : null; })
            .catch(function () { return null; });
    }

    // ---- The live panel of one ingest job -------------------------------------------------------------

    function jobPanel(root) {
        var lastSeq = -1;
        var errorKeys = {};
        var mode = field(root, 'mode');
        var bar = root.querySelector('.progress-bar');
        var errors = root.querySelector('.ingestlite-errors');
        var link = null;

        function render(s) {
            if (!s || s.session_id !== root.dataset.session || s.seq <= lastSeq) {
                return;
            }
            lastSeq = s.seq;
            var stats = s.stats || {};
            var running = !isFinal(s.status);
            var value = percentOf(s);
            setBar(bar, value);
            bar.classList.toggle('progress-bar-success', s.status === 'completed' || s.status === 'committed');
            bar.classList.toggle('progress-bar-danger', s.status === 'error' || s.status === 'commit_error');
            bar.classList.toggle('progress-bar-warning', s.status === 'cancelled' || s.status === 'interrupted');
            setText(field(root, 'status'), statusText(s));
            setText(field(root, 'percent'), value + '%');
            setText(field(root, 'files'), count(s.processed_files) + ' / ' + count(s.total_files) + ' files');
            setText(field(root, 'rate'), s.files_per_second > 0 ? s.files_per_second.toFixed(1) + ' files/s' : '—');
            setText(field(root, 'eta'), running ? (s.eta_seconds !== null && s.eta_seconds !== undefined ? duration(s.eta_seconds) + ' left' : '—') : 'done');
            setText(field(root, 'current'), running && s.current_path ? s.current_path : '—');
            setText(field(root, 'stage'), running && s.current_stage ? '(' + s.current_stage + ')' : '');
            setText(field(root, 'committed'), count(stats.committed_files));
            setText(field(root, 'skipped'), count(stats.skipped_existing));
            setText(field(root, 'errors'), count(stats.errors));
            (s.error_details || []).forEach(function (e) {
                var key = e.at + '\u0000' + e.file + '\u0000' + e.stage + '\u0000' + e.message;
                if (errorKeys[key]) {
                    return;
                }
                errorKeys[key] = true;
                var item = document.createElement('li');
                item.textContent = e.file + ': ' + e.stage + ': ' + e.message;
                errors.appendChild(item);
                while (errors.children.length > 10) {
                    errors.removeChild(errors.firstChild);
                }
            });
            // Written last, once the snapshot is on screen (tests time these).
            root.dataset.status = s.status;
            root.dataset.updatedAt = s.updated_at;
            root.dataset.seq = String(s.seq);
            if (!running && link) {
                link.end();
                setText(mode, s.status.toUpperCase());
            }
        }

        function setMode(text) {
            if (root.dataset.status && isFinal(root.dataset.status)) {
                return;
            }
            setText(mode, text);
            root.dataset.mode = text;
        }

        render(parse(root.dataset.snapshot || 'null'));
        if (root.dataset.status && isFinal(root.dataset.status)) {
            setText(mode, root.dataset.status.toUpperCase());
            return;
        }
        link = follow(root.dataset.stream, false, function (kind, s) { render(s); }, setMode, function () {
            return fetchJson(root.dataset.poll).then(render);
        });
    }

    // ---- The Ingest page: every session, over one multiplexed stream -------------------------------------

    function ingestPage(root) {
        var sessions = {};
        var running = document.getElementById('ingestlite-running');
        var none = document.getElementById('ingestlite-none');
        var finished = document.querySelector('#ingestlite-finished tbody');
        var mode = document.querySelector('.page-header [data-field="mode"]');

        function offer(s) {
            if (!s || !s.session_id) {
                return;
            }
            var known = sessions[s.session_id];
            if (known && known.seq >= s.seq) {
                return;
            }
            sessions[s.session_id] = s;
            if (isFinal(s.status)) {
                removeRunning(s.session_id);
                renderFinished();
            } else {
                renderRunning(s);
                if (known && isFinal(known.status)) {
                    renderFinished();
                }
            }
            none.hidden = running.children.length > 0;
        }

        function removeRunning(id) {
            var item = document.getElementById('ingestlite-session-' + id);
            if (item) {
                item.remove();
            }
        }

        function jobLink(s, text) {
            var a = document.createElement('a');
            a.textContent = text;
            a.href = s.job_id ? root.dataset.job + encodeURIComponent(s.job_id) : root.dataset.app + '?session=' + encodeURIComponent(s.session_id);
            return a;
        }

        function renderRunning(s) {
            var item = document.getElementById('ingestlite-session-' + s.session_id);
            if (!item) {
                item = document.createElement('li');
                item.id = 'ingestlite-session-' + s.session_id;
                item.className = 'ingestlite-session';
                item.dataset.session = s.session_id;
                var head = document.createElement('div');
                head.className = 'ingestlite-session-head';
                var name = document.createElement('span');
                name.className = 'ingestlite-name';
                var cancel = document.createElement('button');
                cancel.type = 'button';
                cancel.className = 'btn btn-xs btn-danger ingestlite-cancel';
                cancel.textContent = 'Cancel';
                cancel.addEventListener('click', function () {
                    cancel.disabled = true;
                    fetch(root.dataset.cancel + encodeURIComponent(s.session_id), { method: 'POST', headers: csrfHeaders() })
                        .then(function (response) { cancel.disabled = response.ok; })
                        .catch(function () { cancel.disabled = false; });
                });
                head.appendChild(name);
                head.appendChild(cancel);
                var progress = document.createElement('div');
                progress.className = 'progress ingestlite-progress';
                var bar = document.createElement('div');
                bar.className = 'progress-bar';
                bar.setAttribute('role', 'progressbar');
                bar.setAttribute('aria-valuemin', '0');
                bar.setAttribute('aria-valuemax', '100');
                progress.appendChild(bar);
                var line = document.createElement('p');
                line.className = 'ingestlite-line';
                ['percent', 'files', 'rate', 'eta', 'current'].forEach(function (n, i) {
                    if (i > 0) {
                        line.appendChild(document.createTextNode(' · '));
                    }
                    var span = document.createElement(n === 'percent' ? 'strong' : 'span');
                    span.dataset.field = n;
                    line.appendChild(span);
                });
                item.appendChild(head);
                item.appendChild(progress);
                item.appendChild(line);
                running.appendChild(item);
            }
            var nameNode = item.querySelector('.ingestlite-name');
            nameNode.replaceChildren(jobLink(s, 'Session ' + s.session_id.slice(0, 8)), document.createTextNode(' ' + statusText(s)));
            var value = percentOf(s);
            setBar(item.querySelector('.progress-bar'), value);
            setText(field(item, 'percent'), value + '%');
            setText(field(item, 'files'), count(s.processed_files) + ' / ' + count(s.total_files) + ' files');
            setText(field(item, 'rate'), s.files_per_second > 0 ? s.files_per_second.toFixed(1) + ' files/s' : '—');
            setText(field(item, 'eta'), s.eta_seconds !== null && s.eta_seconds !== undefined ? duration(s.eta_seconds) + ' left' : '—');
            setText(field(item, 'current'), s.current_path || '—');
            item.dataset.status = s.status;
            item.dataset.updatedAt = s.updated_at;
            item.dataset.seq = String(s.seq);
        }

        function renderFinished() {
            var done = Object.keys(sessions).map(function (id) { return sessions[id]; })
                .filter(function (s) { return isFinal(s.status); })
                .sort(function (a, b) { return Date.parse(b.start_time) - Date.parse(a.start_time); })
                .slice(0, 20);
            finished.replaceChildren.apply(finished, done.map(function (s) {
                var row = document.createElement('tr');
                row.dataset.session = s.session_id;
                row.dataset.status = s.status;
                var stats = s.stats || {};
                var seconds = s.end_time ? (Date.parse(s.end_time) - Date.parse(s.start_time)) / 1000 : null;
                var cells = [null, s.status, count(s.processed_files) + ' / ' + count(s.total_files), count(stats.committed_files), count(stats.errors),
                    duration(seconds), s.end_time ? new Date(s.end_time).toLocaleString() : '—'];
                cells.forEach(function (text, i) {
                    var cell = document.createElement('td');
                    if (i === 0) {
                        cell.appendChild(jobLink(s, s.session_id.slice(0, 8)));
                    } else {
                        cell.textContent = text;
                    }
                    row.appendChild(cell);
                });
                return row;
            }));
        }

        (parse(root.dataset.sessions || '[]') || []).forEach(offer);
        follow(root.dataset.stream, true, function (kind, payload) {
            if (kind === 'removed') {
                removeRunning(payload.session_id);
                delete sessions[payload.session_id];
                renderFinished();
                none.hidden = running.children.length > 0;
                return;
            }
            offer(payload);
        }, function (text) { setText(mode, text); }, function () {
            return fetchJson(root.dataset.poll).then(function (list) { (list || []).forEach(offer); });
        });
    }

    // ---- The Processing jobs list: each ingest's % ---------------------------------------------------------

    function processingList() {
        var base = dashboardBase();
        var marks = {};
        document.querySelectorAll('a[href*="/jobs/details/"]').forEach(function (a) {
            var id = decodeURIComponent(a.getAttribute('href').split('/jobs/details/')[1] || '');
            if (!id || marks[id]) {
                return;
            }
            var mark = document.createElement('span');
            mark.className = 'label label-info ingestlite-pct';
            mark.dataset.job = id;
            mark.hidden = true;
            a.parentNode.insertBefore(mark, a.nextSibling);
            marks[id] = mark;
        });
        if (!base || Object.keys(marks).length === 0) {
            return;
        }
        var seqs = {};
        function show(s) {
            var mark = s && s.job_id ? marks[s.job_id] : null;
            if (!mark || (seqs[s.session_id] || -1) >= s.seq) {
                return;
            }
            seqs[s.session_id] = s.seq;
            mark.hidden = false;
            setText(mark, isFinal(s.status) ? s.status : percentOf(s) + '%');
            mark.dataset.seq = String(s.seq);
        }
        follow(base + '/ingest/stream', true, function (kind, payload) {
            if (kind !== 'removed') {
                show(payload);
            }
        }, function () {}, function () {
            return fetchJson(base + '/ingest/sessions').then(function (list) { (list || []).forEach(show); });
        });
    }

    function start() {
        var panel = document.getElementById('ingestlite-job');
        if (panel) {
            jobPanel(panel);
        }
        var page = document.getElementById('ingestlite-dashboard');
        if (page) {
            ingestPage(page);
        }
        if (/\/jobs\/processing\/?$/.test(window.location.pathname)) {
            processingList();
        }
    }

    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', start);
    } else {
        start();
    }
})();
