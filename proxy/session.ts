import type net from "node:net";
import { assertMayRun } from "@/server/billing/may-run";
import { admit, authenticate, wakeRefusal } from "./policy";
import { attachCompute, heardPaused, relay, type ClientSession } from "./attach";
import { ClientError } from "./client-error";
import { AtLimitError } from "./connection-broker";
import type { ProxyContext } from "./context";
import type { PreAuthTicket } from "./preauth-gate";
import { ClientTransport } from "./transport";
import { loginOkForClient } from "./followed-compute";
import { parkSettingsOf } from "./park-settings";
import { ErrorCode, ServerStatus } from "./protocol/constants";
import { encodeOk } from "./protocol/handshake";
import type { Route } from "./routing";

export type { ActivitySink, ProxyContext, SessionMetrics } from "./context";

// One client connection, from the greeting to the byte pump, in three steps that each know one thing:
//   transport (proxy/transport.ts): greeting -> [SSLRequest -> TLS] -> handshake response -> [auth switch]
//   policy (proxy/policy.ts): the role's password against its stored hash (before anything else: no wake
//     for strangers), then the project's access rules (after the password, before the wake)
//   attach (proxy/attach.ts): wake the compute -> log in to it as the role -> relay its OK -> pump bytes;
//     or, when the compute is paused or suspended and parks idle sessions, the proxy's own OK and a session
//     that starts parked (issue 14: a pool replacing its connections wakes nothing).

/** The client's address as the throttle and the pre-auth cap count it. */
export function clientAddressOf(socket: net.Socket): string {
  return socket.remoteAddress?.replace(/^::ffff:/, "") ?? "unknown";
}

const asleep = (route: Route) => route.compute?.row.state === "paused" || route.compute?.row.state === "suspended";

/**
 * A route from the cache that says the compute sleeps is read again before the login is answered without
 * it (it may have woken, failed or be being deleted since): one read, which the attach then need not make.
 * A paused one the cache kept current needs none (attach.ts, heardPaused).
 */
async function currentIfAsleep(ctx: ProxyContext, route: Route, arrivedAt: number): Promise<Route> {
  if (route.readAt >= arrivedAt || heardPaused(ctx, route) || !asleep(route) || !parkSettingsOf(route).enabled) return route;
  return (await ctx.routes.lookup({ slug: route.slug, role: route.role }, { fresh: true })) ?? route;
}

/**
 * Whether a new, authenticated client starts parked: its compute parks idle sessions and is paused or
 * suspended (as its route says; a route that lags only makes the first command, not the login, wake it).
 * A suspended compute that may not start (quota used, spend cap reached) is refused at login, as a connect
 * that wakes it is (1226), not at the first command.
 */
async function startsParked(route: Route): Promise<boolean> {
  if (!parkSettingsOf(route).enabled || !asleep(route)) return false;
  if (route.compute!.row.state === "suspended") {
    await assertMayRun(route.organizationId, route.compute!.context).catch((error: unknown) => {
      throw wakeRefusal(error, route.slug) ?? error;
    });
  }
  return true;
}

/** An unpooled session at its compute's limit: its login waits in the broker's queue for room (1040 when that runs out). */
async function attachWithRoom(ctx: ProxyContext, session: ClientSession, connectStarted: number) {
  const broker = ctx.broker!;
  const computeId = session.route.computeId!;
  await broker.obtain(computeId, { key: null, needsNoDatabase: false }, `the compute of project '${session.route.slug}'`);
  const slot = (session.slot = { held: true });
  try {
    return await attachCompute(ctx, session, connectStarted + ctx.wakeTimeoutMs, session.arrivedAt, { beforeWakeCommits: true });
  } finally {
    if (slot.held) broker.unreserve(computeId);
    session.slot = undefined;
  }
}

