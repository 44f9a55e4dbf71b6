import type { KillScope } from "@/server/proxy-activity/owner-channel";
import { PendingAnswers } from "@/server/proxy-activity/pending-answers";

// A cluster worker's side of asking the other workers of its proxy about their sessions (a KILL arrives on
// a new connection, which the primary may have handed to another worker than the session's): the question
// goes to the primary, which passes it to the worker holding the id's slot and its answer back
// (proxy/ask-relay.ts). The primary answers null at once when no worker holds the slot (any more).

/** A question for the worker that owns `slot`. */
export interface SiblingQuestion {
  ask: number;
  slot: number;
  id: number;
  scope: KillScope;
}

/** How long a worker waits for a sibling's answer (IPC takes well under a millisecond). */
const SIBLING_TIMEOUT_MS = 2_000;

export class SiblingAsks {
  private slots = new Set<number>();
  private readonly pending = new PendingAnswers<number | null>(SIBLING_TIMEOUT_MS, null);

  constructor(private readonly send: (question: SiblingQuestion) => void) {}

  /** The slots of this proxy's other workers, as the primary last told. */
  setSlots(slots: number[]): void {
    this.slots = new Set(slots);
  }

  has(slot: number): boolean {
    return this.slots.has(slot);
  }

  ask(slot: number, id: number, scope: KillScope): Promise<number | null> {
    const { id: ask, answer } = this.pending.open();
    this.send({ ask, slot, id, scope });
    return answer;
  }

  answered(ask: number, threadId: number | null): void {
    this.pending.settle(ask, threadId);
  }
}
