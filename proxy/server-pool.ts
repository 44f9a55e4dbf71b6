import type { ComputeAddress } from "@/server/compute/address";
import { logger } from "@/server/logger";
import type { BackendSession } from "./backend";
import { PacketStream } from "./packet-stream";
import { Capability, Command } from "./protocol/constants";
import type { HandshakeResponse } from "./protocol/handshake";
import { encodePacket } from "./protocol/packet";
import { withTimeout } from "./timeout";

// Logged-in compute connections kept between client sessions (the first step of issue 15: reuse at session
// boundaries, no multiplexing). The proxy's own login to a compute (connect, greeting, login, OK) follows
// the client's handshake and about doubles what a connect costs; a session whose client quits cleanly
// (COM_QUIT with no reply pending: ParkableSession.reusableAtQuit, from the session's follower) leaves its connection here instead, after
// COM_RESET_CONNECTION (MariaDB >= 10.2.4: rolls back, drops temporary tables, releases table locks and
// GET_LOCK()s, resets variables, user variables and prepared statements, restores the login's character
// set) and, when the login named one, COM_INIT_DB of the login's database. Only a clean OK to both keeps
// it. The next client session of the same key takes it instead of logging in, and gets the login's OK
// from the proxy.
//
// The key is everything a login fixes: the compute and its address (a compute restarted elsewhere, or
// another compute on a reused port, never matches), the role and its password hash (a changed password
// or a recreated role never reuses an old login), and the client's login-shaping handshake: capability
// bits (they change packet formats: EOF deprecation, session tracking, multi-results, found rows ...),
// MariaDB's extended capabilities, the collation, and the database. The database is part of the key
// rather than applied with COM_INIT_DB when a connection is taken: a taken connection then needs no round
// trip at all (what this pool is for), the reset already puts the login's database back, and most
// applications use one database per role.
//
// Whether the compute runs is not this pool's to judge: attachCompute takes a connection only where it
// would log in (an address it knows the compute runs at, or the frozen server a wake is thawing, kept only
// if that server is let go). Connections here are idle: a compute that closes them (suspend, crash,
// wait_timeout) removes them at once, as does anything they send unasked, and each leaves after
// `idleMs`. They are no client session: the scheduler is told their thread ids (`report`) so that they
// keep no compute awake, and one paused with its compute is reused by the wake without a login.

export interface ServerPoolSettings {
  /** Idle connections kept per key (0: no pooling). */
  idlePerKey: number;
  /** Idle connections (and ones being reset) kept per compute. */
  idlePerCompute: number;
  /** How long a connection may stay idle before it is closed. */
  idleMs: number;
  /** How long the compute may take to answer the reset. */
  resetTimeoutMs?: number;
}

export interface PoolKeyParts {
  computeId: string;
  address: ComputeAddress;
  role: string;
  /** SHA1(SHA1(password)) of the role, as the client's login was verified against. */
  doubleHash: Buffer;
  client: HandshakeResponse;
}

/** Capability bits that shape only the login itself (or that the proxy never passes on): not part of a key. */
const LOGIN_ONLY = Capability.CONNECT_WITH_DB | Capability.CONNECT_ATTRS | Capability.SSL | Capability.COMPRESS | Capability.ZSTD_COMPRESSION;

/**
 * What a logged-in connection is, whatever its address and database: the sessions that may take over one
 * another's connection (proxy/connection-broker.ts) share it.
 */
export function loginKey(p: Omit<PoolKeyParts, "address">): string {
  const { client } = p;
  return [p.computeId, p.role, p.doubleHash.toString("hex"), (client.capabilities & ~LOGIN_ONLY) >>> 0, client.extendedCapabilities >>> 0, client.collation].join("\u0000");
}

export function poolKey(p: PoolKeyParts): string {
  const { address, client } = p;
  return [
    p.computeId,
    address.socketPath ?? "",
    address.host,
    address.port,
    p.role,
    p.doubleHash.toString("hex"),
    (client.capabilities & ~LOGIN_ONLY) >>> 0,
    client.extendedCapabilities >>> 0,
    client.collation,
    client.database ?? "",
  ].join("\u0000");
}

