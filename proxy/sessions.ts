import crypto from "node:crypto";
import { KILLED_BY_OWNER, PROXY_SLOTS, PROXY_SLOT_SIZE } from "@/server/proxy-activity/constants";
import type { KillScope } from "@/server/proxy-activity/owner-channel";

// This proxy process's live sessions by the connection id it gave each client, so `KILL [QUERY] <id>` can
// be translated to the compute's own thread id. Ids come from the process's slot (a block of 2^20 ids no
// other proxy process uses, given at registration), so an id names its owner: a KILL for an id of another
// slot is asked of that slot's process (proxy/kill-router.ts), which answers from this registry
// (`answer`). Only the owner knows its sessions; nobody keeps a copy that could lag.

export interface SessionInfo {
  projectId: string;
  computeId: string;
  /** The thread id of the session on the compute (from the compute's greeting); null while it is parked. */
  backendThreadId: number | null;
  /** A parked session's end at a KILL CONNECTION (its client is told, as MariaDB tells a killed one). */
  kill?: () => void;
}

/** The slot (owner) a connection id belongs to. */
export function slotOf(id: number): number {
  return Math.floor(id / PROXY_SLOT_SIZE);
}

export class SessionRegistry {
  /** Until the proxy has registered (the database was down at start): a random block. */
  private slot = crypto.randomInt(1, PROXY_SLOTS);
  private next = 1;
  private readonly sessions = new Map<number, SessionInfo>();

  /** Hand out ids from this slot's block from now on. */
  setSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= PROXY_SLOTS) throw new RangeError(`invalid proxy slot ${slot}`);
    this.slot = slot;
  }

  get currentSlot(): number {
    return this.slot;
  }

  /** Whether the id is in this process's block (not open here means not open anywhere). */
  owns(id: number): boolean {
    return slotOf(id) === this.slot;
  }

  allocateId(): number {
    const id = this.slot * PROXY_SLOT_SIZE + this.next;
    this.next = this.next === PROXY_SLOT_SIZE - 1 ? 1 : this.next + 1;
    return id;
  }

  register(id: number, info: SessionInfo): void {
    this.sessions.set(id, info);
  }

  unregister(id: number): void {
    this.sessions.delete(id);
  }

  get(id: number): SessionInfo | undefined {
    return this.sessions.get(id);
  }

  /**
   * The owner's answer to a KILL: the compute thread id of session `id` if it is open here and belongs to
   * the asker's project and compute, else null (the asker answers 1094 either way, so another project's
   * sessions are neither reached nor revealed). A parked session has no compute thread: the owner ends it
   * here (KILL CONNECTION) or leaves it (KILL QUERY: nothing runs) and answers KILLED_BY_OWNER.
   */
  answer(id: number, scope: KillScope): number | null {
    const session = this.sessions.get(id);
    if (!session || session.projectId !== scope.projectId || session.computeId !== scope.computeId) return null;
    if (session.backendThreadId !== null) return session.backendThreadId;
    if (!scope.queryOnly) session.kill?.();
    return KILLED_BY_OWNER;
  }

  get size(): number {
    return this.sessions.size;
  }
}
