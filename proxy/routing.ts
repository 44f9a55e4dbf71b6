import { dbPool } from "@/server/db";
import type { Plan } from "@/server/db/generated/enums";
import type { WakeContext, WakeRow } from "@/server/compute/lifecycle/wake";
import { compileAccessRules, type CompiledAccessRules } from "@/server/projects/access-rules";
import { parseStoredHash } from "./protocol/native-password";
import { wakeRowOf, type ComputeColumns, type RouteChange } from "./route-changes";

// Where a client's project and role lead (the names are parsed by proxy/policy.ts). Routes are cached: kept
// current by PostgreSQL's notifications while the proxy hears them, else briefly (PROXY_ROUTE_CACHE_MS); a
// failed password check against a cached route looks again before it refuses, so a reset takes effect at once.
// The compute's facts in a route are only trusted by a wake when they were read after its client arrived or
// are current (RouteCache.isCurrent); proxy/attach.ts reads any other cached route afresh.

export interface RouteTarget {
  slug: string;
  role: string;
}

export interface Route {
  projectId: string;
  organizationId: string;
  slug: string;
  role: string;
  /** SHA1(SHA1(password)) of the role. */
  doubleHash: Buffer;
  computeId: string | null;
  /** The project's access rules (require TLS, allowed IP ranges), read in the same query as the rest. */
  access: CompiledAccessRules;
  /**
   * The compute's row and what a wake needs besides (organization, plan and quota figure, roles version),
   * as of `readAt`: a wake decides on them without reading again when they were read after its client came.
   */
  compute: { row: WakeRow; context: WakeContext; park: ParkSettings; pooling: boolean } | null;
  /** When this was read from PostgreSQL (Date.now()); a cached route is older than its client. */
  readAt: number;
}

/**
 * Whether and when the compute's idle client sessions are parked (issue 14), resolved from its settings:
 * afterSeconds is parkAfterSeconds, or the suspend timeout when that is null. A compute that never suspends
 * (suspend timeout 0) with no park time of its own does not park: it would gain nothing.
 */
export interface ParkSettings {
  enabled: boolean;
  afterSeconds: number;
}

export function parkSettings(row: { parkIdleSessions: boolean; parkAfterSeconds: number | null; suspendTimeoutSeconds: number }): ParkSettings {
  const afterSeconds = row.parkAfterSeconds ?? row.suspendTimeoutSeconds;
  return { enabled: row.parkIdleSessions && afterSeconds > 0, afterSeconds };
}

interface CacheEntry {
  route: Route | null;
  expires: number;
  /** Read while every change was heard, and none overlapped the read: kept current by the changes since. */
  heard: boolean;
}

/** How long a route is kept while every change to it is heard (ROUTES_CHANGED_CHANNEL). */
export const HEARD_ROUTE_TTL_MS = 60_000;

const keyOf = (target: RouteTarget) => `${target.slug}.${target.role}`;

/**
 * Routes by project and role. While the proxy hears PostgreSQL's notifications of every change to what a
 * route holds (proxy/route-changes.ts; start-proxy.ts listens), a route read is kept up to date by them: a
 * compute's new row replaces the one it held, any other change drops it; such a route is current (as good
 * as a read made now, but for a notification's delivery: milliseconds) and kept HEARD_ROUTE_TTL_MS. While
 * nothing is heard (before the LISTEN is up, after it was lost), routes are kept the configured ttlMs and
 * are never current. A ttlMs of 0 caches nothing.
 */
export class RouteCache {
  private readonly entries = new Map<string, CacheEntry>();
  private listening = false;
  /** Bumped by every change and gap: a read that overlapped one may predate it, and is not heard. */
  private generation = 0;

  constructor(private readonly ttlMs: number) {}

  /** Whether every change is heard now (the LISTEN is up). */
  get hearsChanges(): boolean {
    return this.listening;
  }

  /** The route while the cache holds it (no look-up, no promise: a take-over's hot path); undefined when it does not. */
  cached(target: RouteTarget): Route | null | undefined {
    const cached = this.entries.get(keyOf(target));
    return cached && cached.expires > Date.now() ? cached.route : undefined;
  }

  /** Whether `route` is what the cache holds for its project and role, kept current by the changes heard since its read. */
  isCurrent(route: Route): boolean {
    const entry = this.entries.get(keyOf(route));
    return this.listening && entry !== undefined && entry.route === route && entry.heard && entry.expires > Date.now();
  }

  /** The route, from the cache unless `fresh`; a fresh look-up is cached for the next client. */
  async lookup(target: RouteTarget, { fresh = false } = {}): Promise<Route | null> {
    const key = keyOf(target);
    const now = Date.now();
    const cached = this.entries.get(key);
    if (!fresh && cached && cached.expires > now) return cached.route;
    const [generation, listening] = [this.generation, this.listening];
    const route = await loadRoute(target);
    if (this.ttlMs > 0) {
      if (this.entries.size > 10_000) this.entries.clear(); // bounded: a flood of unknown names can't grow it
      // No route (an unknown project or role) is never heard current: a project created later is no change to it.
      const heard = route !== null && listening && this.listening && generation === this.generation;
      this.entries.set(key, { route, expires: now + (heard ? Math.max(this.ttlMs, HEARD_ROUTE_TTL_MS) : this.ttlMs), heard });
    }
    return route;
  }

