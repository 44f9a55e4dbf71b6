import { config } from "../config";

// Cookie-authenticated changes are accepted only from the app's own origin (DESIGN.md): a browser sends
// `Origin` with every cross-site and same-site POST, PATCH and DELETE, so a page on another site cannot
// use a signed-in user's cookie to change anything. Calls with an API key are not subject to it.

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function changesState(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/**
 * Whether `origin` is the app's own: the host the request was sent to (Host, or X-Forwarded-Host from a
 * reverse proxy in front of the app), or APP_URL. A missing or opaque ("null") Origin is not.
 */
export function isOwnOrigin(origin: string | null, headers: { get(name: string): string | null }): boolean {
  if (!origin || origin === "null") return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  const appUrl = config().APP_URL;
  if (appUrl && url.origin === appUrl) return true;
  const hosts = [headers.get("host"), ...(headers.get("x-forwarded-host")?.split(",") ?? [])]
    .map((h) => h?.trim().toLowerCase())
    .filter(Boolean);
  return hosts.includes(url.host.toLowerCase());
}

/**
 * The origin absolute links point at: APP_URL; else the one the request was sent to (X-Forwarded-Host and
 * -Proto from a reverse proxy, or Host), as Auth.js does with a trusted host; else (the admin command)
 * http://127.0.0.1:PORT.
 */
export function publicOrigin(request?: { url: string; headers: { get(name: string): string | null } }): string {
  const appUrl = config().APP_URL;
  if (appUrl) return appUrl;
  if (!request) return `http://127.0.0.1:${config().PORT}`;
  const url = new URL(request.url);
  const first = (name: string) => request.headers.get(name)?.split(",")[0]?.trim() || null;
  const host = first("x-forwarded-host") ?? first("host") ?? url.host;
  const proto = first("x-forwarded-proto") ?? url.protocol.replace(/:$/, "");
  try {
    return new URL(`${proto === "https" ? "https" : "http"}://${host}`).origin;
  } catch {
    return url.origin;
  }
}
