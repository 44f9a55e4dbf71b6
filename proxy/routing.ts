import { db } from "@/server/db";
import { ACCESS_RULE_FIELDS, compileAccessRules, type CompiledAccessRules } from "@/server/projects/access-rules";
import { parseStoredHash } from "./protocol/native-password";

// Who a client wants: `<project-slug>.<role>` in the user name, or with TLS a server name
// `<project-slug>.<domain>` and a bare role. Routes are cached briefly (PROXY_ROUTE_CACHE_MS); a failed
// password check against a cached route looks again before it refuses, so a reset takes effect at once.

export interface RouteTarget {
  slug: string;
  role: string;
}

const SLUG = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const ROLE = /^[a-z][a-z0-9_]{0,31}$/;

export function parseTarget(user: string, serverName: string | null): RouteTarget | null {
  const dot = user.indexOf(".");
  if (dot > 0) {
    const slug = user.slice(0, dot);
    const role = user.slice(dot + 1);
    return SLUG.test(slug) && ROLE.test(role) ? { slug, role } : null;
  }
  if (serverName) {
    const slug = serverName.split(".")[0]?.toLowerCase() ?? "";
    return SLUG.test(slug) && ROLE.test(user) ? { slug, role: user } : null;
  }
  return null;
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
}

interface CacheEntry {
  route: Route | null;
  expires: number;
}

export class RouteCache {
  private readonly entries = new Map<string, CacheEntry>();

  constructor(private readonly ttlMs: number) {}

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

async function loadRoute({ slug, role }: RouteTarget): Promise<Route | null> {
  const project = await db.project.findUnique({
    where: { slug },
    select: {
      id: true,
      organizationId: true,
      ...ACCESS_RULE_FIELDS,
      compute: { select: { id: true } },
      roles: { where: { name: role }, select: { passwordHash: true } },
    },
  });
  const stored = project?.roles[0]?.passwordHash;
  const doubleHash = stored ? parseStoredHash(stored) : null;
  if (!project || !doubleHash) return null;
  return {
    projectId: project.id,
    organizationId: project.organizationId,
    slug,
    role,
    doubleHash,
    computeId: project.compute?.id ?? null,
    access: compileAccessRules(project),
  };
}
