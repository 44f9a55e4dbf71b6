import type { KillScope } from "@/server/proxy-activity/owner-channel";
import type { SiblingQuestion } from "./sibling-asks";

// The primary's side of the workers' questions about each other's sessions (proxy/sibling-asks.ts): it
// knows which worker holds which slot, passes a question to the slot's worker under a number of its own,
// and the answer back to the asker. A question whose worker is gone, or dies before answering, is answered
// null at once, so a KILL for a dead worker's session gets 1094 without waiting.

/** Longer than any asker waits (proxy/sibling-asks.ts). */
const FORGET_AFTER_MS = 10_000;

export type RelayMessage =
  | { type: "msl:slots"; slots: number[] }
  | { type: "msl:ask"; ask: number; id: number; scope: KillScope }
  | { type: "msl:answer"; ask: number; threadId: number | null };

export class AskRelay {
  private readonly slots = new Map<number, number>();
  private next = 1;
  /** Questions passed on: the relay's number -> who asked (worker, its number) and who must answer. */
  private readonly passed = new Map<number, { from: number; ask: number; owner: number; at: number }>();

  constructor(private readonly send: (worker: number, message: RelayMessage) => void) {}

  /** The workers that exist now (each is told its siblings' slots). */
  private announce(workers: Iterable<number>): void {
    for (const worker of workers) {
      const slots = [...this.slots].filter(([index]) => index !== worker).map(([, slot]) => slot);
      this.send(worker, { type: "msl:slots", slots });
    }
  }

  /** Worker `index` holds `slot` now; `workers` are all live workers, told of the change. */
  setSlot(index: number, slot: number, workers: Iterable<number>): void {
    this.slots.set(index, slot);
    this.announce(workers);
  }

  /** A new worker is ready: tell it its siblings' slots. */
  brief(index: number): void {
    this.announce([index]);
  }

  /** Worker `index` is gone: its slot is no one's, its pending questions are answered null. */
  dropWorker(index: number, workers: Iterable<number>): void {
    this.slots.delete(index);
    for (const [key, q] of this.passed) {
      if (q.owner !== index && q.from !== index) continue;
      this.passed.delete(key);
      if (q.owner === index) this.send(q.from, { type: "msl:answer", ask: q.ask, threadId: null });
    }
    this.announce(workers);
  }

  ask(from: number, question: SiblingQuestion): void {
    const owner = [...this.slots].find(([index, slot]) => slot === question.slot && index !== from)?.[0];
    if (owner === undefined) {
      this.send(from, { type: "msl:answer", ask: question.ask, threadId: null });
      return;
    }
    // Forget questions a live but stuck worker never answered (their askers have long given up).
    const now = Date.now();
    for (const [key, q] of this.passed) if (now - q.at > FORGET_AFTER_MS) this.passed.delete(key);
    const key = this.next;
    this.next = this.next >= 0x7fffffff ? 1 : this.next + 1;
    this.passed.set(key, { from, ask: question.ask, owner, at: now });
    this.send(owner, { type: "msl:ask", ask: key, id: question.id, scope: question.scope });
  }

  answer(from: number, key: number, threadId: number | null): void {
    const q = this.passed.get(key);
    if (!q || q.owner !== from) return;
    this.passed.delete(key);
    this.send(q.from, { type: "msl:answer", ask: q.ask, threadId });
  }
}
