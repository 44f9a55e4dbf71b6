import net from "node:net";
import tls from "node:tls";
import crypto from "node:crypto";
import { Duplex } from "node:stream";
import { logger } from "@/server/logger";
import { syncRolesIfBehind } from "@/server/compute/sync-roles";
import { checkAccessRules } from "@/server/projects/access-rules";
import { BackendRefusedError, loginPreferringSocket, socketLoginAllowed, type BackendSession } from "./backend";
import { accessDenied, ClientError, unavailable } from "./client-error";
import { ConnectionClosedError, PacketStream } from "./packet-stream";
import { Capability, ErrorCode, NATIVE_PASSWORD } from "./protocol/constants";
import { MalformedPacketError } from "./protocol/buffer-reader";
import {
  decodeHandshakeResponse,
  encodeAuthSwitch,
  encodeError,
  encodeGreeting,
  generateScramble,
  isSslRequest,
  type HandshakeResponse,
} from "./protocol/handshake";
import { encodePacket, PacketTooLargeError } from "./protocol/packet";
import { nativeTokenFromStage1, verifyNativeToken } from "./protocol/native-password";
import { decodeChangeUser, encodeChangeUser, type ChangeUser } from "./protocol/change-user";
import { pump, type InterceptOutcome } from "./pump";
import { RelaySocket, streamReads, type ByteCounter } from "./relay-socket";
import type { WakeSink } from "./wake-recorder";
import { parseTarget, type Route, type RouteCache } from "./routing";
import { learnFromGreeting, offeredCapabilities, type ServerInfo } from "./server-info";
import type { KillRouter } from "./kill-router";
import type { SessionRegistry } from "./sessions";
import type { PreAuthGate, PreAuthTicket } from "./preauth-gate";
import type { AuthThrottle } from "./throttle";
import type { Waker } from "./wake";

// One client connection, from the greeting to the byte pump:
//   greeting -> [SSLRequest -> TLS] -> handshake response -> [auth switch to native password]
//   -> verify the token against the role's stored hash (before anything else: no wake for strangers)
//   -> the project's access rules (server/projects/access-rules.ts: after the password, before the wake)
//   -> wake the compute -> log in to it as the role -> relay its OK -> pump bytes.

/** Handshake packets are small; anything larger is hostile. */
const MAX_HANDSHAKE_PACKET = 16 * 1024;
/** Every refused login takes at least this long (plus jitter), whether the project exists or not. */
const AUTH_FAILURE_FLOOR_MS = 40;
/** A throttled refusal is sent at least this long before the handshake deadline, so it is not dropped. */
const HANDSHAKE_REPLY_MARGIN_MS = 200;

export interface ActivitySink {
  opened(computeId: string): void;
  closed(computeId: string): void;
  touch(computeId: string): void;
  /** The compute's byte counters (client to compute, compute to client), flushed with the activity. */
  transfer?(computeId: string): { toCompute: ByteCounter; toClient: ByteCounter };
}

export interface SessionMetrics {
  handshake(result: string): void;
  authFailure(): void;
  wake(from: string, seconds: number): void;
  backendRetry(): void;
  sessionOpened(): void;
  sessionClosed(): void;
}

export interface ProxyContext {
  registry: SessionRegistry;
  routes: RouteCache;
  waker: Waker;
  throttle: AuthThrottle;
  /** Caps the connections that have not authenticated yet (server.ts admits, the session releases). */
  preAuth: PreAuthGate;
  activity: ActivitySink;
  /** Where each wake is recorded as the client saw it (proxy/wake-recorder.ts); none in unit tests. */
  wakes?: WakeSink;
  metrics: SessionMetrics;
  serverInfo: ServerInfo;
  tlsContext: tls.SecureContext | null;
  tlsRequired: boolean;
  handshakeTimeoutMs: number;
  wakeTimeoutMs: number;
  /** Log in to computes of this machine through their Unix socket (PROXY_LOCAL_SOCKETS). */
  localSockets: boolean;
  /** Where a KILL's connection id leads (this process, another worker, another proxy instance). */
  kills: KillRouter;
}

const DUMMY_DOUBLE_HASH = crypto.randomBytes(20);

/** The client's address as the throttle and the pre-auth cap count it. */
export function clientAddressOf(socket: net.Socket): string {
  return socket.remoteAddress?.replace(/^::ffff:/, "") ?? "unknown";
}

