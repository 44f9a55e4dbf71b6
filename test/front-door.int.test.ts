import crypto from "node:crypto";
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppReplica, type AppReplica } from "./app-replica";
import { postHuge, request } from "./http-client";

// The front doors with the shipped defaults: at least 10 sign-ups and 20 failed sign-ins per address an
// hour, 5 failed sign-ins per account, then backoff with a retry time; bodies over 64 KiB refused with 413
// before they are buffered. The test product lets other tests sign up freely from 127.0.0.1, so these run
// against a second app process on the same database, started with the defaults. Each test is a client
// address of its own (all of 127/8 is loopback).

let app: AppReplica;
let port: number;

const newAddress = () => `127.${crypto.randomInt(50, 250)}.${crypto.randomInt(0, 256)}.${crypto.randomInt(1, 255)}`;
const newEmail = () => `fd-${crypto.randomBytes(6).toString("hex")}@example.com`;
const PASSWORD = "correct horse battery staple";

beforeAll(async () => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.SIGNUPS_PER_ADDRESS;
  delete env.SIGNIN_FAILURES_PER_ADDRESS;
  app = await startAppReplica(env);
  port = app.port;
});

afterAll(() => {
  app?.stop();
});

function signUp(email: string, localAddress: string, headers: Record<string, string> = {}) {
  return request({
    port,
    method: "POST",
    path: "/api/v1/signup",
    localAddress,
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
}

/** Auth.js credentials sign-in from localAddress: a session, or the error code Auth.js redirected with. */
async function signIn(email: string, password: string, localAddress: string): Promise<{ ok: boolean; code: string | null }> {
  const csrf = await request({ port, path: "/api/auth/csrf", localAddress });
  const { csrfToken } = csrf.json() as { csrfToken: string };
  const cookie = (csrf.headers["set-cookie"] ?? []).map((c) => c.split(";")[0]).join("; ");
  const res = await request({
    port,
    method: "POST",
    path: "/api/auth/callback/credentials",
    localAddress,
    headers: { "content-type": "application/x-www-form-urlencoded", cookie },
    body: new URLSearchParams({ csrfToken, email, password, callbackUrl: `http://127.0.0.1:${port}` }).toString(),
  });
  const ok = (res.headers["set-cookie"] ?? []).some((c) => c.startsWith("authjs.session-token="));
  const location = res.headers.location ?? "";
  return { ok, code: ok ? null : new URL(location, "http://x").searchParams.get("code") };
}

const retrySeconds = (code: string | null) => Number(/^rate_limited:(\d+)$/.exec(code ?? "")?.[1] ?? NaN);

function rssBytes(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kb) * 1024;
}

describe("front doors", () => {
  it("backs off failed sign-ins per account, from any address, and says when to retry", async () => {
    const email = newEmail();
    expect((await signUp(email, newAddress())).status).toBe(201);
    const guesser = newAddress();
    const codes: (string | null)[] = [];
    for (let i = 0; i < 12 && !codes.at(-1)?.startsWith("rate_limited"); i++) codes.push((await signIn(email, `wrong-${i}`, guesser)).code);
    // Five failures are free; past them the account is backed off, with the wait in the code.
    expect(codes.slice(0, 5)).toEqual(Array(5).fill("credentials"));
    expect(codes.at(-1)).toMatch(/^rate_limited:\d+$/);
    // While backed off even the right password is refused, from another address too.
    const refused = await signIn(email, PASSWORD, newAddress());
    expect(refused.ok).toBe(false);
    expect(retrySeconds(refused.code)).toBeGreaterThanOrEqual(1);
    // After the wait the owner gets in.
    await new Promise((r) => setTimeout(r, retrySeconds(refused.code) * 1000 + 200));
    expect((await signIn(email, PASSWORD, newAddress())).ok).toBe(true);
  });

  it("backs off an address after 20 failed sign-ins an hour, whoever it guesses", async () => {
    const email = newEmail();
    expect((await signUp(email, newAddress())).status).toBe(201);
    const address = newAddress();
    const codes: (string | null)[] = [];
    for (let i = 0; i < 26 && !codes.at(-1)?.startsWith("rate_limited"); i++) codes.push((await signIn(newEmail(), "wrong password", address)).code);
    expect(codes.slice(0, 20)).toEqual(Array(20).fill("credentials"));
    expect(codes.at(-1)).toMatch(/^rate_limited:\d+$/);
    // The right password from the backed-off address waits too; from another address it works.
    expect(retrySeconds((await signIn(email, PASSWORD, address)).code)).toBeGreaterThanOrEqual(1);
    expect((await signIn(email, PASSWORD, newAddress())).ok).toBe(true);
  });

  it("limits sign-ups per address (a forged X-Forwarded-For changes nothing) with 429, Retry-After and the wait", async () => {
    const address = newAddress();
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof signUp>> | undefined;
    for (let i = 0; i < 14 && !limited; i++) {
      const res = await signUp(newEmail(), address, { "x-forwarded-for": newAddress() });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(201));
    expect(limited, `statuses ${statuses.join(",")}`).toBeDefined();
    const body = limited!.json() as { error: { code: string; message: string; details: { retryAfterSeconds: number }[] } };
    const wait = body.error.details[0]!.retryAfterSeconds;
    expect(body.error.code).toBe("rate_limited");
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(body.error.message).toMatch(/try again in \d+ seconds? \(at \d{4}-\d\d-\d\dT/);
    expect(limited!.headers["retry-after"]).toBe(String(wait));
    // Another address is not affected.
    expect((await signUp(newEmail(), newAddress())).status).toBe(201);
  });

  it("makes asking whether an email is taken cost as much as guessing its password", async () => {
    const email = newEmail();
    expect((await signUp(email, newAddress())).status).toBe(201);
    const prober = newAddress();
    const statuses: number[] = [];
    for (let i = 0; i < 10 && statuses.at(-1) !== 429; i++) statuses.push((await signUp(email, prober)).status);
    // The account's five free failures, then the same backoff as wrong passwords.
    expect(statuses.slice(0, 5)).toEqual(Array(5).fill(409));
    expect(statuses.at(-1)).toBe(429);
    // The probes count against the account like failed sign-ins.
    expect(retrySeconds((await signIn(email, PASSWORD, newAddress())).code)).toBeGreaterThanOrEqual(1);
  });

  it("refuses bodies over 64 KiB with 413 before buffering them, and the app's memory stays put", async () => {
    const pid = app.child.pid!;
    // Warm up: the routes' code is loaded on first use, which costs memory of its own.
    expect((await signUp("not-an-email", newAddress())).status).toBe(422);
    await signIn(newEmail(), "warm-up", newAddress());
    const before = rssBytes(pid);
    const huge = 400 * 1024 * 1024;
    const results = [];
    for (const chunked of [false, true]) {
      results.push(await postHuge({ port, path: "/api/v1/signup", totalBytes: huge, chunked, contentType: "application/json" }));
      results.push(await postHuge({ port, path: "/api/auth/callback/credentials", totalBytes: huge, chunked, contentType: "application/x-www-form-urlencoded" }));
    }
    expect(results.map((r) => r.status)).toEqual([413, 413, 413, 413]);
    const grown = rssBytes(pid) - before;
    expect(grown, `RSS grew by ${Math.round(grown / 1048576)} MiB`).toBeLessThan(48 * 1024 * 1024);
    // A body just under the cap is still read (and judged on its content).
    const padded = JSON.stringify({ email: "x", password: "y", name: "n".repeat(60 * 1024) });
    const res = await request({ port, method: "POST", path: "/api/v1/signup", headers: { "content-type": "application/json" }, body: padded, localAddress: newAddress() });
    expect(res.status).toBe(422);
    const big = await request({ port, method: "POST", path: "/api/v1/signup", headers: { "content-type": "application/json" }, body: padded + " ".repeat(8 * 1024), localAddress: newAddress() });
    expect(big.status).toBe(413);
    expect(big.json()).toMatchObject({ error: { code: "payload_too_large" } });
  });
});
