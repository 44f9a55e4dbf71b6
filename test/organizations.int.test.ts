import { execFile } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { baseUrl, call, invite, join, newTenant, signIn, type ApiResponse, type Tenant } from "./api";
import { createProjectWithCompute } from "./compute";

// Organizations, members and their roles, invitations, the audit log, API key roles and passwords, through
// the REST API as tenants use it (sessions and keys), with the exact error bodies.

let sql: pg.Client;
beforeAll(async () => {
  sql = new pg.Client({ connectionString: inject("databaseUrl") });
  await sql.connect();
});
afterAll(async () => {
  await sql.end();
});

async function userIdOf(tenant: Tenant): Promise<string> {
  const { rows } = await sql.query<{ id: string }>('SELECT id FROM "User" WHERE email = $1', [tenant.email]);
  return rows[0]!.id;
}

function expectError(res: ApiResponse, status: number, code: string, what = "") {
  expect(res.status, `${what} ${JSON.stringify(res.body)}`).toBe(status);
  const body = res.body as { error: { code: string; message: string; details: unknown[] } };
  expect(body.error.code, what).toBe(code);
  expect(typeof body.error.message).toBe("string");
  expect(Array.isArray(body.error.details)).toBe(true);
}

describe("organizations", () => {
  it("are listed with the caller's role, created by a signed-in user (its owner) and switched", async () => {
    const alice = await newTenant();
    const created = await call<{ organization: { id: string; slug: string; name: string; role: string; current: boolean } }>(
      "POST",
      "/api/v1/organizations",
      { cookie: alice.cookie, body: { name: "Second Co" } },
    );
    expect(created.status).toBe(201);
    expect(created.body.organization).toMatchObject({ name: "Second Co", role: "owner", current: true });
    const second = created.body.organization.id;

    const list = await call<{ organizations: { id: string; role: string; current: boolean }[]; currentOrganizationId: string }>(
      "GET",
      "/api/v1/organizations",
      { cookie: alice.cookie },
    );
    expect(list.body.organizations.map((o) => [o.id, o.role, o.current])).toEqual([
      [alice.organizationId, "owner", false],
      [second, "owner", true],
    ]);
    expect(list.body.currentOrganizationId).toBe(second);

    // The session acts in its current organization, or in the one it names.
    const inSecond = await call<{ project: { organizationId: string } }>("POST", "/api/v1/projects", { cookie: alice.cookie, body: { name: "two" } });
    expect(inSecond.body.project.organizationId).toBe(second);
    const inFirst = await call<{ project: { organizationId: string } }>("POST", `/api/v1/projects?organizationId=${alice.organizationId}`, {
      cookie: alice.cookie,
      body: { name: "one" },
    });
    expect(inFirst.body.project.organizationId).toBe(alice.organizationId);
    const firstList = await call<{ projects: { name: string }[] }>("GET", `/api/v1/projects?organizationId=${alice.organizationId}`, {
      cookie: alice.cookie,
    });
    expect(firstList.body.projects.map((p) => p.name)).toEqual(["one"]);

    const switched = await call<{ organization: { id: string; current: boolean } }>("PATCH", "/api/v1/organizations/current", {
      cookie: alice.cookie,
      body: { organizationId: alice.organizationId },
    });
    expect(switched.status).toBe(200);
    expect(switched.body.organization).toMatchObject({ id: alice.organizationId, current: true });
    const current = await call<{ projects: { name: string }[] }>("GET", "/api/v1/projects", { cookie: alice.cookie });
    expect(current.body.projects.map((p) => p.name)).toEqual(["one"]);

    // An API key acts in its own organization only, and cannot make organizations.
    const byKey = await call<{ organizations: { id: string }[] }>("GET", "/api/v1/organizations", { key: alice.key });
    expect(byKey.body.organizations.map((o) => o.id)).toEqual([alice.organizationId]);
    expectError(await call("POST", "/api/v1/organizations", { key: alice.key, body: { name: "x" } }), 403, "forbidden");
    expectError(await call("GET", `/api/v1/projects?organizationId=${second}`, { key: alice.key }), 404, "not_found");
  });

  it("accept cookie-authenticated changes only from the app's own origin", async () => {
    const alice = await newTenant();
    const foreign = await call("POST", "/api/v1/projects", { cookie: alice.cookie, origin: "http://evil.example", body: { name: "x" } });
    expectError(foreign, 403, "forbidden", "foreign origin");
    expectError(await call("POST", "/api/v1/projects", { cookie: alice.cookie, origin: null, body: { name: "x" } }), 403, "forbidden");
    expectError(await call("DELETE", `/api/v1/members/${await userIdOf(alice)}`, { cookie: alice.cookie, origin: null }), 403, "forbidden");
    // Reads need no Origin, nor do calls with an API key.
    expect((await call("GET", "/api/v1/projects", { cookie: alice.cookie, origin: null })).status).toBe(200);
    expect((await call("POST", "/api/v1/projects", { key: alice.key, body: { name: "x" } })).status).toBe(201);
    expect((await call("POST", "/api/v1/projects", { cookie: alice.cookie, body: { name: "y" } })).status).toBe(201);
  });
});

