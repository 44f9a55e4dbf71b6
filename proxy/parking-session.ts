import { logger } from "@/server/logger";
import type { ClientSession } from "./attach";
import type { BackendSession } from "./backend";
import { ClientError } from "./client-error";
import type { ProxyContext } from "./context";
import { clientTracksSession, exchangeOn, followCompute, sendTrackingSetup, type Followed } from "./followed-compute";
import { answerParked, type ParkedCommandContext, type UserChange } from "./parked-commands";
import { parkSettingsOf } from "./park-settings";
import { captureForParking } from "./parking-capture";
import { parkedAtLogin, restoreParked, type Attach, type ParkedSession } from "./parking-restore";
import { Capability, Command, ErrorCode } from "./protocol/constants";
import { encodeError } from "./protocol/handshake";
import { encodePacket } from "./protocol/packet";
import { pump, type InterceptOutcome, type PumpHandle } from "./pump";
import { CaptureError } from "./session-state/park-capture";
import type { Reply } from "./session-state/reply-follower";
import { RestoreImpossibleError, restorePlan } from "./session-state/restore-plan";
import { ServerRewriter } from "./session-state/server-rewriter";
import { ClientIdRewriter, type StatementIds } from "./session-state/statement-ids";
import type { HandedOver } from "./transport";

// A relayed client session that can outlive its compute connection (issue 14). Active, it is pumped as
// before, its follower fed with both directions. Once idle for its compute's park time with nothing that
// pins it, it parks: the proxy reads what tracking does not report (parking-capture.ts), closes the
// compute connection and keeps the client's socket; the session then counts as neither a connection nor
// activity, so the scheduler can pause and suspend the compute under it. A parked session answers pings,
// pool validation queries, COM_RESET_CONNECTION and COM_CHANGE_USER itself; any other command unparks it
// (parking-restore.ts) and then goes to the compute as if nothing had happened.

type Mode = "active" | "parking" | "parked" | "waking" | "closed";

/** The pump's COM_CHANGE_USER handling on the current compute connection; `verified` is told who it became. */
export type ChangeUserHandler = (packet: Buffer, backend: BackendSession, verified: (change: UserChange) => void) => Promise<InterceptOutcome>;

/** How long the proxy waits for the compute to answer its own capture queries. */
const CAPTURE_TIMEOUT_MS = 10_000;
/** A pinned or non-parking session is looked at again this often at most. */
const MIN_RECHECK_MS = 30_000;

