import crypto from "node:crypto";
import { PROXY_SLOTS, PROXY_SLOT_SIZE } from "@/server/proxy-activity/constants";

// The proxy's live sessions by the connection id it gave each client, so `KILL [QUERY] <id>` from another
// connection can be translated to the compute's own thread id. Ids come from the proxy's slot (a block of
// 2^20 ids no other proxy uses, given at registration), so an id names one session among all proxies: a
// KILL that reaches another proxy is looked up in PostgreSQL (server/proxy-activity/sessions.ts). Workers
// of one proxy (proxy/cluster.ts) also tell each other of their sessions at once (applyRemote).

export interface SessionInfo {
  projectId: string;
  computeId: string;
  /** The thread id of the session on the compute (from the compute's greeting). */
  backendThreadId: number;
}

/** A change to this worker's sessions, as told to the other workers. */
export type SessionEvent = { op: "open"; id: number; info: SessionInfo } | { op: "close"; id: number };

export interface SessionRegistryOptions {
  /** Told of every local open and close. */
  publish?: (event: SessionEvent) => void;
}

export class SessionRegistry {
  private readonly publish: ((event: SessionEvent) => void) | undefined;
  /** Until the proxy has registered (the database was down at start): a random block. */
  private slot = crypto.randomInt(1, PROXY_SLOTS);
  private next = 1;
  private readonly sessions = new Map<number, SessionInfo>();

  constructor(options: SessionRegistryOptions = {}) {
    this.publish = options.publish;
  }

  /** Hand out ids from this slot's block from now on. */
  setSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= PROXY_SLOTS) throw new RangeError(`invalid proxy slot ${slot}`);
    this.slot = slot;
  }

  /** Whether the id is in this proxy's block (a miss here is a miss everywhere). */
  owns(id: number): boolean {
    return Math.floor(id / PROXY_SLOT_SIZE) === this.slot;
  }

  allocateId(): number {
    const id = this.slot * PROXY_SLOT_SIZE + this.next;
    this.next = this.next === PROXY_SLOT_SIZE - 1 ? 1 : this.next + 1;
    return id;
  }

  register(id: number, info: SessionInfo): void {
    this.sessions.set(id, info);
    this.publish?.({ op: "open", id, info });
  }

  unregister(id: number): void {
    this.sessions.delete(id);
    this.publish?.({ op: "close", id });
  }

  /** Another worker's session opened or closed. */
  applyRemote(event: SessionEvent): void {
    if (event.op === "open") this.sessions.set(event.id, event.info);
    else this.sessions.delete(event.id);
  }

  get(id: number): SessionInfo | undefined {
    return this.sessions.get(id);
  }

  get size(): number {
    return this.sessions.size;
  }
}