describe("members and roles", () => {
  it("a viewer reads everything and every change is refused with 403", async () => {
    const alice = await newTenant();
    const c = await createProjectWithCompute(alice);
    const bob = await newTenant();
    const inv = await invite({ key: alice.key }, bob.email, "viewer");
    expect(inv.invitation).toMatchObject({ email: bob.email, role: "viewer" });
    expect(typeof inv.invitation.id).toBe("string");
    expect(Date.parse(inv.invitation.expiresAt)).toBeGreaterThan(Date.now() + 6 * 86400_000);
    expect(inv.url).toBe(`${baseUrl()}/invite?token=${inv.token}`);

    const accepted = await call<{ organization: { id: string; role: string } }>("POST", "/api/v1/invitations/accept", {
      cookie: bob.cookie,
      body: { token: inv.token },
    });
    expect(accepted.status).toBe(200);
    expect(accepted.body.organization).toMatchObject({ id: alice.organizationId, role: "viewer" });

    // Accepting made Alice's organization Bob's current one; he reads everything in it.
    const orgs = await call<{ organizations: { id: string; role: string; current: boolean }[] }>("GET", "/api/v1/organizations", {
      cookie: bob.cookie,
    });
    expect(orgs.body.organizations.find((o) => o.id === alice.organizationId)).toMatchObject({ role: "viewer", current: true });
    const projects = await call<{ projects: { id: string }[] }>("GET", "/api/v1/projects", { cookie: bob.cookie });
    expect(projects.body.projects.map((p) => p.id)).toEqual([c.projectId]);
    for (const path of [
      `/api/v1/projects/${c.projectId}`,
      `/api/v1/projects/${c.projectId}/roles`,
      `/api/v1/projects/${c.projectId}/operations`,
      `/api/v1/compute/${c.computeId}/status`,
      "/api/v1/members",
      "/api/v1/invitations",
      "/api/v1/api-keys",
      "/api/v1/usage",
    ]) {
      expect((await call("GET", path, { cookie: bob.cookie })).status, path).toBe(200);
    }
    const members = await call<{ members: { userId: string; email: string; role: string }[] }>("GET", "/api/v1/members", { cookie: bob.cookie });
    expect(members.body.members.map((m) => [m.email, m.role])).toEqual([
      [alice.email, "owner"],
      [bob.email, "viewer"],
    ]);
    const aliceId = members.body.members[0]!.userId;

    const changes: [string, string, unknown?][] = [
      ["POST", "/api/v1/projects", { name: "nope" }],
      ["PATCH", `/api/v1/projects/${c.projectId}`, { name: "renamed" }],
      ["DELETE", `/api/v1/projects/${c.projectId}`],
      ["POST", `/api/v1/projects/${c.projectId}/compute`],
      ["POST", `/api/v1/compute/${c.computeId}/suspend`],
      ["POST", `/api/v1/compute/${c.computeId}/resume`],
      ["PATCH", `/api/v1/compute/${c.computeId}`, { suspendTimeoutSeconds: 0 }],
      ["DELETE", `/api/v1/compute/${c.computeId}`],
      ["POST", `/api/v1/projects/${c.projectId}/roles`, { name: "intruder" }],
      ["POST", `/api/v1/projects/${c.projectId}/roles/app/reset-password`],
      ["DELETE", `/api/v1/projects/${c.projectId}/roles/app`],
      ["POST", "/api/v1/api-keys", { name: "mine" }],
      ["POST", "/api/v1/invitations", { email: "x@example.com", role: "viewer" }],
      ["PATCH", `/api/v1/members/${aliceId}`, { role: "viewer" }],
      ["DELETE", `/api/v1/members/${aliceId}`],
      ["PATCH", "/api/v1/billing", { plan: "pro" }],
      ["DELETE", `/api/v1/invitations/${inv.invitation.id}`],
    ];
    for (const [method, path, body] of changes) {
      const res = await call(method, `${path}${path.includes("?") ? "&" : "?"}organizationId=${alice.organizationId}`, { cookie: bob.cookie, body });
      expectError(res, 403, "forbidden", `${method} ${path}`);
    }
    // Billing and the audit log are for owners and admins.
    expectError(await call("GET", "/api/v1/billing", { cookie: bob.cookie }), 403, "forbidden");
    expectError(await call("GET", "/api/v1/audit-log", { cookie: bob.cookie }), 403, "forbidden");

    // Nothing changed.
    const status = await call<{ compute: { state: string; suspendTimeoutSeconds: number } }>("GET", `/api/v1/compute/${c.computeId}/status`, {
      key: alice.key,
    });
    expect(status.body.compute).toMatchObject({ state: "running", suspendTimeoutSeconds: 300 });
    const roles = await call<{ roles: { name: string }[] }>("GET", `/api/v1/projects/${c.projectId}/roles`, { key: alice.key });
    expect(roles.body.roles.map((r) => r.name)).toEqual(["app"]);

    // A viewer may leave.
    expect((await call("DELETE", `/api/v1/members/${await userIdOf(bob)}`, { cookie: bob.cookie })).status).toBe(200);
    expect((await call("DELETE", `/api/v1/projects/${c.projectId}`, { key: alice.key })).status).toBe(200);
  });

  it("roles change, the last owner stays, keys follow their creator's role, removal revokes keys and ends access", async () => {
    const alice = await newTenant();
    const bob = await newTenant();
    await join(alice, bob, "member");
    const aliceId = await userIdOf(alice);
    const bobId = await userIdOf(bob);
    const project = await call<{ project: { id: string } }>("POST", "/api/v1/projects", { key: alice.key, body: { name: "shared" } });
    const projectId = project.body.project.id;

    // A member's key: its role defaults to the member's and cannot be above it.
    const memberKey = await call<{ apiKey: { id: string; name: string; role: string; prefix: string; createdAt: string }; key: string }>(
      "POST",
      "/api/v1/api-keys",
      { cookie: bob.cookie, body: { name: "bob-ci" } },
    );
    expect(memberKey.status).toBe(201);
    expect(memberKey.body.apiKey).toMatchObject({ name: "bob-ci", role: "member" });
    expect(memberKey.body.key.startsWith(memberKey.body.apiKey.prefix)).toBe(true);
    expectError(await call("POST", "/api/v1/api-keys", { cookie: bob.cookie, body: { name: "x", role: "admin" } }), 403, "forbidden");
    const viewerKey = await call<{ apiKey: { role: string }; key: string }>("POST", "/api/v1/api-keys", {
      key: memberKey.body.key,
      body: { name: "read-only", role: "viewer" },
    });
    expect(viewerKey.body.apiKey.role).toBe("viewer");
    expectError(await call("POST", "/api/v1/projects", { key: viewerKey.body.key, body: { name: "x" } }), 403, "forbidden");
    expectError(await call("POST", "/api/v1/api-keys", { key: viewerKey.body.key, body: { name: "x" } }), 403, "forbidden");

    // A member manages projects and their roles, not members.
    expect((await call("POST", `/api/v1/projects/${projectId}/roles`, { key: memberKey.body.key, body: { name: "reports" } })).status).toBe(201);
    const deleted = await call("DELETE", `/api/v1/projects/${projectId}/roles/reports`, { key: memberKey.body.key });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ role: { name: "reports" }, deleted: true });
    expectError(await call("DELETE", `/api/v1/projects/${projectId}/roles/reports`, { key: memberKey.body.key }), 404, "not_found");
    expectError(await call("PATCH", `/api/v1/members/${aliceId}`, { cookie: bob.cookie, body: { role: "viewer" } }), 403, "forbidden");
    expectError(await call("PATCH", `/api/v1/members/${bobId}`, { cookie: bob.cookie, body: { role: "admin" } }), 403, "forbidden");

    // The owner makes Bob an admin. An admin manages members below owner, never owners.
    const promoted = await call<{ member: { userId: string; role: string } }>("PATCH", `/api/v1/members/${bobId}`, {
      key: alice.key,
      body: { role: "admin" },
    });
    expect(promoted.status).toBe(200);
    expect(promoted.body.member).toMatchObject({ userId: bobId, role: "admin" });
    expectError(await call("PATCH", `/api/v1/members/${aliceId}`, { cookie: bob.cookie, body: { role: "admin" } }), 403, "forbidden");
    expectError(await call("PATCH", `/api/v1/members/${bobId}`, { cookie: bob.cookie, body: { role: "owner" } }), 403, "forbidden");
    expectError(await call("DELETE", `/api/v1/members/${aliceId}`, { cookie: bob.cookie }), 403, "forbidden");
    expectError(await call("POST", "/api/v1/invitations", { cookie: bob.cookie, body: { email: "o@example.com", role: "owner" } }), 403, "forbidden");
    expect((await call("POST", "/api/v1/invitations", { cookie: bob.cookie, body: { email: "a@example.com", role: "admin" } })).status).toBe(201);
    expect((await call("GET", "/api/v1/audit-log", { cookie: bob.cookie })).status).toBe(200);
    expect((await call("GET", "/api/v1/billing", { cookie: bob.cookie })).status).toBe(200);
    expectError(await call("PATCH", "/api/v1/billing", { cookie: bob.cookie, body: { plan: "pro" } }), 403, "forbidden");
    const adminKey = await call<{ apiKey: { role: string }; key: string }>("POST", "/api/v1/api-keys", { cookie: bob.cookie, body: { name: "adm" } });
    expect(adminKey.body.apiKey.role).toBe("admin");

    // The last owner can be neither demoted, nor leave, nor be removed.
    const demote = await call("PATCH", `/api/v1/members/${aliceId}`, { key: alice.key, body: { role: "admin" } });
    expectError(demote, 409, "conflict");
    expect((demote.body as { error: { message: string } }).error.message).toMatch(/always keeps an owner/);
    expectError(await call("DELETE", `/api/v1/members/${aliceId}`, { cookie: alice.cookie }), 409, "conflict");

    // A key acts with no more than its creator's current role: Bob demoted to viewer, his admin key reads only.
    expect((await call("PATCH", `/api/v1/members/${bobId}`, { key: alice.key, body: { role: "viewer" } })).status).toBe(200);
    expectError(await call("POST", "/api/v1/projects", { key: adminKey.body.key, body: { name: "x" } }), 403, "forbidden");
    expect((await call("GET", `/api/v1/projects/${projectId}`, { key: adminKey.body.key })).status).toBe(200);
    expect((await call("PATCH", `/api/v1/members/${bobId}`, { key: alice.key, body: { role: "member" } })).status).toBe(200);
    expect((await call("POST", "/api/v1/projects", { key: memberKey.body.key, body: { name: "bob's" } })).status).toBe(201);

    // Removal: access ends at once, for the session and every key Bob made here.
    const removed = await call<{ member: { revokedApiKeys: number }; removed: boolean }>("DELETE", `/api/v1/members/${bobId}`, { key: alice.key });
    expect(removed.status).toBe(200);
    expect(removed.body.member.revokedApiKeys).toBe(3);
    for (const key of [memberKey.body.key, viewerKey.body.key, adminKey.body.key]) {
      expectError(await call("GET", "/api/v1/projects", { key }), 401, "unauthenticated");
    }
    expectError(await call("GET", `/api/v1/projects/${projectId}`, { cookie: bob.cookie }), 404, "not_found");
    expectError(await call("GET", `/api/v1/members?organizationId=${alice.organizationId}`, { cookie: bob.cookie }), 404, "not_found");
    const bobsOrgs = await call<{ organizations: { id: string }[]; currentOrganizationId: string }>("GET", "/api/v1/organizations", {
      cookie: bob.cookie,
    });
    expect(bobsOrgs.body.organizations.map((o) => o.id)).toEqual([bob.organizationId]);
    expect(bobsOrgs.body.currentOrganizationId).toBe(bob.organizationId);
    // Bob's own key in his own organization is untouched.
    expect((await call("GET", "/api/v1/projects", { key: bob.key })).status).toBe(200);

    // The audit log says who did what and when.
    const log = await call<{ auditEvents: { id: string; action: string; actorEmail: string | null; targetLabel: string | null; details: unknown; createdAt: string }[] }>(
      "GET",
      "/api/v1/audit-log",
      { key: alice.key },
    );
    expect(log.status).toBe(200);
    const actions = log.body.auditEvents.map((e) => e.action);
    for (const action of [
      "member.invited",
      "member.joined",
      "api_key.created",
      "project_role.created",
      "project_role.deleted",
      "member.role_changed",
      "member.removed",
    ]) {
      expect(actions, action).toContain(action);
    }
    const change = log.body.auditEvents.find((e) => e.action === "member.role_changed" && (e.details as { to: string }).to === "admin");
    expect(change).toMatchObject({ actorEmail: alice.email, targetLabel: bob.email, details: { from: "member", to: "admin" } });
    expect(Date.parse(change!.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    const removal = log.body.auditEvents.find((e) => e.action === "member.removed");
    expect(removal).toMatchObject({ actorEmail: alice.email, targetLabel: bob.email, details: { role: "member", revokedApiKeys: 3 } });
    // Newest first, paginated.
    expect(actions[0]).toBe("member.removed");
    const firstPage = await call<{ auditEvents: { id: string }[]; nextCursor: string }>("GET", "/api/v1/audit-log?limit=2", { key: alice.key });
    expect(firstPage.body.auditEvents).toHaveLength(2);
    const next = await call<{ auditEvents: { id: string }[] }>("GET", `/api/v1/audit-log?limit=2&cursor=${firstPage.body.nextCursor}`, {
      key: alice.key,
    });
    expect(next.body.auditEvents[0]!.id).toBe(log.body.auditEvents[2]!.id);
  });

  it("owners hand over ownership; only owners change the plan, which is audited", async () => {
    const alice = await newTenant();
    const bob = await newTenant();
    await join(alice, bob, "admin");
    const aliceId = await userIdOf(alice);
    const bobId = await userIdOf(bob);
    expect((await call("PATCH", `/api/v1/members/${bobId}`, { key: alice.key, body: { role: "owner" } })).status).toBe(200);
    // Now Alice may step down and leave; Bob is the last owner.
    expect((await call("PATCH", `/api/v1/members/${aliceId}`, { cookie: bob.cookie, body: { role: "member" } })).status).toBe(200);
    const plan = await call<{ billing: { plan: string } }>("PATCH", "/api/v1/billing", { cookie: bob.cookie, body: { plan: "pro" } });
    expect(plan.status).toBe(200);
    expect(plan.body.billing.plan).toBe("pro");
    expectError(await call("PATCH", "/api/v1/billing", { key: alice.key, body: { plan: "free" } }), 403, "forbidden");
    const left = await call("DELETE", `/api/v1/members/${aliceId}?organizationId=${alice.organizationId}`, { cookie: alice.cookie });
    expect(left.status).toBe(200);
    expectError(await call("DELETE", `/api/v1/members/${bobId}`, { cookie: bob.cookie }), 409, "conflict");
    const log = await call<{ auditEvents: { action: string; actorEmail: string; details: unknown }[] }>("GET", "/api/v1/audit-log", { cookie: bob.cookie });
    expect(log.body.auditEvents.find((e) => e.action === "plan.changed")).toMatchObject({ actorEmail: bob.email, details: { from: "free", to: "pro" } });
    expect(log.body.auditEvents[0]).toMatchObject({ action: "member.left", actorEmail: alice.email });
  });
});

