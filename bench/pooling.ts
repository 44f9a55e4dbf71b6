import fs from "node:fs";
import mysql from "mysql2/promise";
import { Api, exit, fmt, loadNow, machine, percentile, ratio, run, serverProcess, sleep, table, verdict, withProduct, type Target } from "./lib";
import { proxyWorkers } from "./proxy-workers";

// `npm run bench:pooling` (issue 15): what multiplexing many client sessions over a compute's few server
// connections gives and costs, with the product as `npm start` runs it (shipped settings: one proxy worker
// per core, each with its share of 80 % of max_connections, the 20 s queue timeout).
// 1. Throughput (queries/s) and p99 latency of point SELECTs at 100, 1,000 and 5,000 client connections
//    through the proxy to a pooled 0.25 CU compute, each client a closed loop (next query when the last one
//    is answered), against the baseline of the same run: 100 client connections to a 0.25 CU compute
//    without pooling, each holding a server connection of its own. The baseline runs first and last.
//    Clients refused or failed are counted as errors (a client stops at its first).
//    The target (at 1,000 clients at least 0.9x the baseline's throughput) is measured apart, in rounds:
//    both sets of clients connected throughout, running in turn (baseline, pooled, baseline, ...), each
//    pooled window against the mean of the baseline windows on either side, the median of those ratios;
//    halfway the two computes swap parts (pooling switched on for one and off for the other, clients
//    connected anew), so that a difference between the two mariadbd processes themselves falls out.
//    Single windows a minute apart differed by a third on this shared machine, both sides alike.
//    Every row says what the compute's mariadbd spent per query and how much of its CPU quota (its size: a
//    quarter of a core) it used: at 0.25 CU a compute's quota, not the proxy, bounds both sides, so their
//    ratio is about what each side costs the compute per query, and whether it gets its quarter of a core
//    when it can use it.
// 2. The proxy's memory per client connection: RSS of its worker processes with 5,000 pooled clients
//    connected and idle (each having run one query) minus the RSS before they connected, over 5,000; measured
//    first, on the fresh proxy.
//
// How the baseline is made: a second compute of the same size (0.25 CU) and data behind the same proxy, with
// pooling switched off through the API (PATCH {poolConnections: false}): each client session holds a server
// connection of its own, as before issue 15. Its own compute, so that neither side's server connections
// count against the other's limit.
//
// The clients run in this one Node process for every level alike: their own cost is in every figure. Each
// row also says how the proxy's primary dealt the clients to its workers, and the CPU time per query of
// the proxy's workers and of the clients (where the time goes, on a machine whose two cores all share).

const BASELINE_CLIENTS = 100;
const LEVELS = [100, 1000, 5000];
const WARMUP_S = 3;
const MEASURE_S = 10;
const TABLE_SIZE = 10_000;
/** Connections opened at once: under the proxy's per-address cap on logins in progress (256). */
const CONNECT_WAVE = 200;
const TARGET = { clients: 1000, throughputRatio: 0.9 };
/** The target's rounds: baseline and pooled windows in turn, all clients staying connected. */
const TARGET_ROUNDS = 8;
const ROUND_WARMUP_S = 1;
/** The proxy's route cache (PROXY_ROUTE_CACHE_MS's default) and a margin: how long a pooling switch takes to reach new sessions. */
const ROUTE_CACHE_MS = 1500;
const ROUND_S = 4;
/** Both computes' size: 0.25 CU, a quarter of a core (the local driver's CPU quota). */
const COMPUTE_CORES = 0.25;
const MEMORY_CLIENTS = 5000;

interface Level {
  what: string;
  clients: number;
  qps: number;
  p50: number;
  p99: number;
  errors: number;
  firstError?: string;
  /** Client connections each proxy worker holds once all are connected (the primary deals them out). */
  perWorker: number[];
  /** CPU time per query over the whole closed-loop phase: the proxy's workers, and this process's clients. */
  proxyCpuUs: number;
  clientCpuUs: number;
  /** The compute's mariadbd: CPU time per query in the measured window, and the share of its quota used. */
  serverCpuUs: number;
  quotaUsed: number;
}

