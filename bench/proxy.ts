import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { findFreePort, isPortOpen } from "../server/util/free-port";
import { spawnProxy } from "../scripts/scratch-product";
import { bareRun, makeBareCopy, removeBareCopy, type BareCopy } from "./cold-start";
import {
  Api,
  exit,
  connectAndSelect,
  fmt,
  loadNow,
  machine,
  percentile,
  ratio as times,
  requireCommands,
  run,
  serverCommandLine,
  sleep,
  table,
  verdict,
  withProduct,
  OPERATOR,
  type Target,
} from "./lib";

// `npm run bench:proxy`: what the MySQL proxy costs a client of the product as `npm start` runs it, all
// from one run, each target next to its baseline from the same run: connect latency against a direct
// connection, a warm wake against thawing the process by hand and connecting directly, a cold wake against
// the baseline of issue 12 (the compute's own mariadbd command line started bare on a copy of its data,
// inside the same sandbox and limits, exec -> SELECT 1 over its socket: cold-start.ts, as bench:lifecycle
// uses), and point-select throughput against Debian's HAProxy in TCP mode
// (on a small machine any extra hop is expensive, so HAProxy is the bar, not direct). HAProxy and sysbench
// are Debian packages: installed when missing and running as root, else the command to run is printed.
//
// Our proxy reaches local computes through their Unix socket (PROXY_LOCAL_SOCKETS, the default), HAProxy
// through the endpoint a user is given (TCP). Since the socket is cheaper for any proxy, the 8-connection
// runs also compare like with like: a second proxy of ours with PROXY_LOCAL_SOCKETS=0 against HAProxy over
// TCP, and HAProxy pointed at the same socket against ours.

const CONNECTIONS = 200;
const WARMUP_CONNECTIONS = 20;
/**
 * Connects (each direct and proxied) between the fresh measurement and the steady one. A proxy in service
 * has served many connections; in its first few hundred, V8 still runs much of the per-connection code
 * unoptimized, in the proxy and in this process's client alike (measured: 2.02x after 20, 1.89-1.91x after
 * 1,020 more, both sides faster). Both are shown; the target is judged on the steady state.
 */
const STEADY_AFTER = 500;
const WAKES = 15;
const THREADS = [1, 8, 32];
// Throughput on a shared 2-core VM drifts by tens of percent from run to run: each figure is the median of
// ROUNDS short runs, interleaved across the three paths so drift hits them alike.
const ROUNDS = 5;
const SECONDS = 3;
const TABLE_SIZE = 10_000;

// Issue 12's targets, each against a baseline of the same run: connect + first query <= 2x direct; a warm
// wake <= 2x connect + SELECT 1 through the proxy to a running compute; a cold wake <= 1.15x the sandboxed
// bare start (or +25 ms where that is more); point-selects at 8 connections >= 0.95x HAProxy.
const TARGETS = { connectRatio: 2, warmRatio: 2, coldRatio: 1.15, coldSlackMs: 25, haproxyRatioAt8: 0.95 };

function sysbenchArgs(t: Target, threads: number, command: "prepare" | "run"): string[] {
  return [
    "oltp_point_select",
    `--mysql-host=${t.host}`,
    `--mysql-port=${t.port}`,
    `--mysql-user=${t.user}`,
    `--mysql-password=${t.password}`,
    "--mysql-db=main",
    "--tables=1",
    `--table-size=${TABLE_SIZE}`,
    `--threads=${threads}`,
    `--time=${SECONDS}`,
    command,
  ];
}

/** Queries per second of one sysbench run. */
async function pointSelects(t: Target, threads: number): Promise<number> {
  const out = await run("sysbench", sysbenchArgs(t, threads, "run"));
  const queries = /queries:\s+\d+\s+\(([\d.]+) per sec\.\)/.exec(out)?.[1];
  if (!queries) throw new Error(`cannot read sysbench's result:\n${out}`);
  return Number(queries);
}

