// How a front-door limit (sign-in, sign-up) tells a client when to try again, shared by the server and the
// console. The REST API answers 429 with `details: [{ retryAfterSeconds }]` and a Retry-After header;
// Auth.js's credentials sign-in can only pass a short `code` in its redirect
// (`?error=CredentialsSignin&code=rate_limited:<seconds>`), so the seconds travel inside the code.

const CODE_PREFIX = "rate_limited:";

export function retryMessage(what: string, retryAfterSeconds: number, now = new Date()): string {
  const at = new Date(now.getTime() + retryAfterSeconds * 1000).toISOString().replace(/\.\d+Z$/, "Z");
  return `${what}; try again in ${retryAfterSeconds} ${retryAfterSeconds === 1 ? "second" : "seconds"} (at ${at})`;
}

/** The Auth.js sign-in error code for "too many attempts, retry in N s". */
export function rateLimitedSignInCode(retryAfterSeconds: number): string {
  return `${CODE_PREFIX}${retryAfterSeconds}`;
}

/** The seconds to wait from a sign-in error code, or null when the code is not a rate limit. */
export function parseRateLimitedSignInCode(code: string | null | undefined): number | null {
  if (!code?.startsWith(CODE_PREFIX)) return null;
  const seconds = Number(code.slice(CODE_PREFIX.length));
  return Number.isInteger(seconds) && seconds >= 0 ? seconds : null;
}

/** What the sign-in page says when the front-door limit refuses an attempt. */
export function signInRetryMessage(retryAfterSeconds: number, now = new Date()): string {
  return retryMessage("Too many sign-in attempts", retryAfterSeconds, now);
}
