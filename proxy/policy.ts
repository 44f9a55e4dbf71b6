import crypto from "node:crypto";
import { AppError } from "@/server/errors";
import { logger } from "@/server/logger";
import { checkAccessRules } from "@/server/projects/access-rules";
import { accessDenied, ClientError, unavailable } from "./client-error";
import { ErrorCode, NATIVE_PASSWORD } from "./protocol/constants";
import { verifyNativeToken } from "./protocol/native-password";
import type { ChangeUser } from "./protocol/change-user";
import type { Route, RouteTarget } from "./routing";

// Who may log in where, decided before anything is woken: the user-name form (`<project-slug>.<role>`, or a
// bare role with a TLS server name `<project-slug>.<domain>`), the role's password (verified against its
// stored hash: unknown names cost the same time and get the same 1045), the throttle on refusals, the
// project's access rules (only told to clients that proved the password), and the refusals a wake can end
// in (quota 1226, a compute being deleted or failed) as errors a person can act on.

/** Every refused login takes at least this long (plus jitter), whether the project exists or not. */
const AUTH_FAILURE_FLOOR_MS = 40;
/** A throttled refusal is sent at least this long before the handshake deadline, so it is not dropped. */
const HANDSHAKE_REPLY_MARGIN_MS = 200;

const DUMMY_DOUBLE_HASH = crypto.randomBytes(20);

const SLUG = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const ROLE = /^[a-z][a-z0-9_]{0,31}$/;

/** The project and role a client names, or null when the name has neither form. */
export function parseTarget(user: string, serverName: string | null): RouteTarget | null {
  const dot = user.indexOf(".");
  if (dot > 0) {
    const slug = user.slice(0, dot);
    const role = user.slice(dot + 1);
    return SLUG.test(slug) && ROLE.test(role) ? { slug, role } : null;
  }
  if (serverName) {
    const slug = serverName.split(".")[0]?.toLowerCase() ?? "";
    return SLUG.test(slug) && ROLE.test(user) ? { slug, role: user } : null;
  }
  return null;
}

export interface PolicyContext {
  routes: { lookup(target: RouteTarget, options?: { fresh?: boolean }): Promise<Route | null> };
  throttle: { fail(address: string): number };
  metrics: { authFailure(): void };
}

export interface LoginAttempt {
  user: string;
  serverName: string | null;
  /** The scramble the client's token answers. */
  scramble: Buffer;
  token: Buffer;
  address: string;
  /** When the client is dropped unless answered (the handshake deadline); refusals come before it. */
  deadline?: number;
}

export interface Authenticated {
  route: Route;
  /** SHA1(password), recovered from the verified token: what logs in to the compute as the role. */
  stage1: Buffer;
}

/** The route and SHA1(password) for a client that proved the role's password; a throttled 1045 otherwise. */
export async function authenticate(ctx: PolicyContext, attempt: LoginAttempt): Promise<Authenticated> {
  const started = Date.now();
  const verified = await verifyToken(ctx, parseTarget(attempt.user, attempt.serverName), attempt.scramble, attempt.token);
  if (verified) return verified;
  await failureDelay(ctx, attempt.address, started, attempt.deadline);
  throw accessDenied(attempt.user.slice(0, 80), attempt.address);
}

/**
 * Whether an authenticated client may reach its project's compute: the project's access rules (the
 * refusal names the rule; only a client that proved the password learns the rules exist), and a compute
 * to reach.
 */
export function admit(route: Route, client: { address: string; tls: boolean }): void {
  const refused = accessRuleRefusal(route, client);
  if (refused) throw refused;
  if (!route.computeId) {
    throw unavailable(`project '${route.slug}' has no compute yet; create one in the console or with the API`, "no_compute");
  }
}

/**
 * A client's COM_CHANGE_USER, judged like a login: native password, the new role's password, the same
 * project (another project is another server), today's access rules; `socketLogin` says whether the new
 * role may log in over the connection the session has (see backend.ts). Throws the refusal.
 */
