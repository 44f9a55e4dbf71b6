// The contract between the compute state machine (server/compute) and whatever runs compute nodes:
// real mariadbd processes on this machine (local) or Kubernetes workloads (kubernetes).
//
// The state machine owns the database row and its compare-and-set transitions; a driver only acts on the
// workload and reports facts. Every method is idempotent: calling it twice, or after a crash half-way
// through, converges on the asked-for result, so the reconciler can simply call it again.

/** A MariaDB user of the project with its stored mysql_native_password hash ('*' + 40 hex digits). */
export interface RoleSpec {
  name: string;
  passwordHash: string;
}

/** What a driver needs to know to run one compute. */
export interface ComputeSpec {
  computeId: string;
  projectSlug: string;
  /** The project's database, created on first start. */
  database: string;
  /** Compute units; drivers scale memory settings from it. */
  size: number;
  roles: RoleSpec[];
  /** The most storage the compute may hold (its plan's), enforced where the driver can. */
  storageLimitBytes?: number;
  /** Whose compute it is: the kubernetes driver keeps an organization's computes in one namespace. */
  organizationId?: string;
  projectId?: string;
  /** The organization's plan, for a namespace's quota. */
  plan?: string;
}

/**
 * Facts a driver keeps about a workload between calls (stored as JSON on the compute row).
 * The local driver keeps the pid and port here; other drivers keep what they need.
 */
export type DriverState = Record<string, unknown>;

export interface Endpoint {
  host: string;
  port: number;
}

/** Where a server that just came up takes connections: its endpoint, and its Unix socket when it has one. */
export interface ReadyAddress extends Endpoint {
  socketPath: string | null;
}

export interface StartHooks {
  /**
   * Called once, as soon as the server answers (before the driver's own set-up after that: database,
   * roles, limits), so that a client waiting for it can begin its login at once; the start may still fail.
   */
  onReady?(address: ReadyAddress): void;
  /**
   * Called once the server is set up as the start leaves it (database, roles, limits), before the start is
   * reported, so that a client logged in meanwhile can go on while the start is recorded; the start may still
   * fail to be recorded (the caller then ends that client's session).
   */
  onServing?(): void;
}

export interface StartResult {
  endpoint: Endpoint;
  driverState: DriverState;
}

/** What a workload is doing right now, as seen from outside (never counts as activity). */
export type WorkloadStatus = "running" | "paused" | "stopped" | "missing";

export interface InspectResult {
  status: WorkloadStatus;
  endpoint: Endpoint | null;
  driverState: DriverState | null;
}

export interface ComputeDriver {
  readonly name: string;
  /** Create storage when missing (first start) and start the server; resolves when it accepts queries. */
  start(spec: ComputeSpec, previous: DriverState | null, hooks?: StartHooks): Promise<StartResult>;
  /** Stop cleanly: sessions closed, port closed, memory freed. Storage is kept. */
  stop(computeId: string, state: DriverState | null): Promise<void>;
  /** Warm suspend: freeze the server in place (it keeps its memory and port). */
  pause(computeId: string, state: DriverState | null): Promise<void>;
  /** Thaw a paused server; resolves when it answers again. */
  unpause(computeId: string, state: DriverState | null): Promise<void>;
  /** Stop and remove the workload and its storage for good. */
  destroy(computeId: string, state: DriverState | null): Promise<void>;
  /** Look at the workload without touching it (used to adopt after a restart and to notice crashes). */
  inspect(computeId: string, state: DriverState | null): Promise<InspectResult>;
  /** Make the server's accounts match the project's roles (create, re-hash, drop). Server must be running. */
  syncRoles(computeId: string, state: DriverState | null, database: string, roles: RoleSpec[]): Promise<void>;
  /**
   * Sessions of users on the server itself (not the control plane's own), for the idle check; the threads
   * in `besides` are not counted while they have been idle since their report (the compute connections live
   * proxies hold without a client session).
   */
  countUserSessions(computeId: string, state: DriverState | null, besides?: readonly HeldThread[]): Promise<number>;
  /** Close every user session (forced suspend through the API). */
  killUserSessions(computeId: string, state: DriverState | null): Promise<void>;
  /**
   * A Unix socket on this machine where the running server takes the same logins as at its endpoint, for
   * a proxy on this machine (cheaper than TCP over loopback). Null, or absent, when there is none.
   */
  localSocket?(state: DriverState | null): string | null;
  /** Bytes the compute's storage holds now (for its status and its bill); null when it cannot be read. */
  storageBytes?(computeId: string, state: DriverState | null): Promise<number | null>;
}

/**
 * A compute thread a live proxy reported holding without a client session (pooled or lent), and how long
 * ago that report was written. The proxy's report lags its take of a pooled connection (it is written
 * after, not before, so a connect waits for no write); a take always sends the thread a command (a ping),
 * so a thread that has been idle for at least the report's age is still the proxy's, and one that ran
 * anything since is someone's session again.
 */
export interface HeldThread {
  id: number;
  reportedMsAgo: number;
}
