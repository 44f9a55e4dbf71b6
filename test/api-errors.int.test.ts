import { describe, expect, it } from "vitest";
import { baseUrl, call, newTenant, signIn } from "./api";

// The REST API's edge: signup and sign-in, API keys, and the one error body for every kind of bad input.

const errorBody = (code: string) => ({ error: { code, message: expect.any(String), details: expect.any(Array) } });

describe("signup and sign-in", () => {
  it("creates a user and an organization, and refuses the same email twice", async () => {
    const email = `dup-${Date.now()}@example.com`;
    const first = await call("POST", "/api/v1/signup", { body: { email, password: "long enough pw", organization: "Acme" } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      user: { id: expect.any(String), email },
      organization: { id: expect.any(String), slug: expect.stringMatching(/^acme-\d{4}$/), name: "Acme" },
    });
    const again = await call("POST", "/api/v1/signup", { body: { email: email.toUpperCase(), password: "another pw!" } });
    expect(again.status).toBe(409);
    expect(again.body).toEqual(errorBody("conflict"));
  });

  it("signs in with the credentials provider and refuses a wrong password", async () => {
    const tenant = await newTenant();
    const cookie = await signIn(tenant.email, tenant.password);
    expect((await call("GET", "/api/v1/projects", { cookie })).status).toBe(200);
    await expect(signIn(tenant.email, "wrong password")).rejects.toThrow(/sign-in failed/);
  });

  it("accepts a change made with the session cookie only from the app's own origin", async () => {
    const tenant = await newTenant();
    const post = (origin?: string) =>
      fetch(`${baseUrl()}/api/v1/projects`, {
        method: "POST",
        headers: { cookie: tenant.cookie, "content-type": "application/json", ...(origin ? { origin } : {}) },
        body: JSON.stringify({ name: "csrf" }),
      });
    const foreign = await post("http://evil.example");
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toEqual(errorBody("forbidden"));
    expect((await post()).status).toBe(403);
    expect((await post(baseUrl())).status).toBe(201);
    // Reads need no origin, and API keys are not cookies: neither is checked.
    expect((await call("GET", "/api/v1/projects", { cookie: tenant.cookie })).status).toBe(200);
    expect((await call("POST", "/api/v1/projects", { key: tenant.key, body: { name: "with key" } })).status).toBe(201);
  });

  it("answers 422 with field paths for invalid signup input", async () => {
    const res = await call("POST", "/api/v1/signup", { body: { email: "not-an-email", password: "short" } });
    expect(res.status).toBe(422);
    expect(res.body).toEqual(errorBody("validation"));
    const paths = (res.body as { error: { details: { path: string }[] } }).error.details.map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(["email", "password"]));
  });
});

describe("API keys", () => {
  it("shows the secret once, lists only the prefix, and stops working when revoked", async () => {
    const tenant = await newTenant();
    const created = await call<{ apiKey: { id: string; prefix: string }; key: string }>("POST", "/api/v1/api-keys", {
      key: tenant.key,
      body: { name: "ci" },
    });
    expect(created.status).toBe(201);
    expect(created.body.key.startsWith(created.body.apiKey.prefix)).toBe(true);

    const list = await call<{ apiKeys: Record<string, unknown>[] }>("GET", "/api/v1/api-keys", { key: tenant.key });
    expect(list.status).toBe(200);
    expect(list.body.apiKeys.map((k) => k.name)).toEqual(expect.arrayContaining(["ci", "tests"]));
    expect(JSON.stringify(list.body)).not.toContain(created.body.key);

    expect((await call("GET", "/api/v1/projects", { key: created.body.key })).status).toBe(200);
    expect((await call("DELETE", `/api/v1/api-keys/${created.body.apiKey.id}`, { key: tenant.key })).status).toBe(200);
    const revoked = await call("GET", "/api/v1/projects", { key: created.body.key });
    expect(revoked.status).toBe(401);
    expect(revoked.body).toEqual(errorBody("unauthenticated"));
  });

  it("refuses a missing, malformed or unknown key with 401 and the error body", async () => {
    for (const headers of [{}, { key: "msk_not-a-real-key" }, { key: "garbage" }]) {
      const res = await call("GET", "/api/v1/projects", headers);
      expect(res.status).toBe(401);
      expect(res.body).toEqual(errorBody("unauthenticated"));
    }
  });
});

