import { dbPool } from "@/server/db";
import type { Plan } from "@/server/db/generated/enums";
import type { WakeContext, WakeRow } from "@/server/compute/lifecycle/wake";
import { compileAccessRules, type CompiledAccessRules } from "@/server/projects/access-rules";
import { parseStoredHash } from "./protocol/native-password";

// Where a client's project and role lead (the names are parsed by proxy/policy.ts). Routes are cached
// briefly (PROXY_ROUTE_CACHE_MS); a failed password check against a cached route looks again before it
// refuses, so a reset takes effect at once.
// The compute's facts in a route are only trusted by a wake when they were read after its client arrived
// (proxy/attach.ts reads a cached route afresh: still one read per connect).

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
}

export class RouteCache {
  private readonly entries = new Map<string, CacheEntry>();

  constructor(private readonly ttlMs: number) {}

  /** The route while the cache holds it (no look-up, no promise: a take-over's hot path); undefined when it does not. */
  cached(target: RouteTarget): Route | null | undefined {
    const cached = this.entries.get(`${target.slug}.${target.role}`);
    return cached && cached.expires > Date.now() ? cached.route : undefined;
  }

  /** The route, from the cache unless `fresh`; a fresh look-up is cached for the next client. */
  async lookup(target: RouteTarget, { fresh = false } = {}): Promise<Route | null> {
    const key = `${target.slug}.${target.role}`;
    const now = Date.now();
    const cached = this.entries.get(key);
    if (!fresh && cached && cached.expires > now) return cached.route;
    const route = await loadRoute(target);
    if (this.ttlMs > 0) {
      if (this.entries.size > 10_000) this.entries.clear(); // bounded: a flood of unknown names can't grow it
      this.entries.set(key, { route, expires: now + this.ttlMs });
    }
    return route;
  }
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
