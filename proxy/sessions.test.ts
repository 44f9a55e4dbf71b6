import { describe, expect, it } from "vitest";
import { SessionRegistry, type SessionEvent } from "./sessions";

const info = (backendThreadId: number) => ({ projectId: "p", computeId: "c", backendThreadId });

describe("SessionRegistry across workers", () => {
  it("hands each worker its own ids, and learns the other workers' sessions from their events", () => {
    const events: SessionEvent[] = [];
    const w0 = new SessionRegistry({ first: 1, step: 2, publish: (e) => events.push(e) });
    const w1 = new SessionRegistry({ first: 2, step: 2, publish: (e) => events.push(e) });
    const ids0 = [w0.allocateId(), w0.allocateId(), w0.allocateId()];
    const ids1 = [w1.allocateId(), w1.allocateId(), w1.allocateId()];
    expect(ids0).toEqual([1, 3, 5]);
    expect(ids1).toEqual([2, 4, 6]);

    w0.register(3, info(77));
    for (const e of events.splice(0)) w1.applyRemote(e);
    expect(w1.get(3)).toEqual(info(77));
    w0.unregister(3);
    for (const e of events.splice(0)) w1.applyRemote(e);
    expect(w1.get(3)).toBeUndefined();
  });

  it("wraps around below 2^31 and stays in its residue class", () => {
    const r = new SessionRegistry({ first: 2, step: 3 });
    let last = 0;
    for (let i = 0; i < 5; i++) last = r.allocateId();
    expect(last).toBe(14);
    const far = new SessionRegistry({ first: 2, step: 0x40000000 });
    expect([far.allocateId(), far.allocateId(), far.allocateId()]).toEqual([2, 2 + 0x40000000, 2]);
  });
});
