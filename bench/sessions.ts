import { fork } from "node:child_process";
import path from "node:path";
import mysql from "mysql2/promise";
import type { HolderReply, HolderRequest } from "./hold-parked";
import { proxyWorkers, type ProxyWorker } from "./proxy-workers";
import { Api, connectAndSelect, exit, fmt, loadNow, machine, OPERATOR, percentile, ratio, sleep, table, timed, verdict, withProduct, type Target } from "./lib";

// `npm run bench:sessions` (issue 14): what parking idle sessions costs and holds, with the product as
// `npm start` runs it (shipped settings: the shortest park time is MIN_SUSPEND_TIMEOUT_SECONDS, 60 s).
// 1. First-query latency on a parked session whose compute is paused (warm) or suspended (cold), against
//    the baseline of the same run: a fresh connect + the same query through the proxy to the compute in the
//    same state. Rounds alternate which goes first. Target: within 1.2x at p50 and p90 (20 rounds each, so
//    that the p90 is not simply the slowest round).
// 2. Parked idle sessions one proxy worker holds (target 10,000): new connections to the suspended compute,
//    which start parked (the proxy logs them in itself), each checked with a pool's validation query, as a
//    pool filling up overnight would; each worker's client connections and RSS before and after, and the
//    memory per session.
// `npm run bench:sessions -- held` (or `-- latency`) runs one part alone.

const WARM_ROUNDS = 20;
const COLD_ROUNDS = 20;
/** Parked sessions one proxy worker holds (issue 14's target); the bench opens this many per worker. */
const HELD_PER_WORKER = 10_000;
/**
 * Connections logging in at once, in all: well below the proxy's cap of connections still logging in per
 * client address (PROXY_PREAUTH_PER_ADDRESS, 256, counted across its workers), which a burst of more from
 * one host would meet (error 1040) as any client's would.
 */
const CONNECTING_AT_ONCE = 128;
/** Client connections per holder process: within its file descriptors (`ulimit -n`, 20,000 on this machine). */
const PER_HOLDER = 10_000;
const HOLD_BUDGET_S = 400;
const TARGETS = { firstQueryRatio: 1.2, heldPerWorker: HELD_PER_WORKER };