describe("invitations", () => {
  it("are single use, expire, can be revoked, and belong to their email", async () => {
    const alice = await newTenant();
    const carol = await newTenant();
    const dave = await newTenant();
    const accept = (who: Tenant, token: string) => call("POST", "/api/v1/invitations/accept", { cookie: who.cookie, body: { token } });

    const first = await invite({ key: alice.key }, carol.email, "member");
    const listed = await call<{ invitations: { id: string; email: string; role: string; status: string }[] }>("GET", "/api/v1/invitations", {
      key: alice.key,
    });
    expect(listed.body.invitations).toEqual([expect.objectContaining({ id: first.invitation.id, email: carol.email, role: "member", status: "pending" })]);
    expect(JSON.stringify(listed.body)).not.toContain(first.token);
    const revoked = await call("DELETE", `/api/v1/invitations/${first.invitation.id}`, { key: alice.key });
    expect(revoked.status).toBe(200);
    expectError(await accept(carol, first.token), 410, "link_revoked");

    const second = await invite({ key: alice.key }, carol.email, "member");
    await sql.query(`UPDATE "Invitation" SET "expiresAt" = now() - interval '1 minute' WHERE id = $1`, [second.invitation.id]);
    expectError(await accept(carol, second.token), 410, "link_expired");

    const third = await invite({ key: alice.key }, carol.email, "member");
    const other = await accept(dave, third.token);
    expectError(other, 403, "forbidden");
    expect((other.body as { error: { message: string } }).error.message).toContain(carol.email);
    expectError(await call("POST", "/api/v1/invitations/accept", { key: carol.key, body: { token: third.token } }), 403, "forbidden");
    expect((await accept(carol, third.token)).status).toBe(200);
    expectError(await accept(carol, third.token), 410, "link_used");
    expectError(await accept(carol, "msi_nonsense"), 404, "not_found");
    expectError(await call("POST", "/api/v1/invitations", { key: alice.key, body: { email: carol.email, role: "viewer" } }), 409, "conflict");
    // A new invitation to the same email replaces a pending one.
    const d1 = await invite({ key: alice.key }, dave.email, "viewer");
    const d2 = await invite({ key: alice.key }, dave.email, "member");
    expectError(await accept(dave, d1.token), 410, "link_revoked");
    expect((await accept(dave, d2.token)).status).toBe(200);
    // Validation: a role that does not exist.
    const bad = await call("POST", "/api/v1/invitations", { key: alice.key, body: { email: "x@example.com", role: "superuser" } });
    expectError(bad, 422, "validation");
    expect((bad.body as { error: { details: { path: string }[] } }).error.details[0]!.path).toBe("role");
  });
});

