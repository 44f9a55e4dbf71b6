import type { ComputeSessions } from "../lib/api-types";
import { call, type Tenant } from "./api";
import { createProjectWithCompute, waitFor, type CreatedCompute } from "./compute";

// What the parking tests (issue 14) ask the API: a compute whose sessions park quickly, its state and
// its sessions as the proxies report them.

export interface ComputeView {
  state: string;
  endpoint: { host: string; port: number } | null;
  sessions: ComputeSessions;
}

export async function computeOf(tenant: Tenant, computeId: string): Promise<ComputeView> {
  const res = await call<{ compute: ComputeView }>("GET", `/api/v1/compute/${computeId}`, { key: tenant.key });
  if (res.status !== 200) throw new Error(JSON.stringify(res.body));
  return res.body.compute;
}

/** A compute whose sessions park after 1 s idle. */
export async function parkingCompute(tenant: Tenant): Promise<CreatedCompute> {
  const c = await createProjectWithCompute(tenant);
  const res = await call("PATCH", `/api/v1/compute/${c.computeId}`, { key: tenant.key, body: { parkAfterSeconds: 1 } });
  if (res.status !== 200) throw new Error(JSON.stringify(res.body));
  return c;
}

export const sessionsWhere = (tenant: Tenant, c: CreatedCompute, what: string, ok: (s: ComputeSessions) => boolean) =>
  waitFor(
    async () => {
      const s = (await computeOf(tenant, c.computeId)).sessions;
      return ok(s) ? s : null;
    },
    20_000,
    what,
  );
