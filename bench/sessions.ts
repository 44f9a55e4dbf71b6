import fs from "node:fs";
import mysql from "mysql2/promise";
import { Api, connectAndSelect, exit, fmt, loadNow, machine, OPERATOR, percentile, ratio, sleep, table, timed, verdict, withProduct, type Target } from "./lib";

// `npm run bench:sessions` (issue 14): what parking idle sessions costs and holds, with the product as
// `npm start` runs it (shipped settings: the shortest park time is MIN_SUSPEND_TIMEOUT_SECONDS, 60 s).
// 1. First-query latency on a parked session whose compute is paused (warm) or suspended (cold), against
//    the baseline of the same run: a fresh connect + the same query through the proxy to the compute in the
//    same state. Rounds alternate which goes first. Target: within 1.2x at p50 and p90.
// 2. Parked idle sessions the proxy holds (target 10,000): new connections to the suspended compute, which
//    start parked (the proxy logs them in itself), each checked with a pool's validation query, as a pool
//    filling up overnight would; the proxy workers' RSS and sockets before and after, and per session.
// `npm run bench:sessions -- held` (or `-- latency`) runs one part alone.

const WARM_ROUNDS = 15;
const COLD_ROUNDS = 8;
const HELD = 10_000;
/**
 * Connections logging in at once: well below the proxy's cap of connections still logging in per client
 * address (PROXY_PREAUTH_PER_ADDRESS, 256, counted across its workers), which a burst of more from one
 * host would meet (error 1040) as any client's would. Each opener connects again as soon as its last
 * connection is logged in and validated.
 */
const CONNECTING_AT_ONCE = 128;
const HOLD_BUDGET_S = 300;
/** Failed connects after which the bench stops opening more (and says why they failed). */
const MAX_FAILURES = 50;
const TARGETS = { firstQueryRatio: 1.2, held: HELD };

interface Worker {
  pid: number;
  rssMiB: number;
  /** Open sockets of the process (clients, its PostgreSQL pool, IPC, the listener). */
  sockets: number;
}

