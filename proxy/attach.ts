import { recordedAddress, runningAddress, type ComputeAddress } from "@/server/compute/address";
import { syncRolesIfBehind } from "@/server/compute/sync-roles";
import { BackendRefusedError, loginPreferringSocket, socketLoginAllowed, type BackendSession } from "./backend";
import { ClientError, unavailable } from "./client-error";
import { AtLimitError } from "./connection-broker";
import type { ProxyContext } from "./context";
import { authenticateChangeUser } from "./policy";
import { ErrorCode, NATIVE_PASSWORD } from "./protocol/constants";
import type { HandshakeResponse } from "./protocol/handshake";
import { encodePacket } from "./protocol/packet";
import { nativeTokenFromStage1 } from "./protocol/native-password";
import { decodeChangeUser, encodeChangeUser, type ChangeUser } from "./protocol/change-user";
import type { InterceptOutcome } from "./pump";
import { withSessionTracking } from "./followed-compute";
import { ParkableSession, type ChangeUserHandler } from "./parking-session";
import { answersPing, poolKey as serverPoolKey } from "./server-pool";
import { PING_GRACE_MS } from "./login-ping";
import type { Route } from "./routing";
import { learnFromGreeting } from "./server-info";
import type { HandedOver } from "./transport";
import type { WakeResult } from "./wake";

// The compute side of a client session: wake its compute, log in to it as the session's role, hand the
// pair over to the relay. What it needs of the client is a ClientSession, which outlives any one compute
// connection: logging in again with the same session gives a new connection to the (woken) compute, which
// is what re-attaching a parked session to a compute that was suspended meanwhile will take.

/** What the proxy keeps of an authenticated client, independent of its compute connection. */
export interface ClientSession {
  /** The proxy's connection id for this client (what it was greeted with, and what KILL names). */
  connectionId: number;
  address: string;
  tls: boolean;
  serverName: string | null;
  /** The scramble the client's tokens answer (its login, and any COM_CHANGE_USER). */
  scramble: Buffer;
  /** The client's handshake: capabilities, collation, database and attributes the compute login copies. */
  handshake: HandshakeResponse;
  route: Route;
  /** SHA1(password) of the role, from the client's verified token: logs in to the compute as the role. */
  stage1: Buffer;
  /** When the client arrived (Date.now()): route facts read since then are current. */
  arrivedAt: number;
  /**
   * Room the broker reserved for this session's next login (proxy/connection-broker.ts: obtain): the login
   * uses it (held: false), or whoever started the attach gives it back. An object, so that the copies of
   * the session an attach is given share it.
   */
  slot?: { held: boolean };
  /**
   * Made by an attach that wakes the compute for this client's login (AttachOptions.beforeWakeCommits), and
   * set by its relay once the compute has answered the client's first command (or the session ended): the
   * thaw commits after that. Absent for every other session, which then costs nothing.
   */
  firstAnswer?: Signal<void>;
}

export interface Attached {
  backend: BackendSession;
  /** The state the compute was woken from for this login, or null when it was running. */
  wokeFrom: string | null;
}

export interface AttachOptions {
  /**
   * A waking compute's login is used as soon as the server it reached serves, brought up by this wake (a
   * thaw has let it go; a start has set it up), without waiting for the wake's last statement to come back
   * from PostgreSQL (a warm wake's compare-and-set, a cold one's `running`): the wake's outcome is checked
   * after, and a session it does not confirm (the compute did not end up running on that server) loses its
   * compute connection, as if the server had gone away. For a new client, whose session is nothing yet; a
   * re-attach (unparking) waits for the outcome.
   */
  beforeWakeCommits?: boolean;
  /**
   * A pooled connection of a compute the cached route says runs is handed back unpinged (`pingOwed`): the
   * session pings it with the client's OK and wakes the compute only when that goes unanswered
   * (proxy/login-ping.ts). For a new client's login.
   */
  pingWithOk?: boolean;
}

/** What attaching takes from the proxy's context. */
export type AttachContext = Pick<ProxyContext, "routes" | "waker" | "metrics" | "serverInfo" | "localSockets" | "serverPool" | "broker">;

/**
 * Bring the session's compute to running and log in to it as the role, retrying with backoff while it
 * refuses connections (a workload is reachable a little after it reports ready) until `deadline`. The
 * first decision is made on the route's facts when they were read since `currentSince` (for a new client:
 * since it arrived, so a route read for its login serves), else on facts read now: one read either way. A
 * later attach of the same session (a re-attach) passes the time it starts. Each later attempt looks at
 * the compute's state again: one paused after the last look is woken first.
 */
