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
  {
    key,
    body,
    raw,
    cookie,
    origin,
    at = baseUrl(),
  }: {
    key?: string;
    body?: unknown;
    raw?: string;
    cookie?: string;
    /** The Origin header; with a cookie it defaults to the app's own (what a browser sends), null sends none. */
    origin?: string | null;
    /** The app replica to ask (its base URL); the test product's by default. */
    at?: string;
  } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (cookie) headers.cookie = cookie;
  const sentOrigin = origin === undefined ? (cookie ? at : null) : origin;
  if (sentOrigin) headers.origin = sentOrigin;
  if (body !== undefined || raw !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${at}${path}`, {
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

export interface Invitation {
  invitation: { id: string; email: string; role: string; expiresAt: string };
  url: string;
  token: string;
}

export async function invite(by: { key?: string; cookie?: string }, email: string, role: string): Promise<Invitation> {
  const res = await call<Invitation>("POST", "/api/v1/invitations", { ...by, body: { email, role } });
  if (res.status !== 201) throw new Error(`invite: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** `user` joins `owner`'s organization with `role` (invited by the owner's key, accepted with the user's session). */
export async function join(owner: Tenant, user: Tenant, role: string): Promise<void> {
  const inv = await invite({ key: owner.key }, user.email, role);
  const res = await call("POST", "/api/v1/invitations/accept", { cookie: user.cookie, body: { token: inv.token } });
  if (res.status !== 200) throw new Error(`accept: ${res.status} ${JSON.stringify(res.body)}`);
}