describe("bad input", () => {
  it("answers malformed JSON with 400 and creates nothing", async () => {
    const tenant = await newTenant();
    const res = await call("POST", "/api/v1/projects", { key: tenant.key, raw: '{"name": "x",' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(errorBody("bad_request"));
    const list = await call<{ projects: unknown[] }>("GET", "/api/v1/projects", { key: tenant.key });
    expect(list.body.projects).toEqual([]);
  });

  it("answers wrong types and over-long names with 422 naming the field", async () => {
    const tenant = await newTenant();
    const cases: [unknown, string][] = [
      [{ name: 42 }, "name"],
      [{ name: "x".repeat(64) }, "name"],
      [{ name: "ok", slug: "Not A Slug" }, "slug"],
      [[], "(body)"],
    ];
    for (const [body, path] of cases) {
      const res = await call<{ error: { details: { path: string }[] } }>("POST", "/api/v1/projects", { key: tenant.key, body });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.details.map((d) => d.path)).toContain(path);
    }
    expect((await call("POST", "/api/v1/projects", { key: tenant.key, body: { name: "x".repeat(63) } })).status).toBe(201);
  });

  it("answers a NUL character in any text with 422 naming the field, never 500", async () => {
    const tenant = await newTenant();
    const project = await call<{ project: { id: string } }>("POST", "/api/v1/projects", { key: tenant.key, body: { name: "p" } });
    const id = project.body.project.id;
    const cases: [string, string, unknown, string][] = [
      ["POST", "/api/v1/projects", { name: "shop\u0000" }, "name"],
      ["POST", "/api/v1/projects", { name: "shop", organizationId: "org\u0000" }, "organizationId"],
      ["PATCH", `/api/v1/projects/${id}`, { name: "\u0000" }, "name"],
      ["PATCH", `/api/v1/projects/${id}`, { access: { allowedCidrs: ["10.0.0.0/8\u0000"] } }, "access.allowedCidrs.0"],
      ["POST", `/api/v1/projects/${id}/roles`, { name: "app\u0000" }, "name"],
      ["POST", "/api/v1/api-keys", { name: "ci\u0000" }, "name"],
      ["POST", "/api/v1/signup", { email: "a\u0000b@example.com", password: "long enough pw" }, "email"],
      ["POST", "/api/v1/signup", { email: `nul-${Date.now()}@example.com`, password: "long enough pw", organization: "Acme\u0000" }, "organization"],
      ["POST", "/api/v1/signup", { email: `nul-${Date.now()}@example.com`, password: "long enough pw", name: "Ann\u0000" }, "name"],
    ];
    for (const [method, path, body, field] of cases) {
      // JSON.stringify writes the character as the escape \u0000, the way any JSON client sends it.
      const res = await call<{ error: { details: { path: string }[] } }>(method, path, { key: tenant.key, body });
      expect(res.status, `${method} ${path} ${field}`).toBe(422);
      expect(res.body, `${method} ${path} ${field}`).toEqual(errorBody("validation"));
      expect(res.body.error.details.map((d) => d.path)).toContain(field);
    }
    // Where no schema sees the text (a path parameter), PostgreSQL's refusal still becomes a 422.
    for (const path of [`/api/v1/projects/${id}%00`, "/api/v1/projects?cursor=%00"]) {
      const res = await call("GET", path, { key: tenant.key });
      expect(res.status, path).toBe(422);
      expect(res.body, path).toEqual(errorBody("validation"));
    }
    const list = await call<{ projects: { name: string }[] }>("GET", "/api/v1/projects", { key: tenant.key });
    expect(list.body.projects.map((p) => p.name)).toEqual(["p"]);
  });

  it("validates compute settings before creating anything", async () => {
    const tenant = await newTenant();
    const project = await call<{ project: { id: string } }>("POST", "/api/v1/projects", { key: tenant.key, body: { name: "p" } });
    for (const body of [{ size: 3 }, { suspendTimeoutSeconds: -5 }, { suspendTimeoutSeconds: 10 ** 9 }, { coldAfterSeconds: "soon" }]) {
      const res = await call("POST", `/api/v1/projects/${project.body.project.id}/compute`, { key: tenant.key, body });
      expect(res.status, JSON.stringify(body)).toBe(422);
    }
    const after = await call<{ project: { compute: unknown } }>("GET", `/api/v1/projects/${project.body.project.id}`, { key: tenant.key });
    expect(after.body.project.compute).toBeNull();
    const roles = await call<{ roles: unknown[] }>("GET", `/api/v1/projects/${project.body.project.id}/roles`, { key: tenant.key });
    expect(roles.body.roles).toEqual([]);
  });

  it("answers unknown resources and paths with 404 and the error body", async () => {
    const tenant = await newTenant();
    for (const [method, path] of [
      ["GET", "/api/v1/compute/nope/status"],
      ["POST", "/api/v1/compute/nope/resume"],
      ["DELETE", "/api/v1/compute/nope"],
      ["GET", "/api/v1/projects/nope"],
      ["GET", "/api/v1/no-such-endpoint"],
    ] as const) {
      const res = await call(method, path, { key: tenant.key });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body).toEqual(errorBody("not_found"));
    }
  });
});