export async function handleClient(raw: net.Socket, ctx: ProxyContext, preAuth?: PreAuthTicket): Promise<void> {
  raw.setNoDelay(true);
  const connectionId = ctx.registry.allocateId();
  const address = clientAddressOf(raw);
  let socket: Duplex = raw;
  const stream = new PacketStream(raw, MAX_HANDSHAKE_PACKET);
  let lastSequence = 0;
  let done = false;
  /** End the handshake without an answer (the client is too slow, or already gone). */
  const drop = (result: "timeout" | "closed") => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    ctx.metrics.handshake(result);
    stream.detach();
    raw.destroy();
  };
  const handshakeDeadline = Date.now() + ctx.handshakeTimeoutMs;
  const timer = setTimeout(() => drop("timeout"), ctx.handshakeTimeoutMs);

  const refuse = (error: ClientError) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    ctx.metrics.handshake(error.kind);
    stream.detach();
    socket.end(encodePacket(encodeError(error.code, error.sqlState, error.message), (lastSequence + 1) & 0xff));
    socket.once("error", () => undefined);
    setTimeout(() => raw.destroy(), 1000).unref();
  };

  try {
    const scramble = generateScramble();
    const capabilities = offeredCapabilities(ctx.serverInfo, ctx.tlsContext !== null);
    raw.write(
      encodePacket(
        encodeGreeting({ ...ctx.serverInfo, connectionId, scramble, capabilities, authPlugin: NATIVE_PASSWORD }),
        0,
      ),
    );

    let packet = await stream.read();
    lastSequence = packet.sequenceId;
    let serverName: string | null = null;
    if (isSslRequest(packet.payload)) {
      if (!ctx.tlsContext) throw new ClientError(ErrorCode.HANDSHAKE, "08S01", "TLS is not configured on this proxy", "tls_unavailable");
      // Clients start TLS right after the SSLRequest without waiting, so the ClientHello may already be in
      // the bytes read with it: those are handed to the TLS layer first.
      const early = stream.takeBuffered();
      const secure = new tls.TLSSocket(early.length > 0 ? prependBytes(raw, early) : raw, {
        isServer: true,
        secureContext: ctx.tlsContext,
      });
      stream.replaceSocket(secure);
      socket = secure;
      await new Promise<void>((resolve, reject) => {
        secure.once("secure", resolve);
        secure.once("error", reject);
      });
      serverName = (secure as tls.TLSSocket & { servername?: string | false }).servername || null;
      packet = await stream.read();
      lastSequence = packet.sequenceId;
    } else if (ctx.tlsRequired) {
      throw new ClientError(
        ErrorCode.SECURE_TRANSPORT_REQUIRED,
        "HY000",
        "Connections using insecure transport are prohibited on this proxy; connect with TLS (e.g. mariadb --ssl)",
        "tls_required",
      );
    }

    const response = decodeHandshakeResponse(packet.payload);
    const userLabel = response.user.slice(0, 80);
    const target = parseTarget(response.user, serverName);
    const authStarted = Date.now();

    // The client's native-password token for our scramble; other plugins are switched to native password.
    let token = response.authResponse;
    const native = response.authPlugin === null || response.authPlugin === NATIVE_PASSWORD;
    if (!(native && token.length === 20) && (response.capabilities & Capability.PLUGIN_AUTH) !== 0 && !(native && token.length === 0)) {
      socket.write(encodePacket(encodeAuthSwitch(NATIVE_PASSWORD, scramble), (lastSequence + 1) & 0xff));
      const answer = await stream.read();
      lastSequence = answer.sequenceId;
      token = answer.payload;
    }

    const { route, stage1 } = await verifyToken(ctx, target, scramble, token);
    if (!stage1 || !route) {
      await failureDelay(ctx, address, authStarted, handshakeDeadline);
      throw accessDenied(userLabel, address);
    }
    // Authenticated: the handshake timeout is over (and the pre-auth cap no longer counts this
    // connection); from here the wake deadline applies.
    clearTimeout(timer);
    preAuth?.release();
    const refused = accessRuleRefusal(route, { address, tls: socket !== raw });
    if (refused) throw refused;
    if (!route.computeId) {
      throw unavailable(`project '${route.slug}' has no compute yet; create one in the console or with the API`, "no_compute");
    }

    const connectStarted = Date.now();
    const woke: { from: string | null } = { from: null };
    const backend = await connectWithRetry(ctx, route, `${route.role}@${address}`, stage1, response, connectStarted + ctx.wakeTimeoutMs, woke);
    if (woke.from) {
      // Until the compute answered this client's login: what the client waited for its wake.
      ctx.wakes?.record({
        computeId: route.computeId!,
        projectId: route.projectId,
        fromState: woke.from,
        startedAt: new Date(connectStarted),
        durationMs: Date.now() - connectStarted,
        role: route.role,
        clientAddress: address,
      });
    }
    learnFromGreeting(ctx.serverInfo, backend.greeting);
    if (done || raw.destroyed) {
      backend.compute.socket.destroy(); // the client left while its compute woke
      return;
    }
    done = true;
    socket.write(encodePacket(backend.ok, (lastSequence + 1) & 0xff));
    ctx.metrics.handshake("ok");
    ctx.metrics.sessionOpened();
    const computeId = route.computeId;
    const session = { projectId: route.projectId, computeId, backendThreadId: backend.greeting.connectionId };
    ctx.registry.register(connectionId, session);
    ctx.activity.opened(computeId);
    const clientLeftover = stream.detach();
    // Plain TCP clients are read into a reused buffer from here on; TLS clients stay streams.
    const relay = socket === raw ? RelaySocket.adopt(raw) : null;
    pump({
      client: relay?.socket ?? socket,
      clientReads: relay ?? streamReads(socket),
      backend: backend.compute.socket,
      computeReads: backend.compute,
      clientLeftover,
      backendLeftover: backend.leftover,
      changeUser: (packet) =>
        changeUser(ctx, packet, {
          scramble,
          serverName,
          address,
          tls: socket !== raw,
          clientCapabilities: response.capabilities,
          clientCollation: response.collation,
          route,
          backend,
        }),
      resolveKill: (id) => ctx.kills.resolve(id, { projectId: route.projectId, computeId }),
      onActivity: () => ctx.activity.touch(computeId),
      transfer: ctx.activity.transfer?.(computeId),
      onClose: () => {
        ctx.registry.unregister(connectionId);
        ctx.activity.closed(computeId);
        ctx.metrics.sessionClosed();
      },
    });
  } catch (error) {
    if (error instanceof ClientError) return refuse(error);
    if (error instanceof MalformedPacketError || error instanceof PacketTooLargeError) {
      return refuse(new ClientError(ErrorCode.HANDSHAKE, "08S01", `Bad handshake: ${error.message}`, "bad_handshake"));
    }
    if (done) return;
    // Port probes and TCP health checks connect and leave: nothing to answer, nothing worth a warning.
    if (error instanceof ConnectionClosedError) return drop("closed");
    logger.warn({ err: error instanceof Error ? error.message : String(error), address }, "client handshake failed");
    refuse(new ClientError(ErrorCode.UNAVAILABLE, "08S01", "the proxy could not connect this session; try again in a moment", "error"));
  }
}

