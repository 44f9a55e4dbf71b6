import crypto from "node:crypto";
import { inject } from "vitest";

// A small client for the product's REST API as a tenant uses it: sign up, sign in through Auth.js's
// credentials provider, make an API key, then call with `Authorization: Bearer`.

export const baseUrl = () => inject("baseUrl");

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
}

export async function call<T = Record<string, unknown>>(
  method: string,
  path: string,
  { key, body, raw, cookie }: { key?: string; body?: unknown; raw?: string; cookie?: string } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = {};
  if (key) headers.authorization = `Bearer ${key}`;
  // What a browser sends with the console's cookie: a change is accepted only from the app's own origin.
  if (cookie) {
    headers.cookie = cookie;
    headers.origin = baseUrl();
  }
  if (body !== undefined || raw !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${baseUrl()}${path}`, {
    method,
    headers,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text so the assertion shows it
  }
  return { status: res.status, body: parsed as T };
}

function cookiesOf(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
}

/** Sign in through Auth.js (csrf token, then the credentials callback) and return the session cookie. */
export async function signIn(email: string, password: string): Promise<string> {
  const csrfRes = await fetch(`${baseUrl()}/api/auth/csrf`);
  const { csrfToken } = (await csrfRes.json()) as { csrfToken: string };
  const res = await fetch(`${baseUrl()}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookiesOf(csrfRes) },
    body: new URLSearchParams({ csrfToken, email, password, callbackUrl: baseUrl() }),
  });
  const cookie = cookiesOf(res);
  if (!cookie.includes("authjs.session-token")) throw new Error(`sign-in failed: ${res.status} ${res.headers.get("location")}`);
  return cookie;
}

export interface Tenant {
  email: string;
  password: string;
  key: string;
  organizationId: string;
  cookie: string;
}

/** A new tenant with its own organization and API key (each test makes its own). */
export async function newTenant(): Promise<Tenant> {
  const email = `t-${crypto.randomBytes(6).toString("hex")}@example.com`;
  const password = "correct horse battery staple";
  const signup = await call<{ organization: { id: string } }>("POST", "/api/v1/signup", { body: { email, password } });
  if (signup.status !== 201) throw new Error(`signup failed: ${JSON.stringify(signup.body)}`);
  const cookie = await signIn(email, password);
  const key = await call<{ key: string }>("POST", "/api/v1/api-keys", { cookie, body: { name: "tests" } });
  if (key.status !== 201) throw new Error(`api key failed: ${JSON.stringify(key.body)}`);
  return { email, password, key: key.body.key, organizationId: signup.body.organization.id, cookie };
}
