import { describe, expect, it } from "vitest";
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
});