export class ParkableSession {
  private mode: Mode = "active";
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
  private readonly pumped: PumpHandle;
  private readonly strip: boolean;
  private readonly computeId: string;
  private readonly parkedCommands: ParkedCommandContext;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly session: ClientSession,
    private readonly client: HandedOver,
    /** The compute connection logged in for this client, or null: the session starts parked (its compute was not running). */
    backend: BackendSession | null,
    changeUser: ChangeUserHandler,
    private readonly attach: Attach,
  ) {
    this.backend = backend;
    this.followed = null;
    this.computeId = session.route.computeId!;
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
        this.rewriter = new ServerRewriter(followed.follower, this.strip, null, sendTrackingSetup(backend, followed));
      }
    } else {
      // Logged in by the proxy alone: parked with the login's state until its first real command.
      this.parked = parkedAtLogin(session);
      this.mode = "parked";
      this.countedParked = true;
    }
    const { route, connectionId } = session;
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
      ctx.activity.arrivedParked?.(computeId);
      return;
    }
    ctx.registry.register(connectionId, { projectId: route.projectId, computeId, backendThreadId: backend.greeting.connectionId });
    ctx.activity.opened(computeId);
    this.arm(parkSettingsOf(route).afterSeconds * 1000);
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
      return;
    }
    this.followed?.follower.serverBytes(chunk);
    forward(chunk);
  }

  private activity(): void {
    if (this.mode !== "active") return; // a parked session's pings are no activity
    this.ctx.activity.touch(this.computeId);
    this.lastActivity = Date.now();
    if (this.pinnedReported) {
      // What pinned it may be released by this command: look again after the park time, not the recheck's.
      this.reportPinned(null);
      this.arm(parkSettingsOf(this.session.route).afterSeconds * 1000);
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

  private arm(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check(), Math.max(ms, 50));
    this.timer.unref();
  }

  private async check(): Promise<void> {
    this.timer = null;
    if (this.mode !== "active") return;
    const route = (await this.ctx.routes.lookup({ slug: this.session.route.slug, role: this.session.route.role }).catch(() => null)) ?? this.session.route;
    if (this.mode !== "active") return;
    const settings = parkSettingsOf(route);
    const afterMs = settings.afterSeconds * 1000;
    if (!settings.enabled || afterMs <= 0) return this.arm(Math.max(afterMs, MIN_RECHECK_MS));
    const idleMs = Date.now() - this.lastActivity;
    if (idleMs < afterMs) return this.arm(afterMs - idleMs);
    const pins = this.followed!.follower.pins().map((p) => p.reason);
    if (this.pumped.busy && pins.length === 0) pins.push("a command is being received");
    if (pins.length > 0) {
      this.reportPinned(pins);
      return this.arm(Math.max(afterMs, MIN_RECHECK_MS));
    }
    this.exchanging = this.park().finally(() => (this.exchanging = null));
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

  private async gated(packet: Buffer | null): Promise<"answered" | "relay"> {
    if (this.exchanging) await this.exchanging;
    if (this.mode === "active") return "relay";
    if (this.mode !== "parked" || !this.parked) return "answered"; // closed: nothing more is read
    if (packet && (await answerParked(this.parkedCommands, packet, this.parked))) return "answered";
    return this.unpark();
  }

  // ---- unparking -----------------------------------------------------------------------------------

  private async unpark(): Promise<"answered" | "relay"> {
    const parked = this.parked!;
    this.mode = "waking";
    const started = Date.now();
    try {
      const restored = await restoreParked(this.ctx, this.attach, this.session, parked);
      if ((this.mode as Mode) === "closed") {
        restored.backend.compute.socket.destroy();
        return "answered";
      }
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
      this.parked = null;
      this.mode = "active";
      this.countedParked = false;
      this.lastActivity = Date.now();
      const { route, connectionId } = this.session;
      this.ctx.registry.register(connectionId, { projectId: route.projectId, computeId: this.computeId, backendThreadId: backend.greeting.connectionId });
      this.ctx.activity.unparked?.(this.computeId);
      this.ctx.activity.touch(this.computeId);
      this.pumped.attachCompute(backend.compute.socket, backend.compute, restored.leftover);
      this.arm(parkSettingsOf(route).afterSeconds * 1000);
      if (restored.wokeFrom) {
        const { projectId, organizationId, role } = route;
        this.ctx.wakes?.record({ computeId: this.computeId, projectId, organizationId, fromState: restored.wokeFrom, startedAt: new Date(started), durationMs: Date.now() - started, role, clientAddress: this.session.address });
      }
      return "relay";
    } catch (error) {
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

  // ---- the end -------------------------------------------------------------------------------------

  /**
   * Parked, the session has no compute thread for a KILL to name: KILL reaches it through the registry,
   * and KILL CONNECTION ends it here (kill-router.ts, SessionRegistry.answer).
   */
  private registerParked(): void {
    const { route, connectionId } = this.session;
    this.ctx.registry.register(connectionId, { projectId: route.projectId, computeId: this.computeId, backendThreadId: null, kill: () => this.killedWhileParked() });
  }

  /** KILL CONNECTION of the parked session: its client reads what MariaDB sends a killed connection, and it ends. */
  private killedWhileParked(): void {
    if (this.mode !== "parked" && this.mode !== "waking") return;
    this.mode = "closed";
    this.client.socket.end(encodePacket(encodeError(ErrorCode.CONNECTION_KILLED, "70100", "Connection was killed"), 1));
    setTimeout(() => this.client.socket.destroy(), 1000).unref();
  }

  private closed(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.mode = "closed";
    if (this.keptForPool && this.backend) this.ctx.serverPool!.keep(this.backend.poolKey!, this.computeId, this.backend, this.loginDatabase);
    else this.backend?.compute.socket.destroy();
    this.ctx.registry.unregister(this.session.connectionId);
    if (this.countedParked) this.ctx.activity.parkedClosed?.(this.computeId);
    else this.ctx.activity.closed(this.computeId);
    if (this.pinnedReported) this.reportPinned(null);
    this.ctx.metrics.sessionClosed();
  }
}
