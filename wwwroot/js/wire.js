// The wire format of progress, as the browser reads it: the twin of Progress/ProgressWire.cs (a unit test
// checks that both say the same). Event names, the final states, and event data. No DOM code here.

/** The named events of the streams; a heartbeat only says the connection lives. */
export const Events = Object.freeze({
    PROGRESS: 'progress',
    DONE: 'done',
    HEARTBEAT: 'heartbeat',
    REMOVED: 'removed',
});

/** The events that carry a session's state (a snapshot, or the `{session_id}` of a deleted one). */
export const STATE_EVENTS = Object.freeze([Events.PROGRESS, Events.DONE, Events.REMOVED]);

/**
 * Nothing runs for a session in one of these states: its stream ends. It may run again when resumed
 * (cancelled, interrupted) or committed (a deferred session that completed, or whose commit failed).
 */
export const FINAL_STATES = Object.freeze(['completed', 'error', 'cancelled', 'interrupted', 'committed', 'commit_error']);

export function isFinal(status) {
    return FINAL_STATES.includes(status);
}

/** A deferred session whose staged files wait for a commit (its first, or another after a failed one). */
export function awaitsCommit(snapshot) {
    return snapshot?.commit_mode === 'deferred' && (snapshot.status === 'completed' || snapshot.status === 'commit_error');
}

/** An event's data as an object (a snapshot, or `{session_id}` for removed); null when it is not JSON. */
export function parseEventData(data) {
    try {
        return JSON.parse(data);
    } catch {
        return null;
    }
}
