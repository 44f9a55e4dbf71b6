import type tls from "node:tls";
import type { ConnectionBroker } from "./connection-broker";
import type { KillRouter } from "./kill-router";
import type { PoolSnapshot } from "./pool-snapshot";
import type { PreAuthGate } from "./preauth-gate";
import type { ByteCounter } from "./relay-socket";
import type { RouteCache } from "./routing";
import type { ServerPool } from "./server-pool";
import type { ServerInfo } from "./server-info";
import type { SessionRegistry } from "./sessions";
import type { AuthThrottle } from "./throttle";
import type { Waker } from "./wake";
import type { WakeSink } from "./wake-recorder";

// What every client session of a proxy process shares (start-proxy.ts builds it): the parts that the
// transport, the policy and the attach steps of a session (session.ts) each take what they need from.

export interface ActivitySink {
  opened(computeId: string): void;
  closed(computeId: string): void;
  touch(computeId: string): void;
  /** The compute's byte counters (client to compute, compute to client), flushed with the activity. */
  transfer?(computeId: string): { toCompute: ByteCounter; toClient: ByteCounter };
  // Parking (proxy/parking-session.ts): a parked session counts as neither a connection nor activity.
  parked?(computeId: string): void;
  /** A new session that starts parked (its compute was not running at login). */
  arrivedParked?(computeId: string): void;
  unparked?(computeId: string): void;
  parkedClosed?(computeId: string): void;
  /** A session idle past its park time that cannot park, and why; null clears it. */
  pinned?(computeId: string, connectionId: number, reasons: readonly string[] | null, idleSinceMs?: number): void;
  /** The compute's server connections and queue (issue 15), after each change. */
  pool?(computeId: string, snapshot: PoolSnapshot): void;
}

export interface SessionMetrics {
  handshake(result: string): void;
  authFailure(): void;
  wake(from: string, seconds: number): void;
  backendRetry(): void;
  sessionOpened(): void;
  sessionClosed(): void;
  /** The compute's server connections and queue (issue 15), after each change: gauges summed over computes. */
  pool?(computeId: string, snapshot: PoolSnapshot): void;
  /** A client's wait for a server connection ended: served, or its wait ran out (it got an error). */
  poolWait?(seconds: number, outcome: "served" | "timeout"): void;
  /**
   * A session took over another session's server connection: "same" when their visible state matched (the
   * connection served as it was), "restored" when the proxy reset it and restored the taker's state.
   */
  takeover?(state: "same" | "restored"): void;
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
  /** Logged-in compute connections kept between client sessions (none: every session logs in). */
  serverPool?: ServerPool;
  /** Who may hold which server connection of a compute (issue 15); none: no limit, no multiplexing. */
  broker?: ConnectionBroker;
  /** Where a KILL's connection id leads (this process, another worker, another proxy instance). */
  kills: KillRouter;
}
