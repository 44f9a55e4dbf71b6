// When a multiplexed session's reply ends, its connection is at a safe point: offered to the broker, or
// handed at once to a session waiting for one (proxy/connection-broker.ts). That is done once the replies
// read in this turn of the event loop have all been relayed (setImmediate), not right after each one.
// Handed over one by one, every reply was followed by a write that woke one mariadbd thread while the
// proxy went on reading the next reply: proxy and compute took turns per statement. Batched, the proxy
// reads what came together, then writes the next statements together. At 1,000 clients on a 0.25 CU
// compute (bench:pooling) that took 9-11 % more statements through the same CPU quota, the compute
// spending less per statement (measured alternately in one run, 2026-12-03; README, Benchmarks). A
// session's own next statement that came in the same batch simply goes on on its connection.

export interface AtSafePoint {
  atSafePoint(): void;
}

const due = new Set<AtSafePoint>();
let scheduled = false;

/** Act on `session`'s safe point after this turn's I/O (once, however many of its replies ended meanwhile). */
export function afterThisBatch(session: AtSafePoint): void {
  due.add(session);
  if (scheduled) return;
  scheduled = true;
  setImmediate(actOnSafePoints);
}

function actOnSafePoints(): void {
  scheduled = false;
  // Sessions added while this runs are served in this pass too (a Set's iteration sees them).
  for (const session of due) {
    due.delete(session);
    session.atSafePoint();
  }
}
