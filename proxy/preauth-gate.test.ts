import { describe, expect, it, vi } from "vitest";
import { ClientError } from "./client-error";
import { PreAuthGate, type PreAuthTicket } from "./preauth-gate";

const admitted = (t: PreAuthTicket | ClientError): PreAuthTicket => {
  if (t instanceof ClientError) throw t;
  return t;
};

describe("PreAuthGate", () => {
  it("caps unauthenticated connections per address and frees a slot on release", () => {
    const gate = new PreAuthGate({ perAddress: 2, max: 10 });
    const a = admitted(gate.admit("a"));
    admitted(gate.admit("a"));
    const third = gate.admit("a");
    expect(third).toBeInstanceOf(ClientError);
    expect((third as ClientError).code).toBe(1040);
    admitted(gate.admit("b"));
    a.release();
    a.release(); // idempotent
    admitted(gate.admit("a"));
    expect(gate.pending).toBe(3);
  });

  it("caps them in all", () => {
    const gate = new PreAuthGate({ perAddress: 100, max: 2 });
    admitted(gate.admit("a"));
    admitted(gate.admit("b"));
    expect((gate.admit("c") as ClientError).message).toContain("at most 2");
  });

  it("counts the connections other workers hold, and tells them of its own", () => {
    const told: [string, number][] = [];
    const w0 = new PreAuthGate({ perAddress: 3, max: 100, publish: (a, d) => told.push([a, d]) });
    const w1 = new PreAuthGate({ perAddress: 3, max: 100 });
    const t = admitted(w0.admit("a"));
    admitted(w0.admit("a"));
    for (const [a, d] of told.splice(0)) w1.applyRemote(a, d);
    admitted(w1.admit("a"));
    expect(w1.admit("a")).toBeInstanceOf(ClientError);
    t.release();
    for (const [a, d] of told.splice(0)) w1.applyRemote(a, d);
    admitted(w1.admit("a"));
  });

  it("tells the net change per address once per publishAfterMs: a login verified within it is never told", () => {
    vi.useFakeTimers();
    try {
      const told: [string, number][] = [];
      const gate = new PreAuthGate({ perAddress: 10, max: 100, publish: (a, d) => told.push([a, d]), publishAfterMs: 10 });
      admitted(gate.admit("a")).release();
      const held = [admitted(gate.admit("a")), admitted(gate.admit("a")), admitted(gate.admit("b"))];
      expect(told).toEqual([]);
      vi.advanceTimersByTime(10);
      expect(told.splice(0)).toEqual([["a", 2], ["b", 1]]);
      for (const ticket of held) ticket.release();
      vi.advanceTimersByTime(10);
      expect(told).toEqual([["a", -2], ["b", -1]]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("tells a burst from one address at every change", () => {
    vi.useFakeTimers();
    try {
      const told: [string, number][] = [];
      const gate = new PreAuthGate({ perAddress: 100, max: 100, publish: (a, d) => told.push([a, d]), publishAfterMs: 10 });
      const held = Array.from({ length: 9 }, () => admitted(gate.admit("c")));
      // The first seven wait for the timer; the eighth in progress tells all eight at once, the ninth itself.
      expect(told.splice(0)).toEqual([["c", 8], ["c", 1]]);
      held.pop()!.release();
      expect(told.splice(0)).toEqual([["c", -1]]);
      held.pop()!.release();
      expect(told).toEqual([]);
      vi.advanceTimersByTime(10);
      expect(told).toEqual([["c", -1]]);
    } finally {
      vi.useRealTimers();
    }
  });
});