/** A child process holding parked sessions (bench/hold-parked.ts); `ask` sends a request and waits for its reply. */
function holder(index: number) {
  const child = fork(path.join(import.meta.dirname, "hold-parked.ts"), [], { stdio: "inherit" });
  const ask = <T extends HolderReply["type"]>(request: HolderRequest, answer: T) =>
    new Promise<Extract<HolderReply, { type: T }>>((resolve, reject) => {
      const onMessage = (m: HolderReply) => {
        if (m.type !== answer) return;
        child.off("message", onMessage);
        child.off("exit", onExit);
        resolve(m as Extract<HolderReply, { type: T }>);
      };
      const onExit = (code: number | null) => reject(new Error(`holder ${index} exited (${code}) before it answered ${request.type}`));
      child.on("message", onMessage);
      child.once("exit", onExit);
      child.send(request);
    });
  return { child, ask, localAddress: `127.0.0.${index + 2}` };
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

    // 2. Parked sessions held: HELD_PER_WORKER for each proxy worker, opened to the suspended compute by
    //    holder processes (one process's file descriptors do not go that far), each from a client address
    //    of its own. Each session starts parked (the proxy logs it in itself, no compute connection), so
    //    neither mariadbd's max_connections nor the park time bounds them: what does is the proxy's own
    //    (its workers' sockets, memory, and the 10,000 connections each worker accepts, proxy/server.ts).
    //    The primary deals connections out round-robin; a worker at its 10,000 declines one, and the
    //    primary hands it to another (Node's cluster). Connects that fail anyway are counted by message,
    //    and a holder stops after 50.
    if (runs("held")) {
      await suspend();
      await sleep(3000); // the suspend's route change is seen (PROXY_ROUTE_CACHE_MS) and the workers settle
      const before = proxyWorkers(proxyPort);
      const wanted = HELD_PER_WORKER * before.length;
      const holders = Array.from({ length: Math.ceil(wanted / PER_HOLDER) }, (_, i) => holder(i));
      const cleanupHolders = () => holders.forEach((h) => h.child.kill());
      process.once("exit", cleanupHolders);
      const openStarted = performance.now();
      const opened = await Promise.all(
        holders.map((h, i) =>
          h.ask(
            {
              type: "open",
              target: proxied,
              count: Math.min(PER_HOLDER, wanted - i * PER_HOLDER),
              options: { budgetMs: HOLD_BUDGET_S * 1000, atOnce: Math.ceil(CONNECTING_AT_ONCE / holders.length), localAddress: h.localAddress },
            },
            "opened",
          ),
        ),
      );
      const openSeconds = (performance.now() - openStarted) / 1000;
      const heldCount = opened.reduce((s, o) => s + o.held, 0);
      const reportDeadline = Date.now() + 30_000; // the workers' activity reports reach the compute's status
      while ((await sessions()).parked < heldCount && Date.now() < reportDeadline) await sleep(500);
      await sleep(3000);
      const after = proxyWorkers(proxyPort);
      const counted = await sessions();
      const state = (await getComputeById(c.computeId)).state;
      const pinged = await Promise.all(holders.map((h) => h.ask({ type: "ping" }, "pinged")));
      const answeringCount = pinged.reduce((s, p) => s + p.answering, 0);
      const stateAfterPing = (await getComputeById(c.computeId)).state;
      for (const h of holders) h.child.send({ type: "close" } satisfies HolderRequest);
      await Promise.all(holders.map((h) => new Promise((r) => (h.child.exitCode === null ? h.child.once("exit", r) : r(null)))));
      process.off("exit", cleanupHolders);

      const rss = (ws: ProxyWorker[]) => ws.reduce((s, w) => s + w.rssMiB, 0);
      const perWorker = after.map((w) => {
        const was = before.find((b) => b.pid === w.pid);
        const added = w.clients - (was?.clients ?? 0);
        const grewKiB = (w.rssMiB - (was?.rssMiB ?? NaN)) * 1024;
        return [String(w.pid), fmt(was?.rssMiB ?? NaN), fmt(w.rssMiB), w.clients, fmt(added > 0 ? grewKiB / added : NaN)];
      });
      const fullest = Math.max(...after.map((w) => w.clients));
      if (counted.parked !== heldCount || answeringCount !== heldCount) {
        console.log(`\nNOT ALL HELD: ${heldCount} open, ${counted.parked} reported parked, ${answeringCount} answering a ping`);
      }
      console.log(
        `\nParked idle sessions held (opened in ${fmt(openSeconds)} s, ${fmt(heldCount / openSeconds, 0)} a second, ${CONNECTING_AT_ONCE} at once by ${holders.length} client processes; ` +
          `compute ${state} with them open, ${stateAfterPing} after pinging them all)`,
      );
      for (const [message, n] of opened.flatMap((o) => o.failures)) console.log(`  ${n} connects failed: ${message}`);
      console.log(
        table(
          ["proxy worker (pid)", "RSS before (MiB)", "RSS after (MiB)", "client connections", "per connection added (KiB)"],
          perWorker,
        ),
      );
      console.log("");
      console.log(
        table(
          ["proxy workers", "RSS before (MiB)", "RSS after (MiB)", "sessions open", "reported parked", "answering pings", "per session (KiB)", `one worker holds ${TARGETS.heldPerWorker}`],
          [
            [
              String(after.length),
              fmt(rss(before)),
              fmt(rss(after)),
              heldCount,
              counted.parked,
              answeringCount,
              fmt(((rss(after) - rss(before)) * 1024) / heldCount),
              verdict(fullest, TARGETS.heldPerWorker, true, ""),
            ],
          ],
        ),
      );
    }
    console.log(`\n${loadNow()}`);
  });
}

exit(main());
