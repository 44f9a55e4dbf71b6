import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, join, newTenant, type Tenant } from "./api";
import { startAppReplica, type AppReplica } from "./app-replica";

// Two app replicas on one PostgreSQL (the test product's app, and a second one started here). Each replica
// may keep the callers behind API keys for a moment (server/tenancy/verified-callers.ts); the contract is
// that a key revoked through one replica stops working within one second on every replica, and so do the
// keys of a removed member, and a demoted member's keys lose their rights as fast. The other replica is
// asked until it refuses; the test fails if it still accepts the key CHECK_AFTER_MS after the change was
// answered (the contract's second plus slack for a loaded machine's scheduling, never less).

const CONTRACT_MS = 1_000;
const CHECK_AFTER_MS = 1_200;
const POLL_MS = 50;

let other: AppReplica;

beforeAll(async () => {
  other = await startAppReplica();
}, 90_000);

afterAll(() => {
  other?.stop();
});

/**
 * Ask `probe` until it no longer returns `accepted`, starting right after a change was answered. Returns
 * the last status seen; fails if the replica still answered `accepted` once CHECK_AFTER_MS had passed.
 */
async function refusedWithinContract(probe: () => Promise<number>, accepted: number): Promise<number> {
  const changedAt = Date.now();
  for (;;) {
    const askedAt = Date.now();
    const status = await probe();
    if (status !== accepted) return status;
    if (askedAt - changedAt >= CHECK_AFTER_MS) {
      throw new Error(`the other replica still accepted the credential ${askedAt - changedAt} ms after the change (contract: ${CONTRACT_MS} ms)`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Use a key on the other replica a few times, so that it holds the verified caller when the change comes. */
async function warm(key: string, path = "/api/v1/projects") {
  for (let i = 0; i < 3; i++) expect((await call("GET", path, { key, at: other.baseUrl })).status).toBe(200);
}

async function memberIdOf(owner: Tenant, email: string): Promise<string> {
  const res = await call<{ members: { userId: string; email: string }[] }>("GET", "/api/v1/members", { key: owner.key });
  const id = res.body.members.find((m) => m.email === email)?.userId;
  if (!id) throw new Error(`${email} is not a member: ${JSON.stringify(res.body)}`);
  return id;
}

describe("API keys across app replicas", () => {
  it("a key revoked through one replica is refused by the other within a second", async () => {
    const tenant = await newTenant();
    const created = await call<{ apiKey: { id: string }; key: string }>("POST", "/api/v1/api-keys", { key: tenant.key, body: { name: "ci" } });
    expect(created.status).toBe(201);
    const key = created.body.key;
    await warm(key);
    expect((await call("GET", "/api/v1/projects", { key })).status).toBe(200);

    const revoked = await call("DELETE", `/api/v1/api-keys/${created.body.apiKey.id}`, { key: tenant.key });
    expect(revoked.status).toBe(200);
    const status = await refusedWithinContract(async () => (await call("GET", "/api/v1/projects", { key, at: other.baseUrl })).status, 200);
    expect(status).toBe(401);
    // The replica that revoked it refuses it too, and the tenant's other key still works on both.
    expect((await call("GET", "/api/v1/projects", { key })).status).toBe(401);
    expect((await call("GET", "/api/v1/projects", { key: tenant.key, at: other.baseUrl })).status).toBe(200);
  });

  it("a removed member's keys are refused by the other replica within a second, and the session at once", async () => {
    const alice = await newTenant();
    const bob = await newTenant();
    await join(alice, bob, "member");
    const bobKey = await call<{ key: string }>("POST", `/api/v1/api-keys?organizationId=${alice.organizationId}`, {
      cookie: bob.cookie,
      body: { name: "bob in alice's" },
    });
    expect(bobKey.status).toBe(201);
    await warm(bobKey.body.key);
    const aliceProjects = `/api/v1/projects?organizationId=${alice.organizationId}`;
    expect((await call("GET", aliceProjects, { cookie: bob.cookie, at: other.baseUrl })).status).toBe(200);

    const removed = await call("DELETE", `/api/v1/members/${await memberIdOf(alice, bob.email)}`, { key: alice.key });
    expect(removed.status).toBe(200);
    const status = await refusedWithinContract(async () => (await call("GET", "/api/v1/projects", { key: bobKey.body.key, at: other.baseUrl })).status, 200);
    expect(status).toBe(401);
    // Sessions are looked up at every request, on every replica.
    expect((await call("GET", aliceProjects, { cookie: bob.cookie, at: other.baseUrl })).status).toBe(404);
  });

  it("a member demoted through one replica loses its keys' rights on the other within a second", async () => {
    const alice = await newTenant();
    const bob = await newTenant();
    await join(alice, bob, "admin");
    const project = await call<{ project: { id: string } }>("POST", "/api/v1/projects", { key: alice.key, body: { name: "shared" } });
    expect(project.status).toBe(201);
    const bobKey = await call<{ key: string }>("POST", `/api/v1/api-keys?organizationId=${alice.organizationId}`, {
      cookie: bob.cookie,
      body: { name: "bob's admin key" },
    });
    expect(bobKey.status).toBe(201);
    const rename = () =>
      call("PATCH", `/api/v1/projects/${project.body.project.id}`, { key: bobKey.body.key, body: { name: "renamed" }, at: other.baseUrl });
    expect((await rename()).status).toBe(200);

    const demoted = await call("PATCH", `/api/v1/members/${await memberIdOf(alice, bob.email)}`, { key: alice.key, body: { role: "viewer" } });
    expect(demoted.status).toBe(200);
    const status = await refusedWithinContract(async () => (await rename()).status, 200);
    expect(status).toBe(403);
    // Still a viewer: it reads.
    expect((await call("GET", "/api/v1/projects", { key: bobKey.body.key, at: other.baseUrl })).status).toBe(200);
  });
});
