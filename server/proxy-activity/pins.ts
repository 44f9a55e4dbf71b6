// Pinned sessions (DESIGN.md's parking, issue 14): a client session idle past its park time that holds
// something that cannot be rebuilt (an open transaction, LOCK TABLES, a temporary table, ...) is not parked,
// and keeps its compute awake. Proxies report them summed by reason; the status sums those over proxies.

/** One pinned session as its proxy holds it: why it cannot park, and since when it is idle (Date.now() form). */
export interface SessionPin {
  reasons: readonly string[];
  idleSince: number;
}

/** What one pin reason amounts to: how many sessions, and since when the longest-idle of them is idle. */
export interface PinSummary {
  reason: string;
  sessions: number;
  idleSince: Date;
}

/** Most sessions first, then the longest idle, then by name (a stable order for people and for tests). */
function byWeight(a: PinSummary, b: PinSummary): number {
  return b.sessions - a.sessions || a.idleSince.getTime() - b.idleSince.getTime() || a.reason.localeCompare(b.reason);
}

/** A proxy's pinned sessions of one compute, summed by reason (a session with two reasons counts under both). */
export function summarizePins(pins: Iterable<SessionPin>): PinSummary[] {
  const byReason = new Map<string, { sessions: number; idleSince: number }>();
  for (const pin of pins) {
    for (const reason of new Set(pin.reasons)) {
      const seen = byReason.get(reason);
      byReason.set(reason, { sessions: (seen?.sessions ?? 0) + 1, idleSince: Math.min(seen?.idleSince ?? Infinity, pin.idleSince) });
    }
  }
  return [...byReason].map(([reason, v]) => ({ reason, sessions: v.sessions, idleSince: new Date(v.idleSince) })).sort(byWeight);
}

/** Several proxies' summaries of one compute as one: sessions added, the earliest idleSince kept. */
export function mergePinSummaries(lists: Iterable<readonly PinSummary[]>): PinSummary[] {
  const byReason = new Map<string, PinSummary>();
  for (const list of lists) {
    for (const pin of list) {
      const seen = byReason.get(pin.reason);
      byReason.set(pin.reason, {
        reason: pin.reason,
        sessions: (seen?.sessions ?? 0) + pin.sessions,
        idleSince: seen && seen.idleSince.getTime() < pin.idleSince.getTime() ? seen.idleSince : pin.idleSince,
      });
    }
  }
  return [...byReason.values()].sort(byWeight);
}
