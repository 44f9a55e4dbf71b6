import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { forgetVerifiedCallers, verifiedCaller, VERIFIED_CALLER_TTL_MS } from "./verified-callers";
import type { Caller } from "./caller";

// The rules that keep "a revoked key stops working within one second": an entry serves for less than
// VERIFIED_CALLER_TTL_MS from the start of its look-up, a forget drops everything, and a look-up that was
// under way when entries were forgotten does not store what it read. (No database here: without
// DATABASE_URL the LISTEN stays unopened; test/revocation-across-replicas.int.test.ts covers it.)

const caller = (id: string): Caller => ({
  actor: `api_key:${id}`,
  userId: "u",
  email: null,
  apiKeyId: id,
  organizationIds: ["o"],
  roles: { o: "member" },
  organizationId: "o",
  role: "member",
});

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["performance"] });
  vi.stubEnv("DATABASE_URL", "");
  forgetVerifiedCallers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

describe("verified callers", () => {
  it("serve a key's caller from one look-up for less than the bound, then look it up again", async () => {
    const lookUp = vi.fn(async () => caller("k1"));
    expect(await verifiedCaller("h1", lookUp)).toMatchObject({ apiKeyId: "k1" });
    vi.advanceTimersByTime(VERIFIED_CALLER_TTL_MS - 1);
    await verifiedCaller("h1", lookUp);
    expect(lookUp).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    await verifiedCaller("h1", lookUp);
    expect(lookUp).toHaveBeenCalledTimes(2);
  });

  it("share one look-up between concurrent requests, and remember no refusal", async () => {
    const lookUp = vi.fn(async () => caller("k2"));
    await Promise.all([verifiedCaller("h2", lookUp), verifiedCaller("h2", lookUp), verifiedCaller("h2", lookUp)]);
    expect(lookUp).toHaveBeenCalledTimes(1);
    const refuse = vi.fn(async (): Promise<Caller> => {
      throw new Error("revoked");
    });
    await expect(verifiedCaller("h3", refuse)).rejects.toThrow("revoked");
    await expect(verifiedCaller("h3", refuse)).rejects.toThrow("revoked");
    expect(refuse).toHaveBeenCalledTimes(2);
  });

  it("drop everything on a forget, and keep out what a look-up under way at that moment read", async () => {
    const lookUp = vi.fn(async () => caller("k4"));
    await verifiedCaller("h4", lookUp);
    forgetVerifiedCallers();
    await verifiedCaller("h4", lookUp);
    expect(lookUp).toHaveBeenCalledTimes(2);

    let finish: (c: Caller) => void = () => {};
    const slow = vi.fn(() => new Promise<Caller>((resolve) => (finish = resolve)));
    const pending = verifiedCaller("h5", slow);
    forgetVerifiedCallers(); // e.g. the key was revoked while its row was being read
    finish(caller("k5"));
    await pending;
    const again = vi.fn(async () => caller("k5"));
    await verifiedCaller("h5", again);
    expect(again).toHaveBeenCalledTimes(1);
  });

  it("hand out callers that cannot be changed by one request for the next", async () => {
    const shared = await verifiedCaller("h6", async () => caller("k6"));
    expect(Object.isFrozen(shared) && Object.isFrozen(shared.roles) && Object.isFrozen(shared.organizationIds)).toBe(true);
  });
});