/** Clients connected, each having run one query; those refused or failed are counted, not fatal. */
interface Connected {
  clients: mysql.Connection[];
  errors: string[];
}

const POINT_SELECT = "SELECT v FROM bench_rows WHERE id = ?";
const pick = () => 1 + Math.floor(Math.random() * TABLE_SIZE);

async function connectClients(t: Target, count: number): Promise<Connected> {
  const opened: mysql.Connection[] = [];
  const errors: string[] = [];
  while (opened.length + errors.length < count) {
    const wave = await Promise.allSettled(
      Array.from({ length: Math.min(CONNECT_WAVE, count - opened.length - errors.length) }, () =>
        mysql.createConnection({ ...t, database: "main", connectTimeout: 60_000 }),
      ),
    );
    for (const result of wave) {
      if (result.status === "rejected") errors.push(`connect: ${(result.reason as Error).message}`);
      else {
        result.value.on("error", () => undefined); // counted where a query meets it
        opened.push(result.value);
      }
    }
  }
  const served = await Promise.all(
    opened.map((conn) =>
      conn.query(POINT_SELECT, [pick()]).then(
        () => true,
        (error: unknown) => (errors.push((error as Error).message), false),
      ),
    ),
  );
  return { clients: opened.filter((_, i) => served[i]), errors };
}

const closeAll = (clients: mysql.Connection[]) => Promise.all(clients.map((conn) => conn.end().catch(() => conn.destroy())));

/** CPU seconds (user + system) the given processes have used so far (/proc/<pid>/stat, in clock ticks of 1/100 s). */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th of them.
      const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks / 100;
}

const rssMiB = (proxyPort: number) => proxyWorkers(proxyPort).reduce((sum, w) => sum + w.rssMiB, 0);

/** Whose CPU each closed loop counts: the proxy's workers and the mariadbd serving the compute it runs against. */
interface Watched {
  proxyPort: number;
  computeId: string;
}

/** Closed-loop throughput, latency and CPU of connected clients over one window (after a warm-up). */
interface LoopResult {
  qps: number;
  p50: number;
  p99: number;
  proxyCpuUs: number;
  clientCpuUs: number;
  /** The compute's own CPU time per query, and the share of its quota (its size in cores) it used. */
  serverCpuUs: number;
  quotaUsed: number;
}

/**
 * Run every client closed-loop (next query once the last is answered) for `warmupS` + `measureS`. A client
 * that fails is recorded in `errors` and left out of later loops (`failed`).
 */
async function closedLoop(clients: mysql.Connection[], failed: Set<mysql.Connection>, errors: string[], watched: Watched, warmupS: number, measureS: number): Promise<LoopResult> {
  const workers = proxyWorkers(watched.proxyPort).map((w) => w.pid);
  const server = serverProcess(watched.computeId).pid;
  const proxyCpuBefore = cpuSeconds(workers);
  const clientCpuBefore = process.cpuUsage();
  let serverCpuInWindow = 0;
  let answeredAll = 0;
  let answeredInWindow = 0;
  const latencies: number[] = [];
  const start = performance.now();
  const measureFrom = start + warmupS * 1000;
  const end = measureFrom + measureS * 1000;
  const windowStarts = setTimeout(() => (serverCpuInWindow = -cpuSeconds([server])), warmupS * 1000);
  await Promise.all(
    clients.map(async (conn) => {
      while (!failed.has(conn) && performance.now() < end) {
        const sent = performance.now();
        try {
          await conn.query(POINT_SELECT, [pick()]);
        } catch (error) {
          errors.push((error as Error).message);
          failed.add(conn); // a client stops at its first error
          return;
        }
        const answered = performance.now();
        answeredAll++;
        // Throughput counts answers within the window whenever their query was sent; latency, queries sent
        // within it whenever answered (the last ones end after it). Counting only queries both sent and
        // answered inside it dropped most of a level whose latency is seconds (5,000 clients).
        if (answered >= measureFrom && answered <= end) answeredInWindow++;
        if (sent >= measureFrom) latencies.push(answered - sent);
      }
    }),
  );
  clearTimeout(windowStarts);
  serverCpuInWindow += cpuSeconds([server]);
  const proxyCpuUs = ((cpuSeconds(workers) - proxyCpuBefore) * 1e6) / answeredAll;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const elapsedS = (performance.now() - measureFrom) / 1000;
  return {
    qps: answeredInWindow / measureS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    proxyCpuUs,
    clientCpuUs: (clientCpu.user + clientCpu.system) / answeredAll,
    serverCpuUs: (serverCpuInWindow * 1e6) / answeredInWindow,
    quotaUsed: serverCpuInWindow / elapsedS / COMPUTE_CORES,
  };
}