interface Held {
  key: string;
  computeId: string;
  backend: BackendSession;
  /** Set while idle (after a clean reset): closes it after the idle time. */
  timer: NodeJS.Timeout | null;
  /** Set while idle: what closes it when the compute sends anything or closes it. */
  gone: (() => void) | null;
}

const NOTHING = Buffer.alloc(0);

export class ServerPool {
  private readonly idle = new Map<string, Held[]>();
  /** Per key, the connections kept (idle or being reset). */
  private readonly perKey = new Map<string, number>();
  /** Per compute, the connections kept (idle or being reset): what is reported. */
  private readonly perCompute = new Map<string, Set<Held>>();

  constructor(
    private readonly settings: ServerPoolSettings,
    /** The full set of compute thread ids held here without a client session, after every change. */
    private readonly report: (computeId: string, threadIds: readonly number[]) => void,
  ) {}

  get enabled(): boolean {
    return this.settings.idlePerKey > 0 && this.settings.idlePerCompute > 0;
  }

  /** An idle connection of this key, now the caller's; null when there is none. */
  take(key: string): BackendSession | null {
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      const held = list.pop()!;
      this.forget(held);
      const socket = held.backend.compute.socket;
      if (socket.destroyed || !socket.readable || !socket.writable) continue;
      return { ...held.backend, leftover: NOTHING };
    }
    return null;
  }

  /**
   * A session ended with its client's COM_QUIT at a safe point: reset the connection and keep it for the
   * next session of `key`, or close it when the pool is full or the reset is anything but clean.
   * `database` is the login's (the reset brings it back).
   */
  keep(key: string, computeId: string, backend: BackendSession, database: string | null): void {
    const socket = backend.compute.socket;
    const kept = this.perCompute.get(computeId);
    if (!this.enabled || (this.perKey.get(key) ?? 0) >= this.settings.idlePerKey || (kept?.size ?? 0) >= this.settings.idlePerCompute) {
      socket.destroy();
      return;
    }
    const held: Held = { key, computeId, backend, timer: null, gone: null };
    this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
    this.perCompute.set(computeId, (kept ?? new Set()).add(held));
    this.reportCompute(computeId);
    resetForReuse(backend, database, this.settings.resetTimeoutMs ?? 5000).then(
      (clean) => {
        if (!clean || socket.destroyed) {
          this.forget(held);
          socket.destroy();
          return;
        }
        this.park(held);
      },
      (error: unknown) => {
        logger.warn({ err: error }, "resetting a compute connection for reuse failed");
        this.forget(held);
        socket.destroy();
      },
    );
  }

  /** Close every idle connection (the proxy stops). */
  closeAll(): void {
    for (const set of [...this.perCompute.values()]) {
      for (const held of [...set]) {
        this.forget(held);
        held.backend.compute.socket.destroy();
      }
    }
  }

  /** Thread ids of the compute's idle connections (reset, ready to be taken). */
  idleThreadIds(computeId: string): number[] {
    return [...(this.perCompute.get(computeId) ?? [])].filter((h) => h.gone !== null).map((h) => h.backend.greeting.connectionId);
  }

  /** Close one idle connection of the compute (room for another login at the compute's limit); false when none is idle. */
  closeIdle(computeId: string): boolean {
    const held = [...(this.perCompute.get(computeId) ?? [])].find((h) => h.gone !== null);
    held?.gone?.();
    return held !== undefined;
  }

  /** Thread ids held for a compute (idle or being reset). */
  heldThreadIds(computeId: string): number[] {
    return [...(this.perCompute.get(computeId) ?? [])].map((h) => h.backend.greeting.connectionId);
  }

  /** Idle from now on: closed by the idle limit, by the compute closing it, or by anything it sends. */
  private park(held: Held): void {
    const socket = held.backend.compute.socket;
    const gone = () => {
      if (held.gone !== gone) return;
      this.removeIdle(held);
      this.forget(held);
      socket.destroy();
    };
    held.gone = gone;
    socket.on("data", gone);
    socket.on("end", gone);
    socket.on("close", gone);
    socket.on("error", gone);
    held.timer = setTimeout(gone, this.settings.idleMs);
    held.timer.unref();
    const list = this.idle.get(held.key) ?? [];
    list.push(held);
    this.idle.set(held.key, list);
    this.reportCompute(held.computeId); // idle now: the broker may close it for a client waiting for room
  }

  private removeIdle(held: Held): void {
    const list = this.idle.get(held.key);
    const at = list?.indexOf(held) ?? -1;
    if (list && at >= 0) list.splice(at, 1);
    if (list?.length === 0) this.idle.delete(held.key);
  }

  /** No longer the pool's (taken, closed or failed): listeners, timer, counts and the report. */
  private forget(held: Held): void {
    const socket = held.backend.compute.socket;
    if (held.gone) {
      socket.off("data", held.gone);
      socket.off("end", held.gone);
      socket.off("close", held.gone);
      socket.off("error", held.gone);
      held.gone = null;
    }
    if (held.timer) clearTimeout(held.timer);
    held.timer = null;
    if (held.backend.compute.socket.listenerCount("error") === 0) socket.on("error", () => undefined);
    const set = this.perCompute.get(held.computeId);
    if (!set?.delete(held)) return;
    if (set.size === 0) this.perCompute.delete(held.computeId);
    const n = (this.perKey.get(held.key) ?? 1) - 1;
    if (n > 0) this.perKey.set(held.key, n);
    else this.perKey.delete(held.key);
    this.removeIdle(held);
    this.reportCompute(held.computeId);
  }

  private reportCompute(computeId: string): void {
    this.report(computeId, this.heldThreadIds(computeId));
  }
}

