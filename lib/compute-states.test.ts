import { describe, expect, it } from "vitest";
import { canTransition, COMPUTE_STATES, isTransitional, TRANSITIONS } from "./compute-states";

describe("compute state machine", () => {
  it("allows the lifecycle of DESIGN.md", () => {
    const allowed: [string, string][] = [
      ["provisioning", "running"],
      ["running", "paused"],
      ["paused", "resuming"],
      ["paused", "running"], // a thaw: the compare-and-set, then SIGCONT
      ["paused", "suspending"],
      ["running", "suspending"],
      ["suspending", "suspended"],
      ["suspended", "resuming"],
      ["resuming", "running"],
      ["running", "resuming"], // a crashed process restarted
      ["resuming", "failed"],
      ["failed", "resuming"],
      ["suspended", "deleting"],
    ];
    for (const [from, to] of allowed) {
      expect(canTransition(from as never, to as never), `${from} -> ${to}`).toBe(true);
    }
  });

  it("refuses moves that skip the work in between", () => {
    const refused: [string, string][] = [
      ["suspended", "running"], // must start the process first
      ["provisioning", "paused"],
      ["suspended", "paused"],
      ["deleting", "running"],
      ["deleting", "resuming"],
      ["running", "suspended"],
      ["running", "provisioning"],
    ];
    for (const [from, to] of refused) {
      expect(canTransition(from as never, to as never), `${from} -> ${to}`).toBe(false);
    }
  });

  it("has no way out of deleting and names only known states", () => {
    expect(TRANSITIONS.deleting).toEqual([]);
    for (const targets of Object.values(TRANSITIONS)) {
      for (const t of targets) expect(COMPUTE_STATES).toContain(t);
    }
  });

  it("knows which states are in flight", () => {
    expect(COMPUTE_STATES.filter(isTransitional)).toEqual(["provisioning", "resuming", "suspending", "deleting"]);
  });
});