/** One level: connect `count` clients, run them closed-loop, close them. */
async function measure(what: string, t: Target, watched: Watched, count: number): Promise<Level> {
  const { clients, errors } = await connectClients(t, count);
  const perWorker = proxyWorkers(t.port).map((w) => w.clients);
  const result = await closedLoop(clients, new Set(), errors, watched, WARMUP_S, MEASURE_S);
  await closeAll(clients);
  return { what, clients: count, ...result, errors: errors.length, firstError: errors[0], perWorker };
}

/**
 * The proxy's RSS with `count` idle clients connected (each having run one query) minus its RSS before, per
 * client. First thing in the run: later, garbage of the load levels being collected would move RSS by more
 * than the clients cost.
 */
async function memoryPerClient(t: Target, count: number): Promise<{ beforeMiB: number; afterMiB: number; clients: number; perClientKiB: number; errors: number }> {
  const beforeMiB = rssMiB(t.port);
  const { clients, errors } = await connectClients(t, count);
  await sleep(5000);
  const afterMiB = rssMiB(t.port);
  await closeAll(clients);
  return { beforeMiB, afterMiB, clients: clients.length, perClientKiB: ((afterMiB - beforeMiB) * 1024) / clients.length, errors: errors.length };
}

async function fill(t: Target): Promise<void> {
  const conn = await mysql.createConnection({ ...t, database: "main" });
  await conn.query("CREATE TABLE bench_rows (id INT PRIMARY KEY, v VARCHAR(40) NOT NULL)");
  for (let from = 1; from <= TABLE_SIZE; from += 1000) {
    const values = Array.from({ length: 1000 }, (_, i) => [from + i, `row ${from + i}`]);
    await conn.query("INSERT INTO bench_rows (id, v) VALUES ?", [values]);
  }
  await conn.end();
}

/** Pooling switched on or off through the API (off: each session holds its own server connection). */
async function setPooling(api: Api, computeId: string, on: boolean): Promise<void> {
  const patched = await api.call<{ compute: { poolConnections: boolean } }>("PATCH", `/api/v1/compute/${computeId}`, { poolConnections: on });
  if (patched.status !== 200 || patched.body.compute.poolConnections !== on) {
    throw new Error(`cannot switch pooling ${on ? "on" : "off"}: ${patched.status} ${JSON.stringify(patched.body)}`);
  }
  await sleep(ROUTE_CACHE_MS); // the proxy's cached route of the compute has expired: new sessions see the switch
}

interface Round {
  /** The compute the pooled clients ran against (the baseline's was the other one). */
  pooledCompute: string;
  before: LoopResult;
  pooled: LoopResult;
  after: LoopResult;
}