/**
 * A login with CLIENT_IGNORE_SPACE starts with IGNORE_SPACE in its sql_mode, but COM_RESET_CONNECTION puts
 * the global sql_mode back without it (MariaDB 10.11): the next session would parse `COUNT (*)` and the
 * like differently from a fresh login. Found by the parking fuzz (test/proxy-parking-fuzz.int.test.ts).
 */
export const IGNORE_SPACE_AGAIN =
  "SET SESSION sql_mode = IF(@@session.sql_mode = '', 'IGNORE_SPACE', CONCAT(@@session.sql_mode, ',IGNORE_SPACE'))";

/**
 * COM_RESET_CONNECTION, then what the login set that the reset undoes (IGNORE_SPACE), then COM_INIT_DB of
 * the login's database when it named one, sent together; true when each answers OK and nothing else
 * arrives.
 */
async function resetForReuse(backend: BackendSession, database: string | null, timeoutMs: number): Promise<boolean> {
  backend.compute.detach();
  const commands = [Buffer.from([Command.RESET_CONNECTION])];
  if (backend.capabilities & Capability.IGNORE_SPACE) commands.push(Buffer.concat([Buffer.from([Command.QUERY]), Buffer.from(IGNORE_SPACE_AGAIN, "utf8")]));
  if (database !== null) commands.push(Buffer.concat([Buffer.from([Command.INIT_DB]), Buffer.from(database, "utf8")]));
  return okReplies(backend, commands, timeoutMs, "COM_RESET_CONNECTION").then(
    () => true,
    () => false,
  );
}

/**
 * Whether a connection taken from the pool reaches a server that runs, now: COM_PING answered (a frozen
 * server answers once thawed; a stopped one never). Rejects otherwise, the connection closed.
 */
export function answersPing(backend: BackendSession, timeoutMs: number): Promise<BackendSession> {
  return okReplies(backend, [Buffer.from([Command.PING])], timeoutMs, "COM_PING").then(
    () => backend,
    (error: unknown) => {
      backend.compute.socket.destroy();
      throw error;
    },
  );
}

/** Send the commands together; resolves when each is answered with OK and nothing else arrives. */
async function okReplies(backend: BackendSession, commands: Buffer[], timeoutMs: number, what: string): Promise<void> {
  const socket = backend.compute.socket;
  const stream = new PacketStream(socket, 64 * 1024);
  try {
    socket.write(Buffer.concat(commands.map((c) => encodePacket(c, 0))));
    for (let i = 0; i < commands.length; i++) {
      const reply = await withTimeout(stream.read(), timeoutMs, `the compute's reply to ${what}`);
      if (reply.sequenceId !== 1 || reply.payload[0] !== 0x00) throw new Error(`the compute did not answer ${what} with OK`);
    }
    if (stream.pendingBytes > 0) throw new Error(`the compute sent more than its reply to ${what}`);
  } finally {
    stream.detach();
  }
}
