import fs from "node:fs";
import path from "node:path";
import autocannon from "autocannon";
import pg from "pg";
import { Api, exit, fmt, loadNow, machine, table, verdict, withProduct } from "./lib";

// `npm run bench:api`: requests per second of an authenticated `GET /api/v1/projects` (an API key, a page of
// projects) against `GET /api/health/live` (no auth, no database), 50 concurrent clients each, with
// autocannon against the product as `npm start` runs it. Target (issue 12): projects >= 0.7x live.
//
// The two are measured in alternating rounds (live, projects, live, projects, ...) so that a change in the
// machine's load hits both; the ratio of each pair is reported and the median ratio is the result. Also
// printed: PostgreSQL transactions per request (each Prisma statement outside a transaction is one), which
// is what an API request costs the database, and the CPU time per request of the app process and of
// PostgreSQL's processes (from /proc), which is what bounds requests/s on a machine of two cores.

const CONNECTIONS = 50;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const PROJECTS = 10;
const TARGET = 0.7;

interface Figures {
  /** CPU milliseconds per request of the app process and of PostgreSQL (all its processes). */
  appCpuMs: number;
  postgresCpuMs: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  requests: number;
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) used so far by the processes `pids` names. */
function cpuSeconds(pids: () => number[]): number {
  let ticks = 0;
  for (const pid of pids()) {
    try {
      // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
      const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** Processes whose parent and environment match (the app sets its title, which hides its command line). */
function processes(match: (pid: number, ppid: number, environ: string[]) => boolean): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(fs.readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
      if (match(Number(entry), ppid, fs.readFileSync(`/proc/${entry}/environ`, "utf8").split("\0"))) found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

interface Counters {
  app: () => number[];
  postgres: () => number[];
}

async function hammer(url: string, headers: Record<string, string>, seconds: number, counters?: Counters): Promise<Figures> {
  const before = counters && { app: cpuSeconds(counters.app), postgres: cpuSeconds(counters.postgres) };
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, headers });
  const perRequest = (s: number) => (s * 1000) / Math.max(1, result.requests.total);
  return {
    appCpuMs: counters && before ? perRequest(cpuSeconds(counters.app) - before.app) : NaN,
    postgresCpuMs: counters && before ? perRequest(cpuSeconds(counters.postgres) - before.postgres) : NaN,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    requests: result.requests.total,
  };
}

/** Committed transactions of the product's database so far (every database, from pg_stat_database). */
async function transactions(client: pg.Client): Promise<number> {
  // pg_stat_* is a snapshot per transaction; clear it so each read sees the counters now.
  await client.query("SELECT pg_stat_clear_snapshot()");
  const { rows } = await client.query<{ n: string }>("SELECT sum(xact_commit + xact_rollback)::text AS n FROM pg_stat_database");
  return Number(rows[0]!.n);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  console.log(machine());
  await withProduct(async ({ product, dataDir }) => {
    const api = await Api.newTenant(product.baseUrl);
    for (let i = 0; i < PROJECTS; i++) await api.createProject(`bench ${i}`);
    const key = api.key;
    const live = `${product.baseUrl}/api/health/live`;
    const projects = `${product.baseUrl}/api/v1/projects`;
    const auth = { authorization: `Bearer ${key}` };

    const check = await api.call<{ projects: unknown[] }>("GET", "/api/v1/projects");
    if (check.status !== 200 || check.body.projects.length !== PROJECTS) throw new Error(`GET /api/v1/projects: ${check.status}`);

    // Warm both paths (JIT, connection pool, Next's route modules) before measuring.
    await hammer(live, {}, 2);
    await hammer(projects, auth, 2);

    // The app: the processes of the app service on the product's port (the server, and any child it started,
    // which inherits its environment). PostgreSQL: the postmaster of the data directory and its children.
    const port = String(product.config.PORT);
    const postmaster = Number(fs.readFileSync(path.join(dataDir, "postgres", "data", "postmaster.pid"), "utf8").split("\n")[0]);
    const counters: Counters = {
      app: () => processes((_pid, _ppid, env) => env.includes("SERVICE_NAME=app") && env.includes(`PORT=${port}`)),
      postgres: () => processes((pid, ppid) => pid === postmaster || ppid === postmaster),
    };
    if (counters.app().length === 0) throw new Error(`no app process on port ${port}`);
    const stats = new pg.Client({ connectionString: product.databaseUrl });
    await stats.connect();
    const rows: (string | number)[][] = [];
    const ratios: number[] = [];
    const perRequest: number[] = [];
    const cpuRatios: number[] = [];
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        const a = await hammer(live, {}, SECONDS, counters);
        const before = await transactions(stats);
        const b = await hammer(projects, auth, SECONDS, counters);
        const after = await transactions(stats);
        // Minus the two statements of the reads themselves; the scheduler's ticks are in it too (a few per second).
        perRequest.push((after - before - 2) / Math.max(1, b.requests));
        for (const [what, f] of [
          ["GET /api/health/live", a],
          ["GET /api/v1/projects (API key)", b],
        ] as const) {
          if (f.non2xx > 0 || f.errors > 0) throw new Error(`${what}: ${f.non2xx} non-2xx answers, ${f.errors} errors`);
          rows.push([`${round}: ${what}`, fmt(f.requestsPerSecond, 0), fmt(f.p50, 0), fmt(f.p99, 0), f.requests, fmt(f.appCpuMs, 2), fmt(f.postgresCpuMs, 2)]);
        }
        ratios.push(b.requestsPerSecond / a.requestsPerSecond);
        cpuRatios.push((a.appCpuMs + a.postgresCpuMs) / (b.appCpuMs + b.postgresCpuMs));
        rows.push([`${round}: ratio`, `${fmt(ratios.at(-1)!, 2)}x`, "", "", "", "", ""]);
      }
    } finally {
      await stats.end();
    }
    console.log(`\n${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS} s each, ${PROJECTS} projects in the page\n`);
    console.log(table(["round: what", "req/s", "p50 ms", "p99 ms", "requests", "app CPU ms/req", "PG CPU ms/req"], rows));
    const result = median(ratios);
    console.log(
      `\nGET /api/v1/projects / GET /api/health/live, median of ${ROUNDS} rounds: ${fmt(result, 2)}x (target >= ${TARGET}x: ${verdict(result, TARGET, true, "")})`,
    );
    console.log(`PostgreSQL transactions per GET /api/v1/projects: ${fmt(median(perRequest), 2)}`);
    // Less sensitive to a shared machine than req/s: what each request costs the app and PostgreSQL in CPU.
    console.log(`CPU per request (app + PostgreSQL), live / projects, median: ${fmt(median(cpuRatios), 2)}x`);
    console.log(loadNow());
  });
}

exit(main());