  /** A change PostgreSQL told of. */
  changed(change: RouteChange): void {
    this.generation++;
    if (change.kind === "all") return this.entries.clear();
    for (const [key, entry] of this.entries) {
      const route = entry.route;
      if (!route) continue;
      if (change.kind === "organization" ? route.organizationId !== change.organizationId : route.projectId !== change.projectId) continue;
      const compute = route.compute;
      if (change.kind === "compute" && compute && compute.row.id === change.columns.id) {
        // Notifications come in commit order; the version only grows: an older row is no news.
        if (change.columns.version >= compute.row.version) entry.route = withComputeColumns(route, change.columns);
        continue;
      }
      this.entries.delete(key);
    }
  }

  /** The LISTEN was lost, or is up again: changes may have been missed meanwhile. */
  gap(listening: boolean): void {
    this.listening = listening;
    this.generation++;
    this.entries.clear();
  }
}

/** The route with its compute's row and settings as a change says they now are. */
function withComputeColumns(route: Route, c: ComputeColumns): Route {
  return {
    ...route,
    compute: {
      row: wakeRowOf(route.projectId, c),
      context: route.compute!.context,
      park: parkSettings(c),
      pooling: c.poolConnections,
    },
  };
}

/** One row of the route look-up: the project's, with its organization's, the role's and the compute's columns. */
interface RouteRow {
  projectId: string;
  organizationId: string;
  rolesVersion: number;
  requireTls: boolean;
  allowedCidrs: string[];
  plan: Plan;
  cuHoursQuota: number | null;
  passwordHash: string | null;
  computeId: string | null;
  state: WakeRow["state"] | null;
  version: number | null;
  size: number | null;
  driver: string | null;
  driverState: WakeRow["driverState"];
  endpointHost: string | null;
  endpointPort: number | null;
  endpointSocket: string | null;
  rolesSyncedVersion: number | null;
  failureReason: string | null;
  parkIdleSessions: boolean | null;
  parkAfterSeconds: number | null;
  suspendTimeoutSeconds: number | null;
  poolConnections: boolean | null;
}

const ROUTE_QUERY = `
  SELECT p.id AS "projectId", p."organizationId", p."rolesVersion", p."requireTls", p."allowedCidrs",
         o.plan::text AS plan, o."cuHoursQuota", r."passwordHash",
         c.id AS "computeId", c.state::text AS state, c.version, c.size, c.driver, c."driverState",
         c."endpointHost", c."endpointPort", c."endpointSocket", c."rolesSyncedVersion", c."failureReason",
         c."parkIdleSessions", c."parkAfterSeconds", c."suspendTimeoutSeconds", c."poolConnections"
  FROM "Project" p
  JOIN "Organization" o ON o.id = p."organizationId"
  LEFT JOIN "ProjectRole" r ON r."projectId" = p.id AND r.name = $2
  LEFT JOIN "Compute" c ON c."projectId" = p.id
  WHERE p.slug = $1`;

/**
 * Everything a client's login and its compute's wake need, in one PostgreSQL statement (Prisma would send
 * one per relation): the project, its access rules and roles version, the role's hash, the organization's
 * plan and quota figure, the compute's row (its state and the address recorded with `running`), its
 * park settings and whether its connections are pooled.
 */
async function loadRoute({ slug, role }: RouteTarget): Promise<Route | null> {
  const readAt = Date.now();
  const { rows } = await dbPool().query<RouteRow>({ name: "proxy-route", text: ROUTE_QUERY, values: [slug, role] });
  const row = rows[0];
  const doubleHash = row?.passwordHash ? parseStoredHash(row.passwordHash) : null;
  if (!row || !doubleHash) return null;
  const compute: WakeRow | null =
    row.computeId === null
      ? null
      : {
          id: row.computeId,
          projectId: row.projectId,
          state: row.state!,
          version: row.version!,
          size: row.size!,
          driver: row.driver!,
          driverState: row.driverState,
          endpointHost: row.endpointHost,
          endpointPort: row.endpointPort,
          endpointSocket: row.endpointSocket,
          rolesSyncedVersion: row.rolesSyncedVersion!,
          failureReason: row.failureReason,
        };
  const context: WakeContext = { organizationId: row.organizationId, rolesVersion: row.rolesVersion, plan: row.plan, cuHoursQuota: row.cuHoursQuota };
  return {
    projectId: row.projectId,
    organizationId: row.organizationId,
    slug,
    role,
    doubleHash,
    computeId: row.computeId,
    access: compileAccessRules(row),
    compute: compute
      ? {
          row: compute,
          context,
          park: parkSettings({
            parkIdleSessions: row.parkIdleSessions!,
            parkAfterSeconds: row.parkAfterSeconds,
            suspendTimeoutSeconds: row.suspendTimeoutSeconds!,
          }),
          // Multiplexing client sessions over the compute's server connections (issue 15), per compute.
          pooling: row.poolConnections!,
        }
      : null,
    readAt,
  };
}