/**
 * The route and SHA1(password) for a client's mysql_native_password token over `scramble`; nulls when it
 * does not verify. An unknown project or role is checked against a dummy hash, so it costs the same time.
 */
async function verifyToken(
  ctx: ProxyContext,
  target: ReturnType<typeof parseTarget>,
  scramble: Buffer,
  token: Buffer,
): Promise<{ route: Route | null; stage1: Buffer | null }> {
  let route: Route | null = target ? await ctx.routes.lookup(target) : null;
  let stage1 = verifyNativeToken(scramble, token, route?.doubleHash ?? DUMMY_DOUBLE_HASH);
  if (!stage1 && route && target) {
    // The cached hash may be stale (a password reset): look once more before refusing.
    route = await ctx.routes.lookup(target, { fresh: true });
    stage1 = route ? verifyNativeToken(scramble, token, route.doubleHash) : null;
  }
  return { route, stage1 };
}

/**
 * The error for an authenticated client the project's access rules do not admit (its message names the
 * rule), or null. Only a client that proved the password gets here, so only it learns the rules exist.
 */
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
async function failureDelay(ctx: ProxyContext, address: string, started: number, deadline = Infinity): Promise<void> {
  ctx.metrics.authFailure();
  const throttled = Math.min(ctx.throttle.fail(address), deadline - Date.now() - HANDSHAKE_REPLY_MARGIN_MS);
  const delay = Math.max(throttled, AUTH_FAILURE_FLOOR_MS + crypto.randomInt(20) - (Date.now() - started));
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));
}

/**
 * A client's COM_CHANGE_USER: its token answers the proxy's scramble, so the proxy verifies it like a
 * login and sends the compute a COM_CHANGE_USER of its own as the role, answering the compute's scramble.
 * The compute's reply goes back to the client through the pump. Refusals keep the session as it was.
 */
