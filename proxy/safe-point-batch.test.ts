import { describe, expect, it } from "vitest";
import { afterThisBatch } from "./safe-point-batch";

describe("safe points, acted on once per turn of the event loop", () => {
  it("waits until this turn's work is done, acts once per session however often its replies ended, and keeps the order", async () => {
    const acted: string[] = [];
    const session = (name: string) => ({ atSafePoint: () => acted.push(name) });
    const [a, b] = [session("a"), session("b")];
    afterThisBatch(a);
    afterThisBatch(b);
    afterThisBatch(a); // a second reply of a in the same turn
    await Promise.resolve(); // microtasks of this turn: not yet
    expect(acted).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(acted).toEqual(["a", "b"]);
    // A later turn acts again.
    afterThisBatch(b);
    await new Promise((resolve) => setImmediate(resolve));
    expect(acted).toEqual(["a", "b", "b"]);
  });

  it("serves a safe point reached while acting on others in the same pass", async () => {
    const acted: string[] = [];
    const late = { atSafePoint: () => acted.push("late") };
    afterThisBatch({ atSafePoint: () => (acted.push("first"), afterThisBatch(late)) });
    await new Promise((resolve) => setImmediate(resolve));
    expect(acted).toEqual(["first", "late"]);
  });
});