export async function attachCompute(
  ctx: AttachContext,
  session: ClientSession,
  deadline: number,
  currentSince = session.arrivedAt,
  options: AttachOptions = {},
): Promise<Attached> {
  const who = `${session.route.role}@${session.address}`;
  let route: Route = session.route;
  // A running compute greets within milliseconds; a frozen one never does, so don't wait long.
  const answerWithinMs = () => Math.max(200, Math.min(2000, deadline - Date.now()));
  const keyOf = (address: ComputeAddress) => {
    const { role, doubleHash } = session.route;
    return ctx.serverPool?.enabled && route.computeId ? serverPoolKey({ computeId: route.computeId, address, role, doubleHash, client: session.handshake }) : undefined;
  };
  /** An idle connection of the same login from the pool (taking it sends nothing), or null. */
  const takePooled = (address: ComputeAddress): BackendSession | null => {
    const poolKey = keyOf(address);
    const pooled = poolKey ? ctx.serverPool!.take(poolKey) : null;
    // Pinged by whoever takes it now (a ping owed by an earlier session's login was paid then).
    return pooled && { ...pooled, poolKey, pingOwed: false };
  };
  /**
   * A pooled connection where a new login would go, else a login. The pooled one is pinged first, also when
   * the facts say the compute runs: the ping is the command that makes its thread no longer look idle to a
   * pause's last look (which leaves out threads the proxy reported holding, server/compute/client-sessions.ts),
   * and a server frozen meanwhile fails it within the login's timeout as a fresh login would.
   */
  const logIn = async (address: ComputeAddress): Promise<BackendSession> => {
    const pooled = takePooled(address);
    if (pooled) return answersPing(pooled, answerWithinMs());
    // Each new server connection is counted by the broker from here until it closes: none beyond the limit.
    const computeId = route.computeId;
    const broker = computeId ? ctx.broker : undefined;
    const slot = session.slot;
    if (broker && !slot?.held && !broker.reserve(computeId!)) {
      if (!slot) throw new AtLimitError();
      // A session that had room and used it on a login this attach then gave up (an early login to a
      // server that turned out not to be the one) waits for room again, as it first did, rather than fail.
      await broker.obtain(computeId!, { key: null, needsNoDatabase: false }, `the compute of project '${route.slug}'`);
    }
    if (slot) slot.held = false;
    let backend: BackendSession;
    try {
      backend = await loginPreferringSocket(
        {
          host: address.host,
          port: address.port,
          role: session.route.role,
          stage1: session.stage1,
          // Always with session tracking, which the session's follower reads (proxy/followed-compute.ts).
          client: withSessionTracking(session.handshake),
          connectTimeoutMs: answerWithinMs(),
        },
        ctx.localSockets ? address.socketPath : null,
      );
    } catch (error) {
      broker?.unreserve(computeId!);
      throw error;
    }
    broker?.opened(computeId!, backend.compute.socket);
    return { ...backend, poolKey: keyOf(address) };
  };
  let current = route.readAt >= currentSince;
  let wokeFrom: string | null = null;
  let delay = 10;
  let resynced = false;
  for (;;) {
    // A login that starts before the decision, kept only if the compute then runs at the same address:
    // - facts from before this attach are read again, and while that read is under way the login to the
    //   address they gave (running) already runs: a running compute's connect costs the longer of the two;
    //   a connection from the pool is pinged instead (COM_PING): when it answers within PING_GRACE_MS the
    //   server is seen running at that address, which is what the read was for, and it is used without
    //   reading anything; a frozen server does not answer, and the read and the wake go on as before;
    // - a paused compute's frozen server takes the connection and greets once thawed, so the login waits
    //   for the thaw instead of following it.
    let early: EarlyLogin | null = null;
    if (!current) {
      const running = route.compute ? runningAddress(route.compute.row) : null;
      const pooled = running && takePooled(running);
      if (pooled && options.pingWithOk) {
        learnFromGreeting(ctx.serverInfo, pooled.greeting);
        return { backend: { ...pooled, pingOwed: true }, wokeFrom };
      }
      if (pooled) {
        const login = answersPing(pooled, answerWithinMs());
        early = { address: running, login, valid: "running", pooled: true };
        const answered = await Promise.race([login.then(() => true, () => false), new Promise<false>((r) => setTimeout(() => r(false), PING_GRACE_MS))]);
        if (answered) {
          const backend = await login;
          learnFromGreeting(ctx.serverInfo, backend.greeting);
          return { backend, wokeFrom };
        }
      } else {
        early = earlyLogin(logIn, running, "running");
      }
      // A paused compute's cached row, kept current by the changes heard since its read (proxy/routing.ts),
      // needs no read: the thaw's compare-and-set on its version is the final word (a row that moved on loses
      // it, and the wake reads afresh). Any other is read: a client must not be sent to a server the state
      // machine moved away from in the milliseconds a notification takes to arrive.
      if (!heardPaused(ctx, route)) route = (await ctx.routes.lookup({ slug: route.slug, role: route.role }, { fresh: true })) ?? route;
    }
    current = false;
    if (!early && route.compute?.row.state === "paused") early = earlyLogin(logIn, recordedAddress(route.compute.row), "thawed");
    // - a start tells when its server answers, before it is recorded running: the login begins then.
    const onReady = (address: ComputeAddress) => void (early ??= earlyLogin(logIn, address, "started"));
    const wakeStarted = process.hrtime.bigint();
    const recordWake = (woke: WakeResult) => {
      if (woke.wokeFrom) ctx.metrics.wake(woke.wokeFrom, Number(process.hrtime.bigint() - wakeStarted) / 1e9);
    };
    // - the wake tells where the server it thawed or started serves, before its last statement is back; a new
    //   client whose login reached that server goes on then (AttachOptions.beforeWakeCommits).
    const serving = signal<ComputeAddress>();
    const onServing = (address: ComputeAddress | null) => void (address && serving.set(address));
    // A new client's login to the frozen server, and its first command, go on before the thaw's commit,
    // which waits for both (at most THAW_COMMIT_WAIT_MS: server/compute/lifecycle/wake.ts).
    const wakesForLogin = options.beforeWakeCommits === true && early !== null && route.compute?.row.state !== "running";
    const firstAnswer = wakesForLogin ? (session.firstAnswer ??= signal<void>()) : undefined;
    const commitAfter = firstAnswer && early ? early.login.then(() => firstAnswer.done) : undefined;
    const waking = ctx.waker.ensureRunning({ route, who, deadline, onReady, onServing, commitAfter });
    waking.catch(() => undefined); // seen below
    if (options.beforeWakeCommits && route.compute && route.compute.row.state !== "running") {
      const ahead = await Promise.race([
        serving.done.then(async (address) => {
          const login = early;
          // A login begun to the frozen server (or a pooled connection to it), or at the started one's readiness.
          if (!login || !sameAddress(login.address, address) || (login.valid === "running" && !login.pooled)) return null;
          return { login, backend: await login.login };
        }),
        waking,
      ]).then(
        (first) => (first && "login" in first ? first : null),
        () => null,
      );
      if (ahead) {
        // The server this login reached serves, brought up by this wake: the client goes on. Kept only if the
        // wake ends with the compute running there (as the wait below would have decided); otherwise the
        // compute connection closes, and with it the session.
        void waking
          .then((woke) => {
            recordWake(woke);
            if (!(sameAddress(ahead.login.address, woke.address) && isKept(ahead.login, woke))) throw new Error("the wake ended elsewhere");
          })
          .catch(() => ahead.backend.compute.socket.destroy());
        learnFromGreeting(ctx.serverInfo, ahead.backend.greeting);
        return { backend: ahead.backend, wokeFrom: wokeFrom ?? route.compute.row.state };
      }
    }
    const woke = await waking.catch((error: unknown) => {
      discard(early?.login);
      throw error;
    });
    recordWake(woke);
    wokeFrom ??= woke.wokeFrom; // the state the client's first look found
    // Kept only when it reached the server that now serves: the running one the fresh facts confirm, or the
    // frozen one this wake let go (a server started meanwhile may listen on the same port). A pooled
    // connection reached the server before this wake, so it is kept in either case.
    const keep = early && sameAddress(early.address, woke.address) && isKept(early, woke);
    const reuse = keep ? early!.login : null;
    if (!reuse) discard(early?.login);
    try {
      const backend = await (reuse ?? logIn(woke.address));
      learnFromGreeting(ctx.serverInfo, backend.greeting);
      return { backend, wokeFrom };
    } catch (error) {
      if (error instanceof AtLimitError) throw error; // the caller waits for room, or starts without a connection
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

/** The route says its compute is paused, and the cache has kept it current since it was read. */
export function heardPaused(ctx: Pick<ProxyContext, "routes">, route: Route): boolean {
  return route.compute?.row.state === "paused" && ctx.routes.isCurrent(route);
}

interface EarlyLogin {
  address: ComputeAddress;
  login: Promise<BackendSession>;
  /** What must turn out true for it to be kept: the compute runs there, this wake thawed that server, or started it. */
  valid: "running" | "thawed" | "started";
  /** A connection from the pool, pinged. */
  pooled?: boolean;
}

function isKept(early: EarlyLogin, woke: WakeResult): boolean {
  if (early.valid === "running") return woke.wokeFrom === null || (early.pooled === true && woke.thawed);
  return early.valid === "thawed" ? woke.thawed : woke.wokeFrom !== null && !woke.thawed;
}

function earlyLogin(
  logIn: (address: ComputeAddress) => Promise<BackendSession>,
  address: ComputeAddress | null,
  valid: EarlyLogin["valid"],
): EarlyLogin | null {
  if (!address) return null;
  const login = logIn(address);
  login.catch(() => undefined); // its failure is seen where it is used
  return { address, login, valid };
}

export interface Signal<T> {
  set: (value: T) => void;
  done: Promise<T>;
}

/** A one-shot event to await, with its value (the first one set). */
export function signal<T>(): Signal<T> {
  let set: (value: T) => void = () => {};
  const done = new Promise<T>((resolve) => (set = resolve));
  return { set, done };
}

const sameAddress = (a: ComputeAddress, b: ComputeAddress) => a.host === b.host && a.port === b.port && a.socketPath === b.socketPath;

/** Close a login that will not be used, whenever it completes. */
function discard(login: Promise<BackendSession> | undefined): void {
  login?.then(
    (backend) => backend.compute.socket.destroy(),
    () => undefined,
  );
}

/**
 * Relay the logged-in pair: the session registers (for KILL), counts for its compute's activity, sets up
 * session tracking and follows the compute connection, pumps bytes both ways until either side closes,
 * and parks while idle (proxy/parking-session.ts); with no compute connection (null) it starts parked, or
 * "detached" (a client session like any other, whose first command waits for one of the compute's
 * connections: its compute is at its connection limit).
 * COM_CHANGE_USER is judged by the policy and re-issued
 * to the compute as the role.
 */
export function relay(ctx: ProxyContext, session: ClientSession, client: HandedOver, backend: BackendSession | null, arrival: "parked" | "detached" = "parked"): void {
  ctx.metrics.sessionOpened();
  new ParkableSession(ctx, session, client, backend, (packet, current, verified) => changeUser(ctx, packet, session, current, verified), attachCompute, arrival);
}

/**
 * A client's COM_CHANGE_USER: its token answers the proxy's scramble, so the proxy verifies it like a
 * login and sends the compute a COM_CHANGE_USER of its own as the role, answering the compute's scramble.
 * The compute's reply goes back to the client through the pump. Refusals keep the session as it was.
 */
async function changeUser(
  ctx: ProxyContext,
  packet: Buffer,
  session: ClientSession,
  backend: BackendSession,
  onVerified: Parameters<ChangeUserHandler>[2],
): Promise<InterceptOutcome> {
  const answer = (error: ClientError): InterceptOutcome => ({ error: { code: error.code, sqlState: error.sqlState, message: error.message } });
  let request: ChangeUser;
  try {
    request = decodeChangeUser(packet.subarray(4), session.handshake.capabilities);
  } catch {
    return answer(new ClientError(ErrorCode.HANDSHAKE, "08S01", "Malformed COM_CHANGE_USER packet", "bad_handshake"));
  }
  let verified;
  try {
    // On the socket a name may be the control plane's unix_socket account (see backend.ts).
    verified = await authenticateChangeUser(ctx, request, session, (role) => !backend.viaSocket || socketLoginAllowed(role));
  } catch (error) {
    if (error instanceof ClientError) return answer(error);
    throw error;
  }
  onVerified({ route: verified.route, stage1: verified.stage1, collation: request.collation ?? null });
  const forCompute = {
    ...request,
    user: verified.route.role,
    authResponse: nativeTokenFromStage1(backend.scramble, verified.stage1),
    authPlugin: NATIVE_PASSWORD,
    // Always sent: without it the plugin name and attributes cannot follow.
    collation: request.collation ?? session.handshake.collation,
  };
  return { toCompute: encodePacket(encodeChangeUser(forCompute, backend.capabilities), packet[3]!) };
}
