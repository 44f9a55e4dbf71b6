import fs from "node:fs";
import mysql from "mysql2/promise";
import { Api, exit, fmt, loadNow, machine, percentile, ratio, run, sleep, table, verdict, withProduct, type Target } from "./lib";
import { proxyWorkers } from "./proxy-workers";

// `npm run bench:pooling` (issue 15): what multiplexing many client sessions over a compute's few server
// connections gives and costs, with the product as `npm start` runs it (shipped settings: one proxy worker
// per core, each with its share of 80 % of max_connections, the 20 s queue timeout).
// 1. Throughput (queries/s) and p99 latency of point SELECTs at 100, 1,000 and 5,000 client connections
//    through the proxy to a pooled 0.25 CU compute, each client a closed loop (next query when the last one
//    is answered), against the baseline of the same run: 100 client connections to a 0.25 CU compute
//    without pooling, each holding a server connection of its own. The baseline runs first, in the middle
//    and last, the target's level twice, and means count (the machine is shared; drift hits both sides alike).
//    Target: at 1,000 clients at least 0.9x the baseline's throughput. Clients refused or failed are counted
//    as errors (a client stops at its first).
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

/** One level: connect `count` clients, then run each closed-loop (next query once the last is answered). */
async function measure(what: string, t: Target, count: number): Promise<Level> {
  const { clients, errors } = await connectClients(t, count);
  const workers = proxyWorkers(t.port);
  const perWorker = workers.map((w) => w.clients);
  const proxyCpuBefore = cpuSeconds(workers.map((w) => w.pid));
  const clientCpuBefore = process.cpuUsage();
  let answeredAll = 0;
  let answeredInWindow = 0;
  const latencies: number[] = [];
  const start = performance.now();
  const measureFrom = start + WARMUP_S * 1000;
  const end = measureFrom + MEASURE_S * 1000;
  await Promise.all(
    clients.map(async (conn) => {
      while (performance.now() < end) {
        const sent = performance.now();
        try {
          await conn.query(POINT_SELECT, [pick()]);
        } catch (error) {
          errors.push((error as Error).message);
          return; // a client stops at its first error
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
  const proxyCpuUs = ((cpuSeconds(workers.map((w) => w.pid)) - proxyCpuBefore) * 1e6) / answeredAll;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const clientCpuUs = (clientCpu.user + clientCpu.system) / answeredAll;
  await closeAll(clients);
  const [p50, p99] = [percentile(latencies, 50), percentile(latencies, 99)];
  return { what, clients: count, qps: answeredInWindow / MEASURE_S, p50, p99, errors: errors.length, firstError: errors[0], perWorker, proxyCpuUs, clientCpuUs };
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

/** The baseline's compute: pooling switched off through the API (each session holds its own server connection). */
async function switchPoolingOff(api: Api, computeId: string): Promise<void> {
  const patched = await api.call<{ compute: { poolConnections: boolean } }>("PATCH", `/api/v1/compute/${computeId}`, { poolConnections: false });
  if (patched.status !== 200 || patched.body.compute.poolConnections !== false) {
    throw new Error(`cannot switch pooling off: ${patched.status} ${JSON.stringify(patched.body)}`);
  }
}

async function main() {
  const host = machine();
  const uptimeBefore = (await run("uptime", [])).trim();
  await withProduct(async ({ product, proxyPort }) => {
    const api = await Api.newTenant(product.baseUrl);
    const computes = [];
    for (const name of ["pooled", "unpooled"]) {
      const project = await api.createProject(`pooling bench ${name}`);
      const c = await api.createCompute(project.id);
      const { body } = await api.call<{ compute: { size: number } }>("GET", `/api/v1/compute/${c.computeId}`);
      if (body.compute.size !== 0.25) throw new Error(`expected a 0.25 CU compute (the default size), got ${body.compute.size}`);
      const t: Target = { host: "127.0.0.1", port: proxyPort, user: `${project.slug}.app`, password: c.password };
      await fill(t);
      computes.push({ ...c, target: t });
    }
    const [pooled, unpooled] = computes as [(typeof computes)[0], (typeof computes)[0]];
    await switchPoolingOff(api, unpooled.computeId);

    const results: Level[] = [];
    const report = (level: Level) => {
      results.push(level);
      console.log(`${level.what}, ${level.clients} clients: ${fmt(level.qps, 0)} queries/s, p99 ${fmt(level.p99)} ms, ${level.errors} errors`);
    };
    const memory = await memoryPerClient(pooled.target, MEMORY_CLIENTS);
    // The baseline first, in the middle and last, the target's level twice: drift on a shared machine hits
    // both sides.
    report(await measure("unpooled (baseline)", unpooled.target, BASELINE_CLIENTS));
    report(await measure("pooled", pooled.target, LEVELS[0]!));
    report(await measure("pooled", pooled.target, TARGET.clients));
    report(await measure("unpooled (baseline)", unpooled.target, BASELINE_CLIENTS));
    for (const clients of LEVELS.slice(1)) report(await measure("pooled", pooled.target, clients));
    report(await measure("unpooled (baseline)", unpooled.target, BASELINE_CLIENTS));

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
        ["pooling", "clients", "per worker", "queries/s", "p50 ms", "p99 ms", "throughput ratio", "p99 ratio", "errors", "CPU/query: proxy, clients (µs)"],
        results.map((r) => [r.what, r.clients, r.perWorker.join(" + "), fmt(r.qps, 0), fmt(r.p50), fmt(r.p99), ratio(r.qps, baseQps), ratio(r.p99, baseP99), r.errors, `${fmt(r.proxyCpuUs, 0)}, ${fmt(r.clientCpuUs, 0)}`]),
      ),
    );
    for (const r of results.filter((x) => x.firstError)) console.log(`first error (${r.what}, ${r.clients}): ${r.firstError}`);
    const atTarget = results.filter((r) => r.what === "pooled" && r.clients === TARGET.clients);
    const targetQps = atTarget.reduce((s, r) => s + r.qps, 0) / atTarget.length;
    console.log(
      `\nTarget: pooled at ${TARGET.clients} clients (mean of ${atTarget.length} runs, ${fmt(targetQps, 0)} queries/s) >= ` +
        `${TARGET.throughputRatio}x the throughput of ${BASELINE_CLIENTS} unpooled clients: ` +
        `${ratio(targetQps, baseQps)} (${verdict(targetQps / baseQps, TARGET.throughputRatio, true, "")})`,
    );
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