describe("another organization", () => {
  it("gets 404 on everything of this one", async () => {
    const alice = await newTenant();
    const bob = await newTenant();
    await join(alice, bob, "viewer");
    const mallory = await newTenant();
    const bobId = await userIdOf(bob);
    const aliceId = await userIdOf(alice);
    const project = await call<{ project: { id: string } }>("POST", "/api/v1/projects", { key: alice.key, body: { name: "secret" } });
    const projectId = project.body.project.id;
    expect((await call("POST", `/api/v1/projects/${projectId}/roles`, { key: alice.key, body: { name: "reports" } })).status).toBe(201);
    const inv = await invite({ key: alice.key }, "pending@example.com", "member");
    const keys = await call<{ apiKeys: { id: string }[] }>("GET", "/api/v1/api-keys", { key: alice.key });
    const aliceKeyId = keys.body.apiKeys[0]!.id;

    for (const by of [{ key: mallory.key }, { cookie: mallory.cookie }]) {
      const attempts: [string, string, unknown?][] = [
        ["PATCH", `/api/v1/members/${bobId}`, { role: "owner" }],
        ["DELETE", `/api/v1/members/${bobId}`],
        ["DELETE", `/api/v1/members/${aliceId}`],
        ["DELETE", `/api/v1/invitations/${inv.invitation.id}`],
        ["DELETE", `/api/v1/api-keys/${aliceKeyId}`],
        ["DELETE", `/api/v1/projects/${projectId}/roles/reports`],
        ["GET", `/api/v1/members?organizationId=${alice.organizationId}`],
        ["GET", `/api/v1/invitations?organizationId=${alice.organizationId}`],
        ["GET", `/api/v1/audit-log?organizationId=${alice.organizationId}`],
        ["GET", `/api/v1/billing?organizationId=${alice.organizationId}`],
        ["PATCH", `/api/v1/billing?organizationId=${alice.organizationId}`, { plan: "pro" }],
        ["POST", `/api/v1/invitations?organizationId=${alice.organizationId}`, { email: mallory.email, role: "owner" }],
        ["POST", `/api/v1/api-keys?organizationId=${alice.organizationId}`, { name: "x" }],
      ];
      for (const [method, path, body] of attempts) {
        expectError(await call(method, path, { ...by, body }), 404, "not_found", `${method} ${path}`);
      }
    }
    expectError(
      await call("PATCH", "/api/v1/organizations/current", { cookie: mallory.cookie, body: { organizationId: alice.organizationId } }),
      404,
      "not_found",
    );
    const malloryMembers = await call<{ members: { email: string }[] }>("GET", "/api/v1/members", { key: mallory.key });
    expect(malloryMembers.body.members.map((m) => m.email)).toEqual([mallory.email]);
    const malloryLog = await call<{ auditEvents: { targetLabel: string }[] }>("GET", "/api/v1/audit-log", { key: mallory.key });
    expect(JSON.stringify(malloryLog.body)).not.toContain(bob.email);

    // Nothing of Alice's changed.
    const members = await call<{ members: { email: string; role: string }[] }>("GET", "/api/v1/members", { key: alice.key });
    expect(members.body.members.map((m) => [m.email, m.role])).toEqual([
      [alice.email, "owner"],
      [bob.email, "viewer"],
    ]);
    const roles = await call<{ roles: { name: string }[] }>("GET", `/api/v1/projects/${projectId}/roles`, { key: alice.key });
    expect(roles.body.roles.map((r) => r.name)).toEqual(["reports"]);
    expect((await call("GET", "/api/v1/projects", { key: alice.key })).status).toBe(200);
  });
});

