import { logger } from "@/server/logger";
import type { ClientSession } from "./attach";
import type { BackendSession } from "./backend";
import { ClientError } from "./client-error";
import { Lease, type Lender, type Visible, type Wanted } from "./connection-broker";
import { ConnectionTurn } from "./connection-turn";
import type { ProxyContext } from "./context";
import { clientTracksSession, exchangeOn, followCompute, followOn, sendTrackingSetup, type Followed } from "./followed-compute";
import { answerParked, type ParkedCommandContext, type UserChange } from "./parked-commands";
import { restoreOnLease, sameVisibleState } from "./lend-restore";
import { afterThisBatch, type AtSafePoint } from "./safe-point-batch";
import { parkSettingsOf } from "./park-settings";
import { captureForParking } from "./parking-capture";
import { parkedAtLogin, restoreParked, type Attach, type ParkedSession, type Restored } from "./parking-restore";
import { Capability, Command, ErrorCode } from "./protocol/constants";
import { encodeError } from "./protocol/handshake";
import { encodePacket } from "./protocol/packet";
import { pump, type GateOutcome, type InterceptOutcome, type PumpHandle } from "./pump";
import { CaptureError, type ParkCapture } from "./session-state/park-capture";
import type { Reply } from "./session-state/reply-follower";
import { needsNoDatabase, RestoreImpossibleError, restorePlan } from "./session-state/restore-plan";
import { ServerRewriter } from "./session-state/server-rewriter";
import { loginKey } from "./server-pool";
import { sendLoginPing, watchLoginPing } from "./login-ping";
import { ClientIdRewriter, type StatementIds } from "./session-state/statement-ids";
import type { HandedOver } from "./transport";
import type { SessionInfo } from "./sessions";

// A relayed client session that can outlive its compute connection (issue 14). Active, it is pumped as
// before, its follower fed with both directions. Once idle for its compute's park time with nothing that
// pins it, it parks: the proxy reads what tracking does not report (parking-capture.ts), closes the
// compute connection and keeps the client's socket; the session then counts as neither a connection nor
// activity, so the scheduler can pause and suspend the compute under it. A parked session answers pings,
// pool validation queries, COM_RESET_CONNECTION and COM_CHANGE_USER itself; any other command unparks it
// (parking-restore.ts) and then goes to the compute as if nothing had happened.

// Multiplexing (issue 15, proxy/connection-broker.ts): at each safe point an active session whose compute
// pools connections *releases* its compute connection ("released": the gate is closed, the connection idle
// and still in this session's state) and takes it back at its next command, unless another session took it
// over meanwhile: then this session surrendered it (captured its state as parking does) and is "parked"
// without being counted as parked - it is a client session like any other, only without a server
// connection until its next command restores it on one (proxy/lend-restore.ts, or a new login).

type Mode = "active" | "released" | "parking" | "parked" | "waking" | "closed";

/** The pump's COM_CHANGE_USER handling on the current compute connection; `verified` is told who it became. */
export type ChangeUserHandler = (packet: Buffer, backend: BackendSession, verified: (change: UserChange) => void) => Promise<InterceptOutcome>;

/** How long the proxy waits for the compute to answer its own capture queries. */
const CAPTURE_TIMEOUT_MS = 10_000;
const EMPTY = Buffer.alloc(0);

/** A pinned or non-parking session is looked at again this often at most. */
const MIN_RECHECK_MS = 30_000;