function socketsOf(pid: string): number {
  let n = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:")) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

/** The proxy's worker processes (the ones whose environment names this proxy port): VmRSS in MiB, sockets. */
function proxyWorkers(proxyPort: number): Worker[] {
  const found: Worker[] = [];
  for (const entry of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      const env = fs.readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      if (!env.includes(`PROXY_PORT=${proxyPort}`) || !env.some((v) => v.startsWith("PROXY_WORKER_INDEX="))) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${entry}/status`, "utf8"))?.[1];
      if (rss) found.push({ pid: Number(entry), rssMiB: Number(rss) / 1024, sockets: socketsOf(entry) });
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return found.sort((a, b) => a.pid - b.pid);
}

/**
 * Open up to `count` client connections, CONNECTING_AT_ONCE at a time, each validated with `SELECT 1` as a
 * pool validates a new connection (on a parked session the proxy answers it: nothing wakes). Stops at the
 * budget or after MAX_FAILURES failed connects; what failed is counted by message.
 */
async function openParked(target: Target, count: number, budgetMs: number) {
  const held: mysql.Connection[] = [];
  const failures = new Map<string, number>();
  const failed = () => [...failures.values()].reduce((s, n) => s + n, 0);
  const deadline = performance.now() + budgetMs;
  let started = 0;
  let reported = 0;
  const opener = async () => {
    while (started < count && failed() < MAX_FAILURES && performance.now() < deadline) {
      started++;
      try {
        // mysql2 sizes each connection's prepared-statement cache up front (4 arrays of maxPreparedStatements,
        // 16,000 by default: 0.5 MiB a connection, 5 GiB for 10,000, past this process's heap); these run none.
        const conn = await mysql.createConnection({ ...target, connectTimeout: 60_000, maxPreparedStatements: 1 });
        conn.on("error", () => undefined); // a held connection that breaks shows in the final ping
        await conn.query("SELECT 1");
        held.push(conn);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failures.set(message, (failures.get(message) ?? 0) + 1);
      }
      if (held.length >= reported + 1000) {
        reported = held.length - (held.length % 1000);
        console.log(`  ${held.length} sessions open`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTING_AT_ONCE }, opener));
  return { held, failures };
}

async function main() {
  const host = machine();
  const asked = process.argv.slice(2);
  const runs = (part: "latency" | "held") => asked.length === 0 || asked.includes(part);
  await withProduct(async ({ product, proxyPort }) => {
    const { getComputeById } = await import("../server/compute/find-compute");
    const { pauseCompute } = await import("../server/compute/lifecycle/pause");
    const { config } = await import("../server/config");
    const api = await Api.newTenant(product.baseUrl);
    const project = await api.createProject("sessions bench");
    const c = await api.createCompute(project.id);
    const parkAfterSeconds = Math.max(1, config().MIN_SUSPEND_TIMEOUT_SECONDS);
    const patched = await api.call("PATCH", `/api/v1/compute/${c.computeId}`, { parkAfterSeconds });
    if (patched.status !== 200) throw new Error(`PATCH: ${JSON.stringify(patched.body)}`);
    const proxied: Target = { host: "127.0.0.1", port: proxyPort, user: `${project.slug}.app`, password: c.password };
    const sessions = async () =>
      (await api.call<{ compute: { sessions: { active: number; parked: number; pinned: number } } }>("GET", `/api/v1/compute/${c.computeId}`)).body.compute.sessions;

    const pause = async () => {
      for (let i = 0; i < 20; i++) {
        await pauseCompute({ actor: OPERATOR, computeId: c.computeId, reason: "sessions bench" });
        if ((await getComputeById(c.computeId)).state === "paused") return;
        await sleep(200);
      }
      throw new Error(`cannot pause (${(await getComputeById(c.computeId)).state})`);
    };
    const suspend = async () => void (await api.lifecycle(c.computeId, "suspend"));

    console.log(host);
    if (runs("latency")) {
      // 1. First query on parked sessions: each with state of its own to restore.
      const parked = await Promise.all(
        Array.from({ length: WARM_ROUNDS + COLD_ROUNDS }, async (_, i) => {
          const conn = await mysql.createConnection({ ...proxied, database: "main" });
          await conn.query(`SET @n = ${i}, time_zone = '+01:00'`);
          return conn;
        }),
      );
      await connectAndSelect(proxied); // one fresh connect first, so neither side pays a first-ever cost
      console.log(`waiting for ${parked.length} sessions to park (park time ${parkAfterSeconds} s) ...`);
      const parkDeadline = Date.now() + (parkAfterSeconds + 60) * 1000;
      while ((await sessions()).parked < parked.length) {
        if (Date.now() > parkDeadline) throw new Error(`sessions did not park: ${JSON.stringify(await sessions())}`);
        await sleep(500);
      }
      const firstQuery = async (conn: mysql.Connection) =>
        timed(async () => {
          await conn.query("SELECT @n, @@time_zone");
        });
      const freshQuery = () => connectAndSelect(proxied);
      const measure = async (rounds: number, offset: number, toState: () => Promise<void>) => {
        const parkedMs: number[] = [];
        const freshMs: number[] = [];
        for (let r = 0; r < rounds; r++) {
          const conn = parked[offset + r]!;
          const order = r % 2 === 0 ? ["parked", "fresh"] : ["fresh", "parked"];
          for (const which of order) {
            await toState();
            if (which === "fresh") freshMs.push(await freshQuery());
            else {
              parkedMs.push(await firstQuery(conn));
              await conn.end(); // an attached session would keep the compute from pausing
            }
          }
        }
        return { parkedMs, freshMs };
      };
      const warm = await measure(WARM_ROUNDS, 0, pause);
      const cold = await measure(COLD_ROUNDS, WARM_ROUNDS, suspend);

      const row = (what: string, p: number, s: { parkedMs: number[]; freshMs: number[] }) => {
        const a = percentile(s.parkedMs, p);
        const b = percentile(s.freshMs, p);
        return [what, `p${p}`, fmt(a), fmt(b), ratio(a, b), verdict(a / b, TARGETS.firstQueryRatio, false, "")];
      };
      console.log(`\nFirst query on a parked session vs a fresh connect + query through the proxy (ms; ${WARM_ROUNDS} warm, ${COLD_ROUNDS} cold rounds)`);
      console.log(
        table(
          ["compute", "", "parked session", "fresh connect", "ratio", `target <= ${TARGETS.firstQueryRatio}x`],
          [row("paused (warm)", 50, warm), row("paused (warm)", 90, warm), row("suspended (cold)", 50, cold), row("suspended (cold)", 90, cold)],
        ),
      );
    }

    // 2. Parked sessions held: a pool of HELD connections opened to the suspended compute. Each starts
    //    parked (the proxy logs it in itself, no compute connection), so neither mariadbd's
    //    max_connections nor the park time bounds them; what does is the proxy's own (its workers'
    //    sockets and memory) and the client's ports and file descriptors (the bench's `ulimit -n`).
    if (runs("held")) {
      await suspend();
      await sleep(3000); // the suspend's route change is seen (PROXY_ROUTE_CACHE_MS) and the workers settle
      const before = proxyWorkers(proxyPort);
      const openStarted = performance.now();
      const { held, failures } = await openParked(proxied, HELD, HOLD_BUDGET_S * 1000);
      const openSeconds = (performance.now() - openStarted) / 1000;
      const reportDeadline = Date.now() + 30_000; // the workers' activity reports reach the compute's status
      while ((await sessions()).parked < held.length && Date.now() < reportDeadline) await sleep(500);
      await sleep(3000);
      const after = proxyWorkers(proxyPort);
      const counted = await sessions();
      const state = (await getComputeById(c.computeId)).state;
      // Every held session still answers (COM_PING, answered by the proxy: nothing wakes).
      const pinged = await Promise.all(held.map((conn) => conn.ping().then(() => 1, () => 0)));
      const answering = pinged.reduce<number>((s, n) => s + n, 0);
      const stateAfterPing = (await getComputeById(c.computeId)).state;
      for (const conn of held) conn.destroy();

      const total = (ws: Worker[], f: (w: Worker) => number) => ws.reduce((s, w) => s + f(w), 0);
      const rss = (ws: Worker[]) => total(ws, (w) => w.rssMiB);
      const perSessionKiB = ((rss(after) - rss(before)) * 1024) / held.length;
      const perWorker = after.map((w) => {
        const was = before.find((b) => b.pid === w.pid);
        const sockets = w.sockets - (was?.sockets ?? 0);
        const grewKiB = (w.rssMiB - (was?.rssMiB ?? 0)) * 1024;
        return [
          String(w.pid),
          fmt(was?.rssMiB ?? NaN),
          fmt(w.rssMiB),
          sockets,
          fmt(sockets > 0 ? grewKiB / sockets : NaN),
        ];
      });
      console.log(
        `\nParked idle sessions held (opened in ${fmt(openSeconds)} s, ${fmt(held.length / openSeconds, 0)} a second, ${CONNECTING_AT_ONCE} at once; ` +
          `compute ${state} after opening them, ${stateAfterPing} after pinging them all)`,
      );
      for (const [message, n] of failures) console.log(`  ${n} connects failed: ${message}`);
      console.log(table(["proxy worker", "RSS before (MiB)", "RSS after (MiB)", "client sockets added", "per socket added (KiB)"], perWorker));
      console.log("");
      console.log(
        table(
          ["proxy workers", "RSS before (MiB)", "RSS after (MiB)", "sessions open", "reported parked", "answering pings", "per session (KiB)", `target ${TARGETS.held}`],
          [
            [
              String(after.length),
              fmt(rss(before)),
              fmt(rss(after)),
              held.length,
              counted.parked,
              answering,
              fmt(perSessionKiB),
              verdict(Math.min(counted.parked, answering), TARGETS.held, true, ""),
            ],
          ],
        ),
      );
    }
    console.log(`\n${loadNow()}`);
  });
}

exit(main());
