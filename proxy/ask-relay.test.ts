import { describe, expect, it } from "vitest";
import { AskRelay, type RelayMessage } from "./ask-relay";
import { SiblingAsks } from "./sibling-asks";

// Two workers of one proxy asking each other through the primary's relay, as proxy/cluster.ts wires them.

function cluster() {
  const sent: [number, RelayMessage][] = [];
  const relay = new AskRelay((worker, message) => sent.push([worker, message]));
  const asks = [0, 1].map((index) => new SiblingAsks((q) => relay.ask(index, q)));
  /** Hand the relay's messages over (to the given workers only: the others are dead). */
  const deliver = (alive = [0, 1]) => {
    for (const [worker, message] of sent.splice(0)) {
      if (!alive.includes(worker)) continue;
      if (message.type === "msl:slots") asks[worker]!.setSlots(message.slots);
      else if (message.type === "msl:answer") asks[worker]!.answered(message.ask, message.threadId);
      else relay.answer(worker, message.ask, message.id === 5 ? 77 : null); // worker 1 holds session 5
    }
  };
  return { relay, asks, deliver, sent };
}

const scope = { projectId: "p", computeId: "c" };

describe("AskRelay", () => {
  it("tells each worker its siblings' slots and passes questions to the slot's worker and answers back", async () => {
    const { relay, asks, deliver } = cluster();
    relay.setSlot(0, 10, [0, 1]);
    relay.setSlot(1, 11, [0, 1]);
    deliver();
    expect(asks[0]!.has(11)).toBe(true);
    expect(asks[0]!.has(10)).toBe(false);
    const yes = asks[0]!.ask(11, 5, scope);
    const no = asks[0]!.ask(11, 6, scope);
    deliver();
    deliver();
    expect(await yes).toBe(77);
    expect(await no).toBeNull();
  });

  it("answers null at once for a slot no worker holds, and for questions whose worker died", async () => {
    const { relay, asks, deliver } = cluster();
    relay.setSlot(0, 10, [0, 1]);
    relay.setSlot(1, 11, [0, 1]);
    deliver();
    const nobody = asks[0]!.ask(12, 5, scope);
    const pending = asks[0]!.ask(11, 5, scope);
    // Worker 1 dies before answering: its question is answered null, and its slot is forgotten.
    deliver([0]);
    relay.dropWorker(1, [0]);
    deliver([0]);
    expect(await nobody).toBeNull();
    expect(await pending).toBeNull();
    expect(asks[0]!.has(11)).toBe(false);
  });
});
