import { listen, type Listener } from "../db/listen";
import type { Caller } from "./caller";

// The callers behind API keys this process verified in the last second, so that a burst of calls with one
// key costs one look-up (three queries) rather than one each. The contract: a revoked key stops working
// within one second on every app replica. Two things keep it:
//   - an entry is used for at most TTL_MS after its look-up began, whatever else happens (the bound);
//   - PostgreSQL triggers (migration credential_change_notify) NOTIFY "msl_credentials_changed" when a key is
//     revoked, a member removed or demoted, a user or an organization deleted; every replica LISTENs and
//     drops all its entries at once (the usual case: revoked within milliseconds everywhere).
// This replica's own changes also drop the entries right after their commit (forgetVerifiedCallers), so the
// next request here never races the notification. A look-up that was under way when entries were dropped
// does not store its result (it may have read the row before the change).
// State lives on globalThis: Next bundles the route handlers and instrumentation separately, and a revoke in
// one must reach the entries of the other.

export const VERIFIED_CALLER_TTL_MS = 1_000;
/** Where the triggers of migration credential_change_notify announce a change (the payload: its transaction id). */
export const CREDENTIALS_CHANGED_CHANNEL = "msl_credentials_changed";
/** Past this many entries the expired ones are swept out on the next store. */
const SWEEP_AT = 10_000;

interface Entry {
  caller: Caller;
  /** performance.now() when the look-up began: the row it read is at least this fresh. */
  verifiedAt: number;
}

interface State {
  entries: Map<string, Entry>;
  inFlight: Map<string, Promise<Caller>>;
  /** Bumped whenever entries are dropped; a look-up begun under an older generation is not stored. */
  generation: number;
  listener: Listener | null;
}

const global = globalThis as unknown as { __verifiedCallers?: State };
const state = (global.__verifiedCallers ??= { entries: new Map(), inFlight: new Map(), generation: 0, listener: null });

/** Drop every cached caller (a change to keys or memberships committed, here or on another replica). */
export function forgetVerifiedCallers(): void {
  state.generation++;
  state.entries.clear();
  state.inFlight.clear();
}

function sweep(now: number): void {
  for (const [hash, entry] of state.entries) if (now - entry.verifiedAt >= VERIFIED_CALLER_TTL_MS) state.entries.delete(hash);
}

/**
 * The caller behind the key whose hash is given: from the last second's look-up when there is one, else
 * from `lookUp` (one look-up at a time per key; concurrent requests share it). A refused key (lookUp
 * throws) is not remembered.
 */
export async function verifiedCaller(keyHash: string, lookUp: () => Promise<Caller>): Promise<Caller> {
  state.listener ??= listen(CREDENTIALS_CHANGED_CHANNEL, { onNotify: forgetVerifiedCallers, onGap: forgetVerifiedCallers });
  const now = performance.now();
  const entry = state.entries.get(keyHash);
  if (entry && now - entry.verifiedAt < VERIFIED_CALLER_TTL_MS) return entry.caller;
  const pending = state.inFlight.get(keyHash);
  if (pending) return pending;

  const generation = state.generation;
  const lookup = lookUp().then(
    (caller) => {
      const frozen = Object.freeze({ ...caller, organizationIds: Object.freeze([...caller.organizationIds]), roles: Object.freeze({ ...caller.roles }) }) as Caller;
      if (state.generation === generation) {
        if (state.entries.size >= SWEEP_AT) sweep(performance.now());
        state.entries.set(keyHash, { caller: frozen, verifiedAt: now });
      }
      return frozen;
    },
  );
  state.inFlight.set(keyHash, lookup);
  try {
    return await lookup;
  } finally {
    if (state.inFlight.get(keyHash) === lookup) state.inFlight.delete(keyHash);
  }
}
