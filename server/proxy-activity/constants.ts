// Timing of the proxies' activity reports (DESIGN.md, "Proxy contract": open connections per compute and the
// last activity are reported to PostgreSQL, throttled, per proxy instance with a heartbeat).

/** How often a proxy writes its heartbeat. */
export const PROXY_HEARTBEAT_INTERVAL_MS = 2_000;

/**
 * A proxy whose heartbeat is older than this is dead: its open connections no longer count (its last
 * activity still does). Several heartbeats long, so one slow write does not make a live proxy look dead.
 */
export const PROXY_HEARTBEAT_TTL_MS = 10_000;

/** How often a proxy writes the computes whose activity changed, at most. */
export const PROXY_ACTIVITY_FLUSH_MS = 1_000;

/** A proxy reports a compute with no open connections and no activity for this long once more, then forgets it. */
export const PROXY_ACTIVITY_FORGET_MS = 60_000;

/** pruneDeadProxies' default: a proxy silent for this long is deleted with its activity rows. */
export const PROXY_PRUNE_AFTER_MS = 10 * 60_000;

/** Connection-id blocks: slot * 2^20 + n stays below 2^31, the largest id MySQL clients take. */
export const PROXY_SLOTS = 2048;
export const PROXY_SLOT_SIZE = 1 << 20;

/**
 * The owner's answer to a KILL of one of its parked sessions: it has no compute thread, so the owner did
 * what the KILL asks itself (ended it, for KILL CONNECTION; nothing, for KILL QUERY) and the asker answers
 * OK without naming a thread. Compute thread ids start at 1.
 */
export const KILLED_BY_OWNER = 0;