export async function authenticateChangeUser(
  ctx: PolicyContext,
  request: ChangeUser,
  session: { scramble: Buffer; serverName: string | null; address: string; tls: boolean; route: Route },
  socketLogin: (role: string) => boolean,
): Promise<Authenticated> {
  const started = Date.now();
  const userLabel = request.user.slice(0, 80);
  if ((request.authPlugin ?? NATIVE_PASSWORD) !== NATIVE_PASSWORD || request.authResponse.length !== 20) {
    throw new ClientError(ErrorCode.ACCESS_DENIED, "28000", `COM_CHANGE_USER through the proxy needs ${NATIVE_PASSWORD}; open a new connection as '${userLabel}'`, "auth_failed");
  }
  const verified = await verifyToken(ctx, parseTarget(request.user, session.serverName), session.scramble, request.authResponse);
  if (!verified) {
    await failureDelay(ctx, session.address, started);
    throw accessDenied(userLabel, session.address);
  }
  const { route } = verified;
  if (!socketLogin(route.role)) {
    throw new ClientError(ErrorCode.ACCESS_DENIED, "28000", `COM_CHANGE_USER to '${userLabel}' is not possible on this connection; open a new connection as '${userLabel}'`, "auth_failed");
  }
  if (route.projectId !== session.route.projectId) {
    throw new ClientError(
      ErrorCode.ACCESS_DENIED,
      "28000",
      `COM_CHANGE_USER cannot move a connection from project '${session.route.slug}' to project '${route.slug}' (another server); open a new connection`,
      "auth_failed",
    );
  }
  // The rules may have changed since this session connected; a change of user meets today's.
  const refused = accessRuleRefusal(route, session);
  if (refused) throw refused;
  return verified;
}

/** What a client is told when its compute could not be brought to running (the lifecycle's refusal). */
export function wakeRefusal(error: unknown, slug: string): ClientError | null {
  if (!(error instanceof AppError)) return null;
  switch (error.code) {
    case "quota_exceeded":
      return new ClientError(ErrorCode.QUOTA, "42000", `project '${slug}': ${error.message}`, "quota");
    case "conflict":
      return unavailable(`project '${slug}': ${error.message}`, "deleting");
    case "unavailable":
      return unavailable(`the compute of project '${slug}' could not be started; it is marked failed - resume it from the console`, "failed");
    default:
      return null;
  }
}

/**
 * The route and SHA1(password) for a client's mysql_native_password token over `scramble`; null when it
 * does not verify. An unknown project or role is checked against a dummy hash, so it costs the same time.
 */
async function verifyToken(ctx: PolicyContext, target: RouteTarget | null, scramble: Buffer, token: Buffer): Promise<Authenticated | null> {
  let route = target ? await ctx.routes.lookup(target) : null;
  let stage1 = verifyNativeToken(scramble, token, route?.doubleHash ?? DUMMY_DOUBLE_HASH);
  if (!stage1 && route && target) {
    // The cached hash may be stale (a password reset): look once more before refusing.
    route = await ctx.routes.lookup(target, { fresh: true });
    stage1 = route ? verifyNativeToken(scramble, token, route.doubleHash) : null;
  }
  return route && stage1 ? { route, stage1 } : null;
}

/** The error for an authenticated client the project's access rules do not admit, or null. */
function accessRuleRefusal(route: Route, client: { address: string; tls: boolean }): ClientError | null {
  const refusal = checkAccessRules(route.access, { slug: route.slug, remoteAddress: client.address, tls: client.tls });
  if (!refusal) return null;
  logger.info({ project: route.slug, rule: refusal.rule, address: client.address }, "access rule refused a client");
  return new ClientError(ErrorCode.ACCESS_DENIED, "28000", refusal.message, "access_rule");
}

/**
 * A refused login answers no sooner than the floor (plus jitter), and later after repeated failures, but
 * always before the handshake deadline (when there is one), so the client gets its 1045.
 */
async function failureDelay(ctx: PolicyContext, address: string, started: number, deadline = Infinity): Promise<void> {
  ctx.metrics.authFailure();
  const throttled = Math.min(ctx.throttle.fail(address), deadline - Date.now() - HANDSHAKE_REPLY_MARGIN_MS);
  const delay = Math.max(throttled, AUTH_FAILURE_FLOOR_MS + crypto.randomInt(20) - (Date.now() - started));
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));
}
