import { describe, expect, it } from "vitest";
import { KILLED_BY_OWNER, PROXY_SLOT_SIZE } from "@/server/proxy-activity/constants";
import { SessionRegistry, slotOf } from "./sessions";

describe("SessionRegistry", () => {
  it("hands out ids from its slot's block, and wraps within it below 2^31", () => {
    const r = new SessionRegistry();
    r.setSlot(3);
    expect([r.allocateId(), r.allocateId()]).toEqual([3 * PROXY_SLOT_SIZE + 1, 3 * PROXY_SLOT_SIZE + 2]);
    expect(slotOf(3 * PROXY_SLOT_SIZE + 2)).toBe(3);
    const last = new SessionRegistry();
    last.setSlot(2047);
    let id = 0;
    for (let i = 0; i < PROXY_SLOT_SIZE - 1; i++) id = last.allocateId();
    expect(id).toBe(2 ** 31 - 1);
    expect(slotOf(id)).toBe(2047);
    expect(last.allocateId()).toBe(2047 * PROXY_SLOT_SIZE + 1);
    expect(() => r.setSlot(2048)).toThrow(RangeError);
  });

  it("answers a KILL only for an open session of the asker's project and compute", () => {
    const r = new SessionRegistry();
    r.setSlot(4);
    const id = r.allocateId();
    r.register(id, { projectId: "p", computeId: "c", backendThreadId: 77 });
    expect(r.answer(id, { projectId: "p", computeId: "c" })).toBe(77);
    expect(r.answer(id, { projectId: "q", computeId: "c" })).toBeNull();
    expect(r.answer(id, { projectId: "p", computeId: "d" })).toBeNull();
    expect(r.answer(id + 1, { projectId: "p", computeId: "c" })).toBeNull();
    r.unregister(id);
    expect(r.answer(id, { projectId: "p", computeId: "c" })).toBeNull();
  });

  it("kills a parked session itself for KILL CONNECTION, leaves it for KILL QUERY, and answers KILLED_BY_OWNER", () => {
    const r = new SessionRegistry();
    const id = r.allocateId();
    const kills: number[] = [];
    r.register(id, { projectId: "p", computeId: "c", backendThreadId: null, kill: () => kills.push(id) });
    expect(r.answer(id, { projectId: "p", computeId: "c", queryOnly: true })).toBe(KILLED_BY_OWNER);
    expect(kills).toEqual([]);
    expect(r.answer(id, { projectId: "q", computeId: "c" })).toBeNull();
    expect(kills).toEqual([]);
    expect(r.answer(id, { projectId: "p", computeId: "c" })).toBe(KILLED_BY_OWNER);
    expect(kills).toEqual([id]);
  });
});
