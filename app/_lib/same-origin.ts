/**
 * Whether a request's `Origin` is the app's own: its host must be the host the request was sent to (as
 * Next.js checks for server actions). A request without `Origin` is refused too: every browser sends it on
 * a cross-site or non-GET fetch, so only scripts outside a browser omit it, and those use API keys.
 */
export function isSameOrigin(req: Request): boolean {
  const origin = req.headers.get("origin");
  if (!origin || origin === "null") return false;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return false;
  }
  const host = req.headers.get("x-forwarded-host")?.split(",")[0]?.trim() || req.headers.get("host");
  return Boolean(host) && originHost === host;
}
