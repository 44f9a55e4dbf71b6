import fs from "node:fs";
import mysql from "mysql2/promise";
import { call, type Tenant } from "./api";

export interface CreatedCompute {
  projectId: string;
  slug: string;
  computeId: string;
  password: string;
  endpoint: { host: string; port: number };
}

/** A project with a running compute, through the API. */
export async function createProjectWithCompute(tenant: Tenant, settings: Record<string, unknown> = {}): Promise<CreatedCompute> {
  const project = await call<{ project: { id: string; slug: string } }>("POST", "/api/v1/projects", {
    key: tenant.key,
    body: { name: "test project" },
  });
  if (project.status !== 201) throw new Error(JSON.stringify(project.body));
  const res = await call<{
    compute: { id: string; state: string; endpoint: { host: string; port: number } };
    connection: { password: string };
  }>("POST", `/api/v1/projects/${project.body.project.id}/compute`, { key: tenant.key, body: settings });
  if (res.status !== 201) throw new Error(JSON.stringify(res.body));
  return {
    projectId: project.body.project.id,
    slug: project.body.project.slug,
    computeId: res.body.compute.id,
    password: res.body.connection.password,
    endpoint: res.body.compute.endpoint,
  };
}

/** A new role of the project through the API; returns its password. */
export async function createRole(tenant: Tenant, projectId: string, name: string): Promise<string> {
  const role = await call<{ password: string }>("POST", `/api/v1/projects/${projectId}/roles`, { key: tenant.key, body: { name } });
  if (role.status !== 201) throw new Error(`creating role ${name}: ${JSON.stringify(role.body)}`);
  return role.body.password;
}

/** A session straight to the compute's own endpoint (bypassing the proxy), as the role. */
export function connectDirect(endpoint: { host: string; port: number }, password: string, user = "app") {
  return mysql.createConnection({ host: endpoint.host, port: endpoint.port, user, password, database: "main", connectTimeout: 5000 });
}

export function pidOf(dataDir: string, computeId: string): number | null {
  try {
    return Number(fs.readFileSync(`${dataDir}/computes/${computeId}/mysqld.pid`, "utf8").trim()) || null;
  } catch {
    return null;
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * How many live mariadbd processes serve this compute's data directory (the server itself: its sandbox's
 * supervisor carries the same arguments in its command line).
 */
export function mariadbdCount(dataDir: string, computeId: string): number {
  let count = 0;
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (argv[0]?.endsWith("/mariadbd") && argv.some((arg) => arg.includes(`/computes/${computeId}/`))) count++;
    } catch {
      // exited meanwhile
    }
  }
  return count;
}

/**
 * The compute's recorded state, once a thaw made for a client's login is recorded: the proxy answers the
 * client's login and first command from the thawed server before it records the thaw (the commit waits
 * for that answer, at most 10 ms: proxy/attach.ts), so a read right after the answer may still find
 * "paused" for a few milliseconds. Any other state is returned at once; "paused" after 2 s.
 */
export async function stateAfterThaw(stateOf: () => Promise<string>): Promise<string> {
  const recorded = async () => {
    const state = await stateOf();
    return state === "paused" ? null : state;
  };
  return waitFor(recorded, 2000, "the thaw's record").catch(() => stateOf());
}

export async function waitFor<T>(probe: () => Promise<T | null | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