export async function handleClient(raw: net.Socket, ctx: ProxyContext, preAuth?: PreAuthTicket): Promise<void> {
  const arrivedAt = Date.now();
  const connectionId = ctx.registry.allocateId();
  const address = clientAddressOf(raw);
  const transport = new ClientTransport(raw, ctx);
  /** The compute this client counts for in the broker until its session ends (the relay takes it over). */
  let admitted: string | null = null;
  try {
    const { response, token } = await transport.handshake(connectionId);
    const { serverName, scramble } = transport;
    const { route, stage1 } = await authenticate(ctx, { user: response.user, serverName, scramble, token, address, deadline: transport.handshakeDeadline });
    // Authenticated: the handshake timeout is over (and the pre-auth cap no longer counts this
    // connection); from here the wake deadline applies.
    transport.authenticated();
    preAuth?.release();
    admit(route, { address, tls: transport.tls });

    if (route.computeId && ctx.broker) {
      if (!ctx.broker.admitClient(route.computeId)) throw tooManyClients(route.slug, ctx.broker.clientLimit);
      admitted = route.computeId;
    }
    const current = await currentIfAsleep(ctx, route, arrivedAt);
    const session: ClientSession = { connectionId, address, tls: transport.tls, serverName, scramble, handshake: response, route: current, stage1, arrivedAt };
    if (await startsParked(current)) {
      // Its compute sleeps and may go on sleeping: the proxy's own OK, a fresh session's status; the first
      // command that is not a ping or a validation query wakes it (proxy/parking-session.ts).
      transport.complete(encodeOk(ServerStatus.AUTOCOMMIT));
      admitted = null; // the session counts itself from here
      relay(ctx, session, transport.handOver(), null);
      return;
    }
    const computeId = current.computeId;
    const broker = computeId ? ctx.broker : undefined;
    const multiplexed = broker !== undefined && current.compute?.pooling === true;
    // At the compute's connection limit a multiplexed session starts without a server connection (its first
    // command waits for one); an unpooled one waits for room before its login, or gets 1040 when that runs out.
    const detached = () => {
      transport.complete(encodeOk(ServerStatus.AUTOCOMMIT));
      admitted = null;
      relay(ctx, session, transport.handOver(), null, "detached");
    };
    if (multiplexed && !broker.hasRoom(computeId!)) return detached();
    const connectStarted = Date.now();
    let attached;
    try {
      attached = await attachCompute(ctx, session, connectStarted + ctx.wakeTimeoutMs, session.arrivedAt, { beforeWakeCommits: true, pingWithOk: true });
    } catch (error) {
      if (!(error instanceof AtLimitError)) throw error;
      if (multiplexed) return detached();
      attached = await attachWithRoom(ctx, session, connectStarted);
    }
    const { backend, wokeFrom } = attached;
    // Until the compute answered this client's login: what the client waited for its wake.
    const waitedMs = Date.now() - connectStarted;
    if (transport.gone) {
      backend.compute.socket.destroy(); // the client left while its compute woke
    } else {
      transport.complete(loginOkForClient(session, backend.ok));
      admitted = null;
      relay(ctx, session, transport.handOver(), backend);
    }
    if (admitted) ctx.broker!.clientLeft(admitted);
    if (wokeFrom) {
      const { computeId, projectId, organizationId, role } = route;
      ctx.wakes?.record({ computeId: computeId!, projectId, organizationId, fromState: wokeFrom, startedAt: new Date(connectStarted), durationMs: waitedMs, role, clientAddress: address });
    }
  } catch (error) {
    if (admitted) ctx.broker!.clientLeft(admitted);
    transport.fail(error, address);
  }
}

function tooManyClients(slug: string, limit: number): ClientError {
  return new ClientError(
    ErrorCode.CON_COUNT,
    "08004",
    `Too many connections: the compute of project '${slug}' already has ${limit} client connections through this proxy; close idle connections, or give each application instance a smaller pool`,
    "client_limit",
  );
}
