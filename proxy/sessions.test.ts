import { describe, expect, it } from "vitest";
import { PROXY_SLOT_SIZE } from "@/server/proxy-activity/constants";
import { SessionRegistry, type SessionEvent } from "./sessions";

const info = (backendThreadId: number) => ({ projectId: "p", computeId: "c", backendThreadId });

describe("SessionRegistry", () => {
  it("hands out ids from its slot's block, and wraps within it below 2^31", () => {
    const r = new SessionRegistry();
    r.setSlot(3);
    expect([r.allocateId(), r.allocateId()]).toEqual([3 * PROXY_SLOT_SIZE + 1, 3 * PROXY_SLOT_SIZE + 2]);
    const last = new SessionRegistry();
    last.setSlot(2047);
    let id = 0;
    for (let i = 0; i < PROXY_SLOT_SIZE - 1; i++) id = last.allocateId();
    expect(id).toBe(2 ** 31 - 1);
    expect(last.allocateId()).toBe(2047 * PROXY_SLOT_SIZE + 1);
    expect(() => r.setSlot(2048)).toThrow(RangeError);
  });

  it("learns the other workers' sessions from their events", () => {
    const events: SessionEvent[] = [];
    const w0 = new SessionRegistry({ publish: (e) => events.push(e) });
    const w1 = new SessionRegistry();
    w0.register(3, info(77));
    for (const e of events.splice(0)) w1.applyRemote(e);
    expect(w1.get(3)).toEqual(info(77));
    w0.unregister(3);
    for (const e of events.splice(0)) w1.applyRemote(e);
    expect(w1.get(3)).toBeUndefined();
  });
});