/**
 * The target's rounds: baseline, pooled, baseline, pooled, ... baseline, each client set connected once;
 * then the same again with the two computes' roles swapped (pooling switched on for the baseline's compute
 * and off for the other). Two mariadbd processes of the same size and data differed by up to a tenth in CPU
 * per query within a run (100 clients on each, both without take-overs: 0.89x to 1.04x), and which compute
 * played which part was fixed: swapped halfway, such a difference falls out of the median.
 */
async function targetRounds(api: Api, computes: [Bench, Bench], watch: (c: Bench) => Watched): Promise<{ rows: Round[]; errors: string[] }> {
  const rows: Round[] = [];
  const errors: string[] = [];
  for (const [pooledC, unpooledC] of [computes, [computes[1], computes[0]]]) {
    await setPooling(api, unpooledC.computeId, false);
    await setPooling(api, pooledC.computeId, true);
    const pooled = await connectClients(pooledC.target, TARGET.clients);
    const baseline = await connectClients(unpooledC.target, BASELINE_CLIENTS);
    errors.push(...pooled.errors, ...baseline.errors);
    const failed = new Set<mysql.Connection>();
    const run = (clients: mysql.Connection[], c: Bench) => closedLoop(clients, failed, errors, watch(c), ROUND_WARMUP_S, ROUND_S);
    let before = await run(baseline.clients, unpooledC);
    for (let i = 0; i < TARGET_ROUNDS / 2; i++) {
      const during = await run(pooled.clients, pooledC);
      const after = await run(baseline.clients, unpooledC);
      rows.push({ pooledCompute: pooledC.name, before, pooled: during, after });
      before = after;
    }
    await closeAll([...pooled.clients, ...baseline.clients]);
  }
  return { rows, errors };
}

type Bench = { name: string; computeId: string; target: Target };