async function changeUser(
  ctx: ProxyContext,
  packet: Buffer,
  session: {
    scramble: Buffer;
    serverName: string | null;
    address: string;
    tls: boolean;
    clientCapabilities: number;
    clientCollation: number;
    route: Route;
    backend: BackendSession;
  },
): Promise<InterceptOutcome> {
  const started = Date.now();
  const answer = (error: ClientError): InterceptOutcome => ({ error: { code: error.code, sqlState: error.sqlState, message: error.message } });
  let request: ChangeUser;
  try {
    request = decodeChangeUser(packet.subarray(4), session.clientCapabilities);
  } catch {
    return answer(new ClientError(ErrorCode.HANDSHAKE, "08S01", "Malformed COM_CHANGE_USER packet", "bad_handshake"));
  }
  const userLabel = request.user.slice(0, 80);
  if ((request.authPlugin ?? NATIVE_PASSWORD) !== NATIVE_PASSWORD || request.authResponse.length !== 20) {
    return answer(
      new ClientError(ErrorCode.ACCESS_DENIED, "28000", `COM_CHANGE_USER through the proxy needs ${NATIVE_PASSWORD}; open a new connection as '${userLabel}'`, "auth_failed"),
    );
  }
  const { route, stage1 } = await verifyToken(ctx, parseTarget(request.user, session.serverName), session.scramble, request.authResponse);
  if (!stage1 || !route) {
    await failureDelay(ctx, session.address, started);
    return answer(accessDenied(userLabel, session.address));
  }
  if (session.backend.viaSocket && !socketLoginAllowed(route.role)) {
    // On the socket this name is the control plane's unix_socket account (see backend.ts).
    return answer(
      new ClientError(ErrorCode.ACCESS_DENIED, "28000", `COM_CHANGE_USER to '${userLabel}' is not possible on this connection; open a new connection as '${userLabel}'`, "auth_failed"),
    );
  }
  if (route.projectId !== session.route.projectId) {
    return answer(
      new ClientError(
        ErrorCode.ACCESS_DENIED,
        "28000",
        `COM_CHANGE_USER cannot move a connection from project '${session.route.slug}' to project '${route.slug}' (another server); open a new connection`,
        "auth_failed",
      ),
    );
  }
  // The rules may have changed since this session connected; a change of user meets today's.
  const refused = accessRuleRefusal(route, session);
  if (refused) return answer(refused);
  const { backend } = session;
  const forCompute = {
    ...request,
    user: route.role,
    authResponse: nativeTokenFromStage1(backend.scramble, stage1),
    authPlugin: NATIVE_PASSWORD,
    // Always sent: without it the plugin name and attributes cannot follow.
    collation: request.collation ?? session.clientCollation,
  };
  return { toCompute: encodePacket(encodeChangeUser(forCompute, backend.capabilities), packet[3]!) };
}

/** A duplex over `socket` that yields `first` before the socket's own bytes. */
function prependBytes(socket: net.Socket, first: Buffer): Duplex {
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  socket.on("data", (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.on("end", () => duplex.push(null));
  socket.on("close", () => duplex.destroy());
  socket.on("error", (error) => duplex.destroy(error));
  duplex.push(first);
  return duplex;
}

/**
 * Log in to the compute, retrying with backoff while it refuses connections (a workload is reachable a
 * little after it reports ready) until the wake deadline.
 */
async function connectWithRetry(
  ctx: ProxyContext,
  route: Route,
  who: string,
  stage1: Buffer,
  client: HandshakeResponse,
  deadline: number,
  woke: { from: string | null } = { from: null },
): Promise<BackendSession> {
  let delay = 10;
  let resynced = false;
  for (;;) {
    // Each attempt looks at the compute's state again: one paused after the last look is woken first.
    const wakeStarted = process.hrtime.bigint();
    const { endpoint, wokeFrom } = await ctx.waker.ensureRunning({ computeId: route.computeId!, projectId: route.projectId, slug: route.slug, who, deadline });
    if (wokeFrom) ctx.metrics.wake(wokeFrom, Number(process.hrtime.bigint() - wakeStarted) / 1e9);
    woke.from ??= wokeFrom; // the state the client's first look found
    try {
      const login = {
        host: endpoint.host,
        port: endpoint.port,
        role: route.role,
        stage1,
        client,
        // A running compute greets within milliseconds; a frozen one never does, so don't wait long.
        connectTimeoutMs: Math.max(200, Math.min(2000, deadline - Date.now())),
      };
      return await loginPreferringSocket(login, ctx.localSockets ? endpoint.socketPath : null);
    } catch (error) {
      if (error instanceof BackendRefusedError) {
        if (error.serverError.code === ErrorCode.ACCESS_DENIED && !resynced && route.computeId) {
          // The role may have changed since the compute last synced: apply the roles and try once more.
          resynced = true;
          await syncRolesIfBehind(route.computeId).catch(() => false);
          continue;
        }
        const e = error.serverError;
        throw new ClientError(e.code, e.sqlState, e.message, "backend_refused");
      }
      if (Date.now() + delay >= deadline) {
        throw unavailable(`the compute of project '${route.slug}' is not accepting connections; try again in a moment`, "backend_unreachable");
      }
      ctx.metrics.backendRetry();
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 500);
    }
  }
}