describe("passwords", () => {
  const exec = promisify(execFile);
  const admin = (...args: string[]) =>
    exec(path.resolve("node_modules/.bin/tsx"), ["scripts/admin.ts", ...args], {
      env: { ...process.env, DATABASE_URL: inject("databaseUrl"), APP_URL: baseUrl(), LOG_LEVEL: "silent" },
    });

  it("a signed-in user changes theirs with the current one", async () => {
    const alice = await newTenant();
    const newPassword = `new ${crypto.randomBytes(4).toString("hex")} password`;
    const wrong = await call("POST", "/api/v1/account/password", { cookie: alice.cookie, body: { currentPassword: "not it", newPassword } });
    expectError(wrong, 422, "validation");
    expect((wrong.body as { error: { details: { path: string }[] } }).error.details[0]!.path).toBe("currentPassword");
    const short = await call("POST", "/api/v1/account/password", { cookie: alice.cookie, body: { currentPassword: alice.password, newPassword: "short" } });
    expectError(short, 422, "validation");
    expectError(
      await call("POST", "/api/v1/account/password", { key: alice.key, body: { currentPassword: alice.password, newPassword } }),
      403,
      "forbidden",
    );
    const ok = await call("POST", "/api/v1/account/password", { cookie: alice.cookie, body: { currentPassword: alice.password, newPassword } });
    expect(ok.status).toBe(200);
    await expect(signIn(alice.email, alice.password)).rejects.toThrow(/sign-in failed/);
    expect(await signIn(alice.email, newPassword)).toContain("authjs.session-token");
  });

  it("an operator's reset link sets a new one, once, until it expires", async () => {
    const alice = await newTenant();
    const { stdout } = await admin("reset-password", alice.email);
    const url = /(http\S+)/.exec(stdout)?.[1];
    expect(url, stdout).toMatch(new RegExp(`^${baseUrl()}/reset-password\\?token=msr_`));
    const token = new URL(url!).searchParams.get("token")!;
    const newPassword = "reset to something long";
    const reset = await call("POST", "/api/v1/account/password-reset", { body: { token, newPassword } });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ user: { email: alice.email }, reset: true });
    expect(await signIn(alice.email, newPassword)).toContain("authjs.session-token");
    expectError(await call("POST", "/api/v1/account/password-reset", { body: { token, newPassword: "and again please" } }), 410, "link_used");
    expectError(await call("POST", "/api/v1/account/password-reset", { body: { token: "msr_forged", newPassword } }), 404, "not_found");

    const later = await admin("reset-password", alice.email);
    const laterToken = new URL(/(http\S+)/.exec(later.stdout)![1]!).searchParams.get("token")!;
    await sql.query(`UPDATE "PasswordReset" SET "expiresAt" = now() - interval '1 second' WHERE "usedAt" IS NULL`);
    expectError(await call("POST", "/api/v1/account/password-reset", { body: { token: laterToken, newPassword } }), 410, "link_expired");

    await expect(admin("reset-password", "nobody-here@example.com")).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining("no user") });
  });
});