export class ParkableSession implements Lender, AtSafePoint {
  private mode: Mode = "active";
  /** Released: the compute connection idles in the broker, taken back at the next command unless taken over. */
  private lease: Lease | null = null;
  /** The broker's key for this session's login (proxy/server-pool.ts: loginKey), computed once. */
  private leaseKey: string | null = null;
  /** The key restore() last wanted, and for which route and login (loginKeyFor). */
  private keyOfRoute: { route: ClientSession["route"]; handshake: ClientSession["handshake"]; key: string } | null = null;
  /** A surrender failed (state the proxy cannot restore): the session keeps its connection from now on. */
  private keepsConnection = false;
  /** What the proxy last captured or restored on the current connection (valid while its state's captureStale is false). */
  private lastCapture: ParkCapture | null = null;
  private backend: BackendSession | null;
  private followed: Followed | null;
  private rewriter: ServerRewriter | null = null;
  private clientIds: ClientIdRewriter | null = null;
  private ids: StatementIds | null = null;
  private parked: ParkedSession | null = null;
  /** The proxy's own exchange on the compute connection (tracking setup, parking's capture) under way. */
  private exchanging: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastActivity = Date.now();
  private pinnedReported = false;
  /** Counted by the activity reporter as parked (not as a connection). */
  private countedParked = false;
  private changing: UserChange | null = null;
  /** The database the current compute connection logged in with (a reset for the pool brings it back). */
  private loginDatabase: string | null;
  /** A COM_CHANGE_USER made the compute connection another login than its pool key says. */
  private changedUser = false;
  /** The client quit at a command boundary: the compute connection goes to the pool, not closed. */
  private keptForPool = false;
  /**
   * The follower's count of finished replies that are the proxy's own (tracking set-up, login ping) on the
   * connection logged in for this client; null once a reply past it (the client's first answer) has come.
   */
  private ownRepliesUntil: number | null = null;
  /** Its connection kept for a few statements in a row while others wait (proxy/connection-turn.ts). */
  private readonly turn = new ConnectionTurn();
  private readonly pumped: PumpHandle;
  private readonly strip: boolean;
  private readonly computeId: string;
  private readonly parkedCommands: ParkedCommandContext;
  private readonly registryEntry: SessionInfo;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly session: ClientSession,
    private readonly client: HandedOver,
    /** The compute connection logged in for this client, or null: the session starts parked (its compute was not running). */
    backend: BackendSession | null,
    changeUser: ChangeUserHandler,
    private readonly attach: Attach,
    /** Without a compute connection: "parked" (its compute sleeps) or "detached" (its compute is at its connection limit). */
    arrival: "parked" | "detached" = "parked",
  ) {
    this.backend = backend;
    this.followed = null;
    this.computeId = session.route.computeId!;
    this.registryEntry = { projectId: session.route.projectId, computeId: this.computeId, backendThreadId: null };
    this.loginDatabase = session.handshake.database;
    this.strip = !clientTracksSession(session);
    this.parkedCommands = {
      ctx,
      session,
      client: client.socket,
      extendedCapabilities: session.handshake.extendedCapabilities & (backend?.greeting ?? ctx.serverInfo).extendedCapabilities,
      becomeUser: (change) => this.becomeUser(change),
    };
    if (backend) {
      const followed = (this.followed = followCompute(session, backend, session.handshake.database));
      this.followReplies(followed);
      // Session tracking is set up ahead of the client's first command, which follows without waiting (the
      // setup's reply is taken out of the stream): a new session costs no extra round trip.
      if (backend.leftover.length > 0) {
        // Bytes after the login OK, which no command asked for: nothing to follow them with (pinned).
        followed.follower.replies.lost = "the compute sent bytes after its login OK";
        if (this.strip) this.rewriter = new ServerRewriter(followed.follower, true, null);
      } else {
        // Null: the compute's defaults track already (proxy/session-state/tracking-defaults.ts), nothing sent.
        let swallowUntil = sendTrackingSetup(backend, followed);
        if (backend.pingOwed) {
          const until = (swallowUntil = sendLoginPing(backend, followed, swallowUntil));
          const answered = () => followed.follower.replies.finished >= until || followed.follower.replies.lost !== null || this.mode === "closed";
          watchLoginPing(ctx, session, answered, () => backend.compute.socket.destroy());
        }
        if (this.strip || swallowUntil !== null) this.rewriter = new ServerRewriter(followed.follower, this.strip, null, swallowUntil);
        if (session.firstAnswer) this.ownRepliesUntil = swallowUntil ?? followed.follower.replies.finished;
        // With nothing sent, no reply will mark the login's safe point: offer the connection now, or a client
        // that logs in and waits (a pool's spare connection) would hold it unshared until its first command.
        if (swallowUntil === null) queueMicrotask(() => this.multiplexed() && this.releaseAtSafePoint());
      }
    } else {
      // Logged in by the proxy alone: parked with the login's state until its first real command.
      this.parked = parkedAtLogin(session);
      this.mode = "parked";
      this.countedParked = arrival === "parked";
    }
    const { route } = session;
    const computeId = this.computeId;
    this.pumped = pump({
      client: client.socket,
      clientReads: client.reads,
      backend: backend?.compute.socket ?? null,
      computeReads: backend?.compute ?? null,
      clientLeftover: client.leftover,
      backendLeftover: backend?.leftover ?? Buffer.alloc(0),
      changeUser: (packet) => changeUser(packet, this.backend!, (change) => (this.changing = change)),
      resolveKill: (id, queryOnly) => ctx.kills.resolve(id, { projectId: route.projectId, computeId, queryOnly }),
      onActivity: () => this.activity(),
      transfer: ctx.activity.transfer?.(computeId),
      onClose: () => this.closed(),
      toCompute: (part) => this.toCompute(part),
      wholeStatementIds: () => this.ids !== null,
      computeFilter: (chunk, forward) => this.fromCompute(chunk, forward),
      gate: { closed: () => this.mode !== "active", command: (packet) => this.gated(packet) },
      onQuit: () => (this.keptForPool = this.reusableAtQuit()),
    });
    if (!backend) {
      this.registerParked();
      if (arrival === "parked") ctx.activity.arrivedParked?.(computeId);
      else ctx.activity.opened(computeId);
      this.armParkCheck(route);
      return;
    }
    this.registerAttached(backend);
    ctx.activity.opened(computeId);
    this.armParkCheck(route);
  }

  /** The proxy talks to the compute itself for a while (the relay gives the connection back later). */
  private takeCompute(backend: BackendSession, followed: Followed) {
    this.pumped.detachCompute();
    backend.compute.detach(); // the proxy talks to the compute itself (a parked session's capture)
    return exchangeOn(backend, followed, CAPTURE_TIMEOUT_MS);
  }

  // ---- the data path -------------------------------------------------------------------------------

  private toCompute(part: Buffer): Buffer {
    this.followed?.follower.clientBytes(part);
    return this.clientIds ? this.clientIds.rewrite(part) : part;
  }

  private fromCompute(chunk: Buffer, forward: (part: Buffer) => void): void {
    if (this.rewriter) {
      this.rewriter.push(chunk, forward);
      if (!this.rewriter.needed) this.rewriter = null; // back to forwarding chunks as they come
    } else {
      this.followed?.follower.serverBytes(chunk);
      forward(chunk);
    }
    // The client's first command answered (a reply past the proxy's own): a thaw's commit may go now.
    if (this.ownRepliesUntil !== null && (this.followed?.follower.replies.finished ?? 0) > this.ownRepliesUntil) {
      this.ownRepliesUntil = null;
      this.session.firstAnswer?.set();
    }
    // A reply just ended: a safe point lets the connection go, once this turn's replies are all relayed.
    if (this.followed?.follower.replies.inFlight === 0 && this.multiplexed()) afterThisBatch(this);
  }

  // ---- multiplexing ---------------------------------------------------------------------------------

  /** Whether this session shares its compute's connections (the proxy multiplexes, and the compute pools). */
  private multiplexed(): boolean {
    return this.ctx.broker !== undefined && this.session.route.compute?.pooling === true && !this.keepsConnection && !this.changedUser;
  }

  /** AtSafePoint (proxy/safe-point-batch.ts): a reply ended in the turn just done. */
  atSafePoint(): void {
    this.releaseAtSafePoint();
  }

  /**
   * At a safe point the connection is offered to the broker, still relayed: nothing changes for this session
   * unless another one needs it before this session's next command (activity() withdraws the offer), in
   * which case the broker asks this session to surrender it.
   */
  private releaseAtSafePoint(): void {
    const backend = this.backend;
    const followed = this.followed;
    if (this.mode !== "active" || this.lease || this.turn.holding || !backend || !followed || this.exchanging || this.pumped.busy) return;
    const follower = followed.follower;
    if (!follower.quiet || this.rewriter?.midStream || follower.pins().length > 0) return;
    if (this.turn.keep(this.ctx.broker!.hasWaiters(this.computeId), () => this.releaseAtSafePoint())) return;
    const { route, handshake } = this.session;
    this.leaseKey ??= this.loginKeyFor(route, handshake);
    this.lease = new Lease(this.computeId, this.leaseKey, backend, follower.state.database !== null, this.loginDatabase, this);
    this.ctx.broker!.release(this.lease);
  }

  /**
   * The released connection back, for this session's next command (`forCommand`: activity) or to park it;
   * false when it was taken over (the session is parked now) or lost.
   */
  private async reclaim(forCommand: boolean): Promise<boolean> {
    const lease = this.lease;
    if (!lease) return false;
    const outcome = await this.ctx.broker!.reclaim(lease);
    if ((this.mode as Mode) === "closed") {
      // The client left while a surrender was under way: the connection it got back goes as the session's would.
      if (outcome === "mine") lease.backend.compute.socket.destroy();
      return false;
    }
    // Surrendered (parked now, restored elsewhere; a taker that then found the connection closed changes
    // nothing for it), or another reclaim of this session got the connection back first.
    if (outcome === "taken" || this.lease !== lease) return false;
    this.lease = null;
    if (outcome === "gone") {
      // The compute closed it while idle: as if it had closed under the relay.
      this.mode = "closed";
      this.client.socket.destroy();
      return false;
    }
    const backend = this.backend!;
    this.mode = "active";
    if (forCommand) {
      this.lastActivity = Date.now();
      this.ctx.activity.touch(this.computeId);
    }
    this.registerAttached(backend);
    this.pumped.attachCompute(backend.compute.socket, backend.compute, Buffer.alloc(0));
    return true;
  }

  /**
   * Lender: another session takes over the offered connection. The relay lets go of it (the gate closes:
   * a command that comes meanwhile waits for the outcome), this session's state is captured, and the
   * connection is the taker's; when that cannot be, the session takes it back.
   */
  surrender(lease: Lease): Promise<boolean> {
    const backend = this.backend;
    const followed = this.followed;
    if (!this.canSurrender(lease) || !backend || !followed) return Promise.resolve(false);
    this.detachForSurrender(backend);
    return this.captureAndLetGo(backend, followed).then((given) => {
      // Not given: the connection is this session's again once the broker has recorded that (reclaim waits
      // for it). The relay takes it back, unless the session's next command does first (gated); a session
      // whose client left meanwhile closes it.
      if (!given && (this.mode === "released" || this.mode === "closed")) queueMicrotask(() => void this.reclaim(false));
      return given;
    });
  }

  /** Whether this session can give up the connection `lease` names now. */
  private canSurrender(lease: Lease): boolean {
    // Only the offer this session stands by: one it withdrew (and offered again since) is not given up.
    const follower = this.followed?.follower;
    return this.mode === "active" && this.lease === lease && this.backend !== null && !this.exchanging && !this.pumped.busy && follower !== undefined && follower.quiet;
  }

  /** The relay lets go of the connection (the gate closes: a command that comes meanwhile waits). */
  private detachForSurrender(backend: BackendSession): void {
    this.pumped.detachCompute();
    backend.compute.detach();
    this.mode = "released";
    this.registerParked();
  }

  /** What this session leaves on its connection, when that is known without a capture (null: it is not). */
  private knownVisible(): Visible | null {
    const follower = this.followed?.follower;
    const known = this.lastCapture;
    if (!follower || !known || follower.state.captureStale || known.collationConnection === "" || follower.pins().length > 0) return null;
    // Nothing a capture reads can have changed since the last one: no round trip to move this session.
    return { state: follower.state, capture: known };
  }

  /** Lender: the direct hand-over's question (proxy/connection-broker.ts: handOver). */
  visibleNow(lease: Lease): Visible | null {
    // A follower handed on needs no statement ids mapped (letGo hands it on only then).
    return this.ids === null && this.canSurrender(lease) ? this.knownVisible() : null;
  }

  /** Lender: the direct hand-over itself, right after visibleNow said what is left on the connection. */
  letGoNow(lease: Lease): void {
    // visibleNow checked, in the same turn, that the last capture still holds.
    const known = { state: this.followed!.follower.state, capture: this.lastCapture! };
    this.detachForSurrender(lease.backend);
    this.letGoKnown(known);
  }

  /** Let go with the state known from the last capture (no transaction is open at a safe point). */
  private letGoKnown(known: Visible): boolean {
    return this.letGo({ state: known.state, capture: { ...known.capture, inTransaction: false } });
  }

  private async captureAndLetGo(backend: BackendSession, followed: Followed): Promise<boolean> {
    const known = this.knownVisible();
    if (known) return this.letGoKnown(known);
    const exchange = exchangeOn(backend, followed, CAPTURE_TIMEOUT_MS);
    let parked: ParkedSession;
    try {
      const capture = await captureForParking(exchange, (backend.capabilities & Capability.DEPRECATE_EOF) !== 0);
      if (capture.inTransaction || followed.follower.pins().length > 0) throw new CaptureError("the session is pinned");
      restorePlan(followed.follower.state, capture); // throws when it cannot be made
      parked = { state: followed.follower.state, capture };
    } catch (error) {
      this.followReplies(followed);
      if (error instanceof RestoreImpossibleError || error instanceof CaptureError) {
        this.keepsConnection = true;
        this.reportPinned([error.message]);
        return false;
      }
      backend.compute.socket.destroy(); // the connection failed under the proxy's own query
      if ((this.mode as Mode) !== "closed") this.client.socket.destroy();
      return false;
    }
    this.followReplies(followed);
    if (exchange.detach().length > 0) {
      backend.compute.socket.destroy();
      return false;
    }
    return this.letGo(parked);
  }

  /** The released connection is the taker's now, with what this session left on it; this session is parked. */
  private letGo(parked: ParkedSession): boolean {
    // The follower goes with the connection: a taker in the same state follows on with it (a new one for
    // every statement at 1,000 clients was a tenth of the proxy's work). Not with statement ids to map.
    this.lease!.handover = this.ids === null && this.followed ? { ...parked, followed: this.followed } : parked;
    this.lease = null;
    this.backend = null;
    this.followed = null;
    this.rewriter = null;
    this.clientIds = null;
    this.ids = null;
    if ((this.mode as Mode) !== "closed") {
      this.parked = parked;
      this.mode = "parked";
    }
    return true;
  }

  private activity(): void {
    if (this.mode !== "active") return; // a parked session's pings are no activity
    // A command is coming: the connection offered at the last safe point is this session's again.
    if (this.lease && this.ctx.broker!.withdraw(this.lease)) this.lease = null;
    if (!this.lease) this.turn.statementCame();
    this.ctx.activity.touch(this.computeId);
    this.lastActivity = Date.now();
    if (this.pinnedReported) {
      // What pinned it may be released by this command: look again after the park time, not the recheck's.
      this.reportPinned(null);
      this.armParkCheck(this.session.route);
    }
  }

  /** After the proxy's own exchanges: a COM_CHANGE_USER the compute accepted makes the session that user. */
  private followReplies(followed: Followed): void {
    followed.onReply = (reply: Reply) => {
      if (reply.command.code !== Command.CHANGE_USER || !this.changing) return;
      if (!reply.error) this.becomeUser(this.changing);
      this.changing = null;
    };
  }

  /**
   * At the client's COM_QUIT: whether its compute connection can be reset and lent to the next session of
   * the same login (proxy/server-pool.ts): at a command boundary, still the login its key describes, and
   * not moved from "no database" to one (a reset cannot bring "none" back).
   */
  private reusableAtQuit(): boolean {
    const followed = this.followed;
    if (!this.ctx.serverPool?.enabled || !this.backend?.poolKey || !followed || this.mode !== "active" || this.exchanging) return false;
    if (this.changedUser || !followed.follower.quiet) return false;
    return this.loginDatabase !== null || followed.follower.state.database === null;
  }

  private becomeUser(change: UserChange): void {
    this.changedUser = true;
    this.session.route = change.route;
    this.session.stage1 = change.stage1;
    if (change.collation !== null) this.session.handshake = { ...this.session.handshake, collation: change.collation };
  }

  // ---- deciding to park ----------------------------------------------------------------------------

  /**
   * The next park check: after the compute's park time, or, when its sessions are not parked, a recheck
   * (the setting may change). Never sooner: a check of a multiplexed session costs a route read and,
   * once it decides to park, takes the session's connection off offer.
   */
  private armParkCheck(route: ClientSession["route"]): void {
    const { enabled, afterSeconds } = parkSettingsOf(route);
    this.arm(enabled && afterSeconds > 0 ? afterSeconds * 1000 : MIN_RECHECK_MS);
  }

  private arm(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check(), Math.max(ms, 50));
    this.timer.unref();
  }

  private async check(): Promise<void> {
    this.timer = null;
    if (this.mode === "released" || (this.mode === "parked" && !this.countedParked)) return this.checkDetached();
    if (this.mode !== "active") return;
    // A connection on offer stays on offer until the check decides to park (below): withdrawn here, a check
    // that does not park left it idle with this session, unshared until the session's next command, while
    // others waited for one (with parking off, every 30 s).
    const route = (await this.ctx.routes.lookup({ slug: this.session.route.slug, role: this.session.route.role }).catch(() => null)) ?? this.session.route;
    // Meanwhile its connection may have been offered and taken over: the detached session's own check
    // (which keeps the timer going) then decides; one parking or waking re-arms when that is done.
    if (this.mode !== "active") return this.mode === "released" || (this.mode === "parked" && !this.countedParked) ? this.checkDetached() : undefined;
    const settings = parkSettingsOf(route);
    const afterMs = settings.afterSeconds * 1000;
    if (!settings.enabled || afterMs <= 0) return this.arm(Math.max(afterMs, MIN_RECHECK_MS));
    const idleMs = Date.now() - this.lastActivity;
    if (idleMs < afterMs) return this.arm(afterMs - idleMs);
    // Parking takes the connection for its capture: no longer on offer (a surrender under way goes first).
    if (this.lease) {
      if (!this.ctx.broker!.withdraw(this.lease)) return this.arm(MIN_RECHECK_MS);
      this.lease = null;
    }
    const pins = this.followed!.follower.pins().map((p) => p.reason);
    if (this.pumped.busy && pins.length === 0) pins.push("a command is being received");
    if (pins.length > 0) {
      this.reportPinned(pins);
      return this.arm(Math.max(afterMs, MIN_RECHECK_MS));
    }
    this.exchanging = this.park().finally(() => (this.exchanging = null));
  }

  /**
   * A multiplexed session idle past its park time parks as any other: one still holding its released
   * connection takes it back and parks as an active one; one without a connection only counts as parked now.
   */
  private async checkDetached(): Promise<void> {
    const settings = parkSettingsOf(this.session.route);
    const afterMs = settings.afterSeconds * 1000;
    if (!settings.enabled || afterMs <= 0) return this.arm(Math.max(afterMs, MIN_RECHECK_MS));
    const idleMs = Date.now() - this.lastActivity;
    if (idleMs < afterMs) return this.arm(afterMs - idleMs);
    if (this.mode === "released") await this.reclaim(false);
    // Back (by this reclaim, or a command's that came first): parks as an active session, or re-arms.
    if (this.mode === "active") return this.check();
    if (this.mode === "parked" && !this.countedParked) {
      this.countedParked = true;
      this.ctx.activity.parked?.(this.computeId);
    }
  }

  private reportPinned(reasons: string[] | null): void {
    this.pinnedReported = reasons !== null;
    this.ctx.activity.pinned?.(this.computeId, this.session.connectionId, reasons, reasons ? this.lastActivity : undefined);
  }

  /** Capture on the compute connection (no client command reaches it meanwhile), then close it, or go on. */
  private async park(): Promise<void> {
    this.mode = "parking";
    const backend = this.backend!;
    const followed = this.followed!;
    const exchange = this.takeCompute(backend, followed);
    let pins: string[] = [];
    let parked: ParkedSession | null = null;
    try {
      const capture = await captureForParking(exchange, (backend.capabilities & Capability.DEPRECATE_EOF) !== 0);
      const state = followed.follower.state;
      pins = followed.follower.pins().map((p) => p.reason);
      if (capture.inTransaction && pins.length === 0) pins.push("open transaction");
      if (pins.length === 0) {
        restorePlan(state, capture); // a session whose plan cannot be made stays pinned
        parked = { state, capture };
      }
    } catch (error) {
      if (!(error instanceof RestoreImpossibleError || error instanceof CaptureError)) {
        // The compute connection failed under the proxy's own query: as if it had closed under the relay.
        backend.compute.socket.destroy();
        this.client.socket.destroy();
        return;
      }
      pins = [error.message];
    } finally {
      this.followReplies(followed);
    }
    const leftover = exchange.detach();
    if ((this.mode as Mode) === "closed") {
      backend.compute.socket.destroy();
      return;
    }
    if (!parked) {
      this.mode = "active";
      this.pumped.attachCompute(backend.compute.socket, backend.compute, leftover);
      this.reportPinned(pins);
      this.arm(Math.max(parkSettingsOf(this.session.route).afterSeconds * 1000, MIN_RECHECK_MS));
      return;
    }
    this.closeCompute(backend);
    this.registerParked();
    this.parked = parked;
    this.mode = "parked";
    this.countedParked = true;
    this.ctx.activity.parked?.(this.computeId);
    if (this.pinnedReported) this.reportPinned(null);
  }

  /** Let a compute connection go: COM_QUIT, then close (its errors no longer matter to anyone). */
  private closeCompute(backend: BackendSession): void {
    const socket = backend.compute.socket;
    socket.on("error", () => undefined);
    socket.end(encodePacket(Buffer.from([Command.QUIT]), 0));
    setTimeout(() => socket.destroy(), 1000).unref();
    this.backend = null;
    this.followed = null;
    this.rewriter = null;
    this.clientIds = null;
    this.ids = null;
  }

  // ---- commands on a parked session ----------------------------------------------------------------

  private async gated(packet: Buffer | null): Promise<GateOutcome> {
    if (this.exchanging) await this.exchanging;
    if (this.mode === "released" && (await this.reclaim(true))) return "relay";
    if (this.mode === "active") return "relay";
    if (this.mode === "closed") return "answered"; // nothing more is read
    if (this.mode !== "parked" || !this.parked) {
      // Never reached by design; were it, the command is answered rather than dropped (its client would wait forever).
      logger.warn({ mode: this.mode }, "a command found its session without a server connection and not parked");
      this.mode = "closed";
      const message = "the proxy lost this session's server connection between statements; reconnect";
      this.client.socket.end(encodePacket(encodeError(ErrorCode.UNAVAILABLE, "08S01", message), 1));
      setTimeout(() => this.client.socket.destroy(), 1000).unref();
      return "answered";
    }
    if (packet && (await answerParked(this.parkedCommands, packet, this.parked))) return "answered";
    return this.unpark();
  }

  // ---- unparking -----------------------------------------------------------------------------------

  private async unpark(): Promise<GateOutcome> {
    const parked = this.parked!;
    this.mode = "waking";
    const started = Date.now();
    try {
      const restored = await this.restore(parked);
      // Taken over directly (adopt): the connection is attached and the command went to it already.
      if (restored === "adopted") return "resumed";
      if ((this.mode as Mode) === "closed") {
        restored.backend.compute.socket.destroy();
        return "answered";
      }
      this.attached(restored, parked);
      if (restored.wokeFrom) {
        const { route } = this.session;
        const { projectId, organizationId, role } = route;
        this.ctx.wakes?.record({ computeId: this.computeId, projectId, organizationId, fromState: restored.wokeFrom, startedAt: new Date(started), durationMs: Date.now() - started, role, clientAddress: this.session.address });
      }
      return "relay";
    } catch (error) {
      if (error instanceof ClientError && error.kind === "pool_timeout" && (this.mode as Mode) === "waking") {
        // No server connection in time: this command is refused, and the session, its state intact, stays parked.
        this.mode = "parked";
        this.client.socket.write(encodePacket(encodeError(error.code, error.sqlState, error.message), 1));
        this.armParkCheck(this.session.route); // its park check, for when it idles
        return "answered";
      }
      const failure =
        error instanceof ClientError
          ? error
          : new ClientError(ErrorCode.UNAVAILABLE, "08S01", "this session was parked while idle and could not be restored; reconnect", "restore_failed");
      if (!(error instanceof ClientError)) logger.warn({ err: error instanceof Error ? error.message : String(error) }, "restoring a parked session failed");
      // The command is answered with why, and the session ends: nothing runs with part of its state.
      this.mode = "closed";
      this.client.socket.end(encodePacket(encodeError(failure.code, failure.sqlState, failure.message), 1));
      setTimeout(() => this.client.socket.destroy(), 1000).unref();
      return "answered";
    }
  }

  /** The session goes on, with the state it had, on a connection restored (or taken over) for it. */
  private attached(restored: Restored, parked: ParkedSession): void {
    const { backend, followed, ids } = restored;
    this.session.route = restored.route;
    this.backend = backend;
    this.followed = followed;
    this.loginDatabase = restored.loginDatabase; // none, but for a session parked at its login
    this.changedUser = false;
    this.ids = ids;
    this.clientIds = ids ? new ClientIdRewriter(ids) : null;
    this.rewriter = this.strip || ids ? new ServerRewriter(followed.follower, this.strip, ids) : null;
    this.followReplies(followed);
    // The connection now holds exactly what was captured: until the session changes it, no capture is needed.
    this.lastCapture = parked.capture;
    followed.follower.state.captureStale = false;
    this.parked = null;
    this.mode = "active";
    this.turn.began();
    if (this.countedParked) this.ctx.activity.unparked?.(this.computeId);
    this.countedParked = false;
    this.lastActivity = Date.now();
    this.registerAttached(backend);
    this.ctx.activity.touch(this.computeId);
    this.pumped.attachCompute(backend.compute.socket, backend.compute, restored.leftover);
    // A multiplexed session's check is still pending (it reckons from lastActivity): a take-over, once a
    // statement at 1,000 clients, re-arms no timer. A session that was parked for good has none.
    if (!this.timer) this.armParkCheck(this.session.route);
  }

  /**
   * The broker's direct hand-over (Wanted.adopt): while this session waits for a connection, another
   * session's, released in a state this one's client could not tell from its own (sameVisibleState, the
   * same LAST_INSERT_ID(), the route still the one it logged in with), is taken as it is and the waiting
   * command goes to it at once. Anything else goes the usual way (restoreOnLease).
   */
  private readonly adopt = (visible: Visible, take: () => Lease): boolean => {
    const parked = this.parked;
    if (this.mode !== "waking" || !parked || visible.capture.lastInsertId !== parked.capture.lastInsertId || !sameVisibleState(visible, parked)) return false;
    const { slug, role } = this.session.route;
    const route = this.ctx.routes.cached({ slug, role });
    if (!route || !(route === this.session.route || route.doubleHash.equals(this.session.route.doubleHash))) return false;
    const lease = take();
    this.ctx.metrics.takeover?.("same");
    const followed = followOn(lease.handover!.followed!, parked.state);
    this.attached({ route, backend: lease.backend, followed, ids: null, leftover: EMPTY, wokeFrom: null, loginDatabase: lease.loginDatabase }, parked);
    this.pumped.resume();
    return true;
  };

  /**
   * A server connection in this session's state: with a broker, one another session surrenders (same
   * login), or room for a new login, or a wait for either (1040 when it runs out); without, a login.
   * "adopted": taken over directly, and attached already (adopt).
   */
  private async restore(parked: ParkedSession): Promise<Restored | "adopted"> {
    const broker = this.ctx.broker;
    if (!broker) return restoreParked(this.ctx, this.attach, this.session, parked);
    const { route, handshake } = this.session;
    const pooled = route.compute?.pooling === true && !this.changedUser;
    const wanted: Wanted = {
      key: pooled ? this.loginKeyFor(route, handshake) : null,
      needsNoDatabase: needsNoDatabase(parked.state),
      adopt: pooled ? this.adopt : undefined,
    };
    const got = await broker.obtain(this.computeId, wanted, `the compute of project '${route.slug}'`);
    if (got.kind === "adopted") return "adopted";
    if (got.kind === "lease") return restoreOnLease(this.ctx, this.session, parked, got.lease);
    const slot = (this.session.slot = { held: true });
    try {
      return await restoreParked(this.ctx, this.attach, this.session, parked);
    } finally {
      if (slot.held) broker.unreserve(this.computeId);
      this.session.slot = undefined;
    }
  }

  /** The broker's key for a login as `route` says (the same route object: the key worked out before). */
  private loginKeyFor(route: ClientSession["route"], handshake: ClientSession["handshake"]): string {
    const known = this.keyOfRoute;
    if (known?.route === route && known.handshake === handshake) return known.key;
    const key = loginKey({ computeId: this.computeId, role: route.role, doubleHash: route.doubleHash, client: handshake });
    this.keyOfRoute = { route, handshake, key };
    return key;
  }

  private registerAttached(backend: BackendSession): void {
    this.register(backend.greeting.connectionId, undefined);
  }

  /**
   * The session's entry in the registry, one object kept up to date (a take-over changes it twice a
   * statement at 1,000 clients: no new entry and closure each time).
   */
  private register(backendThreadId: number | null, kill: (() => void) | undefined): void {
    const entry = this.registryEntry;
    entry.projectId = this.session.route.projectId;
    entry.backendThreadId = backendThreadId;
    entry.kill = kill;
    this.ctx.registry.register(this.session.connectionId, entry);
  }

  // ---- the end -------------------------------------------------------------------------------------

  /**
   * Parked, the session has no compute thread for a KILL to name: KILL reaches it through the registry,
   * and KILL CONNECTION ends it here (kill-router.ts, SessionRegistry.answer).
   */
  private registerParked(): void {
    this.register(null, this.killWhileParked);
  }

  private readonly killWhileParked = () => this.killedWhileParked();

  /**
   * KILL CONNECTION of a session without a compute thread. A parked one: its client reads 1927, and it
   * ends. One that only lent its connection between statements (multiplexed) is, to its client, an idle
   * session on its compute, whose KILL MariaDB answers by closing the connection: so does the proxy.
   */
  private killedWhileParked(): void {
    if (this.mode !== "parked" && this.mode !== "waking" && this.mode !== "released") return;
    const parked = this.countedParked;
    this.mode = "closed";
    // Ended from now on: a second KILL of its id before the socket's close runs closed() finds nothing (1094).
    this.ctx.registry.unregister(this.session.connectionId);
    this.client.socket.end(parked ? encodePacket(encodeError(ErrorCode.CONNECTION_KILLED, "70100", "Connection was killed"), 1) : undefined);
    setTimeout(() => this.client.socket.destroy(), 1000).unref();
  }

  private closed(): void {
    this.session.firstAnswer?.set();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.turn.stop();
    const wasReleased = this.mode === "released";
    this.mode = "closed";
    // A released connection still this session's goes as an active one would (a surrender under way hands it over).
    const mine = this.lease ? this.ctx.broker!.withdraw(this.lease) : !wasReleased;
    if (this.keptForPool && this.backend && mine) this.ctx.serverPool!.keep(this.backend.poolKey!, this.computeId, this.backend, this.loginDatabase);
    else if (mine) this.backend?.compute.socket.destroy();
    this.ctx.registry.unregister(this.session.connectionId);
    this.ctx.broker?.clientLeft(this.computeId);
    if (this.countedParked) this.ctx.activity.parkedClosed?.(this.computeId);
    else this.ctx.activity.closed(this.computeId);
    if (this.pinnedReported) this.reportPinned(null);
    this.ctx.metrics.sessionClosed();
  }
}