async function main() {
  const host = machine();
  const uptimeBefore = (await run("uptime", [])).trim();
  await withProduct(async ({ product, proxyPort }) => {
    const api = await Api.newTenant(product.baseUrl);
    const computes: Bench[] = [];
    for (const name of ["A", "B"]) {
      const project = await api.createProject(`pooling bench ${name}`);
      const c = await api.createCompute(project.id);
      const { body } = await api.call<{ compute: { size: number } }>("GET", `/api/v1/compute/${c.computeId}`);
      if (body.compute.size !== COMPUTE_CORES) throw new Error(`expected a ${COMPUTE_CORES} CU compute (the default size), got ${body.compute.size}`);
      const t: Target = { host: "127.0.0.1", port: proxyPort, user: `${project.slug}.app`, password: c.password };
      await fill(t);
      computes.push({ name, computeId: c.computeId, target: t });
    }
    const [pooled, unpooled] = computes as [Bench, Bench];
    await setPooling(api, unpooled.computeId, false);
    const watch = (c: Bench): Watched => ({ proxyPort, computeId: c.computeId });

    const results: Level[] = [];
    const report = (level: Level) => {
      results.push(level);
      console.log(`${level.what}, ${level.clients} clients: ${fmt(level.qps, 0)} queries/s, p99 ${fmt(level.p99)} ms, ${level.errors} errors`);
    };
    const memory = await memoryPerClient(pooled.target, MEMORY_CLIENTS);
    // The baseline first, in the middle and last, the target's level twice: drift on a shared machine hits
    // both sides.
    report(await measure("unpooled (baseline)", unpooled.target, watch(unpooled), BASELINE_CLIENTS));
    for (const clients of LEVELS) report(await measure("pooled", pooled.target, watch(pooled), clients));
    report(await measure("unpooled (baseline)", unpooled.target, watch(unpooled), BASELINE_CLIENTS));
    const rounds = await targetRounds(api, [pooled, unpooled], watch);

    const baselines = results.filter((r) => r.what.startsWith("unpooled"));
    const baseQps = baselines.reduce((s, r) => s + r.qps, 0) / baselines.length;
    const baseP99 = baselines.reduce((s, r) => s + r.p99, 0) / baselines.length;
    console.log(`\n${host}`);
    console.log(`uptime before: ${uptimeBefore}`);
    console.log(
      `\nPoint SELECTs, closed loop, ${WARMUP_S} s warm-up + ${MEASURE_S} s measured per row; ratios to the baseline's mean ` +
        `(${fmt(baseQps, 0)} queries/s, p99 ${fmt(baseP99)} ms)`,
    );
    console.log(
      table(
        ["pooling", "clients", "per worker", "queries/s", "p50 ms", "p99 ms", "throughput ratio", "p99 ratio", "errors", "CPU/query: proxy, clients, compute (µs)", "compute's quota used"],
        results.map((r) => [r.what, r.clients, r.perWorker.join(" + "), fmt(r.qps, 0), fmt(r.p50), fmt(r.p99), ratio(r.qps, baseQps), ratio(r.p99, baseP99), r.errors, `${fmt(r.proxyCpuUs, 0)}, ${fmt(r.clientCpuUs, 0)}, ${fmt(r.serverCpuUs, 0)}`, `${fmt(r.quotaUsed * 100, 0)} %`]),
      ),
    );
    for (const r of results.filter((x) => x.firstError)) console.log(`first error (${r.what}, ${r.clients}): ${r.firstError}`);
    console.log(
      `\nThe target, in ${TARGET_ROUNDS} rounds: ${BASELINE_CLIENTS} unpooled and ${TARGET.clients} pooled clients connected throughout, ` +
        `running in turn (${ROUND_WARMUP_S} s warm-up + ${ROUND_S} s measured each); a round's ratio is its pooled window against the mean of ` +
        `the baseline windows before and after it, so that the machine's drift (tens of percent in minutes here) falls out of it; ` +
        `after ${TARGET_ROUNDS / 2} rounds the computes swap parts (pooled on A, then on B), so that what differs between the two mariadbd processes falls out too`,
    );
    console.log(
      table(
        ["round", "pooled on", "baseline before, after (queries/s)", "pooled (queries/s)", "ratio", "compute CPU/query: baseline, pooled (µs)", "quota used: baseline, pooled"],
        rounds.rows.map((r, i) => [
          i + 1,
          `compute ${r.pooledCompute}`,
          `${fmt(r.before.qps, 0)}, ${fmt(r.after.qps, 0)}`,
          fmt(r.pooled.qps, 0),
          ratio(r.pooled.qps, (r.before.qps + r.after.qps) / 2),
          `${fmt((r.before.serverCpuUs + r.after.serverCpuUs) / 2, 0)}, ${fmt(r.pooled.serverCpuUs, 0)}`,
          `${fmt(((r.before.quotaUsed + r.after.quotaUsed) / 2) * 100, 0)} %, ${fmt(r.pooled.quotaUsed * 100, 0)} %`,
        ]),
      ),
    );
    const median = percentile(rounds.rows.map((r) => r.pooled.qps / ((r.before.qps + r.after.qps) / 2)), 50);
    console.log(
      `\nTarget: pooled at ${TARGET.clients} clients >= ${TARGET.throughputRatio}x the throughput of ${BASELINE_CLIENTS} unpooled clients ` +
        `(median of the rounds' ratios, ${rounds.errors.length} errors): ${fmt(median, 2)}x (${verdict(median, TARGET.throughputRatio, true, "")})`,
    );
    if (rounds.errors.length > 0) console.log(`first error (target rounds): ${rounds.errors[0]}`);
    console.log(`\nProxy memory per client connection (${memory.clients} idle pooled clients, each after one query; ${memory.errors} errors)`);
    console.log(
      table(
        ["proxy workers' RSS before (MiB)", "with the clients (MiB)", "per client (KiB)"],
        [[fmt(memory.beforeMiB), fmt(memory.afterMiB), fmt(memory.perClientKiB)]],
      ),
    );
    console.log(`\n${loadNow()}`);
    console.log(`uptime after: ${(await run("uptime", [])).trim()}`);
  });
}

exit(main());