/** Debian's HAProxy in TCP mode in front of one backend (host:port, or a Unix socket); resolves once it listens. */
async function startHaproxy(dir: string, backend: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await findFreePort();
  const cfg = path.join(dir, `haproxy-${port}.cfg`);
  fs.writeFileSync(
    cfg,
    [
      "global",
      "  maxconn 4000", // each connection takes two descriptors; the hard limit here is 20000
      "defaults",
      "  mode tcp",
      "  timeout connect 5s",
      "  timeout client 1h",
      "  timeout server 1h",
      "frontend bench",
      `  bind 127.0.0.1:${port}`,
      "  maxconn 4000",
      "  default_backend compute",
      "backend compute",
      `  server compute ${backend}`,
      "",
    ].join("\n"),
  );
  const child = spawn("haproxy", ["-f", cfg, "-db"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; !(await isPortOpen(port)); i++) {
    if (child.exitCode !== null || i > 100) throw new Error(`haproxy did not start (exit ${child.exitCode}):\n${stderr}`);
    await sleep(50);
  }
  return { child, port };
}

async function main() {
  requireCommands({ haproxy: "haproxy", sysbench: "sysbench" });
  const host = machine();
  const children: ChildProcess[] = [];
  await withProduct(
    async ({ product, dataDir, proxyPort }) => {
      const { getComputeById } = await import("../server/compute/find-compute");
      const { pauseCompute } = await import("../server/compute/lifecycle/pause");
      const { suspendCompute } = await import("../server/compute/lifecycle/suspend");
      const { getDriver } = await import("../server/compute/drivers/registry");

      const api = await Api.newTenant(product.baseUrl);
      const newCompute = async (name: string) => {
        const project = await api.createProject(name);
        const c = await api.createCompute(project.id);
        const direct: Target = { ...c.endpoint, user: "app", password: c.password };
        const proxied: Target = { host: "127.0.0.1", port: proxyPort, user: `${project.slug}.app`, password: c.password };
        return { computeId: c.computeId, direct, proxied };
      };
      // One compute for connects and throughput, another one that the wake rounds pause and suspend.
      const bench = await newCompute("proxy bench");
      const wake = await newCompute("wake bench");

      console.log(`machine: ${host}`);
      console.log(
        "note: client, proxy and mariadbd share these cores; on 2 cores any extra hop costs about 60 % of direct\n" +
          "throughput (HAProxy included), so HAProxy in TCP mode is the bar for our proxy, not direct.\n",
      );

      // 1. Connect plus first query, one connection at a time, alternating so drift hits both alike: on a
      // fresh proxy (after a short warm-up), and again in its steady state.
      const connectRound = async () => {
        const round = { direct: [] as number[], proxy: [] as number[] };
        for (let i = 0; i < CONNECTIONS; i++) {
          round.direct.push(await connectAndSelect(bench.direct));
          round.proxy.push(await connectAndSelect(bench.proxied));
        }
        return round;
      };
      const warm = async (pairs: number) => {
        for (let i = 0; i < pairs; i++) {
          await connectAndSelect(bench.direct);
          await connectAndSelect(bench.proxied);
        }
      };
      await warm(WARMUP_CONNECTIONS);
      const fresh = await connectRound();
      await warm(STEADY_AFTER);
      const connect = await connectRound();
      const p = (s: number[], q: number) => percentile(s, q);
      console.log(`connect + SELECT 1, ms over ${CONNECTIONS} connections each: fresh (after ${WARMUP_CONNECTIONS}), steady (after ${WARMUP_CONNECTIONS + CONNECTIONS + STEADY_AFTER})\n`);
      console.log(
        table(
          ["path", "fresh p50", "fresh p99", "steady p50", "steady p99"],
          [
            ["direct to the compute", fmt(p(fresh.direct, 50), 2), fmt(p(fresh.direct, 99), 2), fmt(p(connect.direct, 50), 2), fmt(p(connect.direct, 99), 2)],
            ["through our proxy", fmt(p(fresh.proxy, 50), 2), fmt(p(fresh.proxy, 99), 2), fmt(p(connect.proxy, 50), 2), fmt(p(connect.proxy, 99), 2)],
            [
              "difference",
              fmt(p(fresh.proxy, 50) - p(fresh.direct, 50), 2),
              fmt(p(fresh.proxy, 99) - p(fresh.direct, 99), 2),
              fmt(p(connect.proxy, 50) - p(connect.direct, 50), 2),
              fmt(p(connect.proxy, 99) - p(connect.direct, 99), 2),
            ],
          ],
        ),
      );

      // 2. Wakes as the client sees them: connect through the proxy to a paused / suspended compute. The
      // first wake of each kind warms the proxy's code paths (JIT, first queries); it is shown, not counted.
      // Each wake is paired with its baseline, measured just before on the same stopped compute: for a warm
      // wake, thawing the frozen process by hand (the driver's unpause) and connecting directly, then
      // freezing it again; for a cold one, a bare mariadbd exec of the same data -> SELECT 1.
      const wakeDriver = getDriver("local");
      const commandLine = serverCommandLine(wake.computeId);
      // A pause right after the last client left may be undone by the pause's own last look (it counts the
      // compute's sessions, and the proxy's report that the connection it kept is its own may not be written
      // yet): paused again then, so that each wake really starts from a frozen compute. It may also find the
      // last wake's commit still on its way (the client is answered before it: proxy/attach.ts), and then
      // pauses again once the compute is recorded running.
      const pause = async () => {
        for (let attempt = 0; ; attempt++) {
          if (!(await pauseCompute({ actor: OPERATOR, computeId: wake.computeId, reason: "proxy bench" }))) {
            const state = (await getComputeById(wake.computeId)).state;
            if ((state === "running" || state === "paused") && attempt < 20) {
              await sleep(5);
              continue;
            }
            throw new Error(`cannot pause (${state})`);
          }
          const state = (await getComputeById(wake.computeId)).state;
          if (state === "paused") return;
          if (attempt === 20) throw new Error(`the compute does not stay paused (${state})`);
          await sleep(50);
        }
      };
      const suspend = async () => {
        const { compute } = await suspendCompute({ actor: OPERATOR, computeId: wake.computeId, reason: "proxy bench", force: true });
        if (compute.state !== "suspended") throw new Error(`cannot suspend (${compute.state})`);
      };
      const thawByHand = async () => {
        const row = await getComputeById(wake.computeId);
        const state = row.driverState as Record<string, unknown> | null;
        const started = performance.now();
        await wakeDriver.unpause(row.id, state);
        await connectAndSelect({ ...wake.direct, host: row.endpointHost!, port: row.endpointPort! });
        const ms = performance.now() - started;
        await wakeDriver.pause(row.id, state);
        return ms;
      };
      // Made at the first cold baseline, when the compute is suspended (the copy is of its stopped data).
      let copy: BareCopy | null = null;
      const bareStart = async () => {
        copy ??= await makeBareCopy(dataDir, wake.computeId, (await getComputeById(wake.computeId)).size, commandLine);
        return (await bareRun(copy)).startMs;
      };
      const baselineOf = { warm: thawByHand, cold: bareStart };
      const wakes = { warm: [] as number[], cold: [] as number[] };
      const baselines = { warm: [] as number[], cold: [] as number[] };
      const firstWake: Record<string, number> = {};
      try {
        for (const [kind, sleepCompute] of [["warm", pause], ["cold", suspend]] as const) {
          await sleepCompute();
          firstWake[kind] = await connectAndSelect(wake.proxied);
          for (let i = 0; i < WAKES; i++) {
            await sleepCompute();
            baselines[kind].push(await baselineOf[kind]());
            wakes[kind].push(await connectAndSelect(wake.proxied));
          }
        }
      } finally {
        if (copy) removeBareCopy(copy);
      }
      console.log(`\nwake through the proxy (connect -> first answer), ms over ${WAKES} wakes each (p99 = the slowest here)\n`);
      console.log(
        table(
          ["wake", "p50", "p99", "min", "baseline p50", "baseline"],
          [
            ["warm (paused)", fmt(p(wakes.warm, 50)), fmt(p(wakes.warm, 99)), fmt(Math.min(...wakes.warm)), fmt(p(baselines.warm, 50)), "unpause by hand + direct SELECT 1"],
            ["cold (suspended)", fmt(p(wakes.cold, 50)), fmt(p(wakes.cold, 99)), fmt(Math.min(...wakes.cold)), fmt(p(baselines.cold, 50)), "bare start in the sandbox, copy of the data -> SELECT 1"],
          ],
        ),
      );
      for (const [kind, samples] of Object.entries(wakes)) {
        console.log(`${kind} wakes in order: ${samples.map((v) => fmt(v, 0)).join(" ")} (first one, not counted: ${fmt(firstWake[kind]!, 0)})`);
      }

      // 3. Point-select throughput: direct, through HAProxy (TCP mode), through our proxy; at 8 connections
      // also like for like (see the top of this file).
      await run("sysbench", sysbenchArgs(bench.direct, 1, "prepare"));
      const socketPath = getDriver("local").localSocket?.((await getComputeById(bench.computeId)).driverState as Record<string, unknown>);
      if (!socketPath) throw new Error("the local driver reports no socket for the bench compute");
      const start = async <T extends { child: ChildProcess }>(p: Promise<T>) => {
        const started = await p;
        children.push(started.child);
        return started;
      };
      const haTcp = await start(startHaproxy(dataDir, `${bench.direct.host}:${bench.direct.port}`));
      const haSocket = await start(startHaproxy(dataDir, socketPath));
      const oursTcp = await start(spawnProxy(product.env, { PROXY_LOCAL_SOCKETS: "0" }));
      const paths: Record<string, Target> = {
        direct: bench.direct,
        haproxy: { ...bench.direct, port: haTcp.port },
        ours: bench.proxied,
        "haproxy-socket": { ...bench.direct, port: haSocket.port },
        "ours-tcp": { ...bench.proxied, port: oursTcp.port },
      };
      const pathsAt = (threads: number) => (threads === 8 ? Object.keys(paths) : ["direct", "haproxy", "ours"]);
      await pointSelects(bench.direct, 8); // warm the buffer pool and the proxies' JIT
      await pointSelects(bench.proxied, 8);
      await pointSelects(paths["ours-tcp"]!, 8);
      const runs = new Map<string, number[]>();
      for (const threads of THREADS) {
        for (let round = 0; round < ROUNDS; round++) {
          for (const name of pathsAt(threads)) {
            const key = `${name}/${threads}`;
            runs.set(key, [...(runs.get(key) ?? []), await pointSelects(paths[name]!, threads)]);
          }
        }
      }
      const q = (name: string, threads: number) => percentile(runs.get(`${name}/${threads}`)!, 50);
      // A ratio is the median of the rounds' ratios: the two runs of a round are seconds apart, so the
      // machine's drift (tens of percent here) cancels out of each one.
      const ratio = (a: string, b: string, threads: number) => {
        const x = runs.get(`${a}/${threads}`)!;
        const y = runs.get(`${b}/${threads}`)!;
        return percentile(x.map((v, i) => v / y[i]!), 50);
      };
      const spread = Math.max(...[...runs.values()].map((r) => (Math.max(...r) - Math.min(...r)) / percentile(r, 50)));
      console.log(
        `\nsysbench oltp_point_select, queries/s: median of ${ROUNDS} interleaved ${SECONDS} s runs, ${TABLE_SIZE} rows; ratios are ` +
          `medians of the rounds' ratios (largest run-to-run spread: ${fmt(spread * 100, 0)} % of the median)\n`,
      );
      console.log(
        table(
          ["connections", "direct", "haproxy", "ours", "ours/haproxy", "ours/direct", "haproxy/direct"],
          THREADS.map((t) => [
            t,
            fmt(q("direct", t), 0),
            fmt(q("haproxy", t), 0),
            fmt(q("ours", t), 0),
            fmt(ratio("ours", "haproxy", t), 2),
            fmt(ratio("ours", "direct", t), 2),
            fmt(ratio("haproxy", "direct", t), 2),
          ]),
        ),
      );
      console.log(`\nlike for like at 8 connections (our proxy above reaches the compute by its Unix socket, HAProxy by TCP)\n`);
      console.log(
        table(
          ["hop to the compute", "haproxy", "ours", "ours/haproxy"],
          [
            ["TCP (ours with PROXY_LOCAL_SOCKETS=0)", fmt(q("haproxy", 8), 0), fmt(q("ours-tcp", 8), 0), fmt(ratio("ours-tcp", "haproxy", 8), 2)],
            ["Unix socket (HAProxy pointed at it)", fmt(q("haproxy-socket", 8), 0), fmt(q("ours", 8), 0), fmt(ratio("ours", "haproxy-socket", 8), 2)],
          ],
        ),
      );

      const [direct50, proxy50] = [p(connect.direct, 50), p(connect.proxy, 50)];
      const ratio8 = ratio("ours", "haproxy", 8);
      const [warm50, cold50, cold99] = [p(wakes.warm, 50), p(wakes.cold, 50), p(wakes.cold, 99)];
      const [warmBase, coldBase] = [p(baselines.warm, 50), p(baselines.cold, 50)];
      const coldTarget = Math.max(coldBase * TARGETS.coldRatio, coldBase + TARGETS.coldSlackMs);
      console.log("\ntargets (issue 12), each as a ratio to its baseline from this run");
      console.log(
        table(
          ["target", "measured p50", "baseline p50 (same run)", "ratio", "verdict"],
          [
            [`connect + SELECT 1 through the proxy <= ${TARGETS.connectRatio}x direct (steady)`, `${fmt(proxy50, 2)} ms`, `direct ${fmt(direct50, 2)} ms`, times(proxy50, direct50), verdict(proxy50 / direct50, TARGETS.connectRatio, false, "")],
            ["  the same on the fresh proxy", `${fmt(p(fresh.proxy, 50), 2)} ms`, `direct ${fmt(p(fresh.direct, 50), 2)} ms`, times(p(fresh.proxy, 50), p(fresh.direct, 50)), ""],
            [`warm wake <= ${TARGETS.warmRatio}x connect + SELECT 1 through the proxy (running, steady)`, `${fmt(warm50)} ms`, `running ${fmt(proxy50, 2)} ms`, times(warm50, proxy50), verdict(warm50 / proxy50, TARGETS.warmRatio, false, "")],
            ["  the same against thawing by hand + direct SELECT 1", `${fmt(warm50)} ms`, `thaw by hand ${fmt(warmBase)} ms`, times(warm50, warmBase), ""],
            [`cold wake <= ${TARGETS.coldRatio}x the sandboxed bare start or +${TARGETS.coldSlackMs} ms`, `${fmt(cold50)} ms`, `bare start ${fmt(coldBase)} ms`, times(cold50, coldBase), verdict(cold50, coldTarget)],
            ["  its slowest (p99 of these wakes)", `${fmt(cold99)} ms`, `bare start ${fmt(coldBase)} ms`, times(cold99, coldBase), ""],
            [`ours/haproxy at 8 connections >= ${TARGETS.haproxyRatioAt8}`, `${fmt(q("ours", 8), 0)} q/s`, `haproxy ${fmt(q("haproxy", 8), 0)} q/s`, `${fmt(ratio8, 2)}x`, verdict(ratio8, TARGETS.haproxyRatioAt8, true, "")],
          ],
        ),
      );
      console.log(loadNow());
    },
    () => children.forEach((child) => child.kill("SIGTERM")),
  );
}

exit(main());
