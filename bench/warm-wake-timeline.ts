import net from "node:net";
import mysql from "mysql2/promise";
import { Api, exit, fmt, loadNow, machine, OPERATOR, percentile, sleep, table, withProduct, type Target } from "./lib";
import { Timeline, traceMethods, traceStatements } from "./timeline";

// `npm run bench:warm-wake-timeline`: where the time of a warm wake through the proxy goes (paused compute
// -> first answer), beside its target's baseline (connect + first query through the proxy to the same
// compute running), as one timeline per connect: every PostgreSQL statement, the driver's unpause and the
// signals this process sends, the route look-ups and the wake, and every MySQL packet write and read on
// the client's, the proxy's and the compute's sockets. A proxy runs in this process against the product's
// database (started as `npm start` runs it), with the compute set up as `bench:proxy` does (no parking:
// its suspend timeout is 0). It also measures the floor under any warm wake: SIGCONT to the frozen
// mariadbd and a query on a connection opened before the freeze, in the same rounds.

const ROUNDS = 25;
const timeline = new Timeline();
const mark = (what: string) => timeline.mark(what);

/** Which hop a socket of this process is, by the proxy's port (TCP) or a Unix socket (the compute's). */
function hopOf(socket: net.Socket, proxyPort: number): string | null {
  if (socket.localPort === proxyPort) return "proxy<->client";
  if (socket.remotePort === proxyPort) return "client<->proxy";
  const handle = (socket as unknown as { _handle?: { constructor?: { name?: string } } })._handle;
  if (handle?.constructor?.name === "Pipe") return "proxy<->compute";
  return null;
}

/** Every write and read on the MySQL sockets of this process, as marks (first bytes: packet header + command). */
function traceSockets(proxyPort: () => number): void {
  const write = net.Socket.prototype.write;
  net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]) {
    const hop = hopOf(this, proxyPort());
    const chunk = args[0];
    if (hop && Buffer.isBuffer(chunk)) mark(`${hop}: write ${chunk.length} B (seq ${chunk[3]}, first ${chunk[4]})`);
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof write;
  const emit = net.Socket.prototype.emit;
  net.Socket.prototype.emit = function (this: net.Socket, event: string | symbol, ...args: unknown[]) {
    if (event === "data") {
      const hop = hopOf(this, proxyPort());
      const chunk = args[0];
      if (hop && Buffer.isBuffer(chunk)) mark(`${hop}: read ${chunk.length} B (seq ${chunk[3]}, first ${chunk[4]})`);
    }
    return (emit as (...a: unknown[]) => boolean).call(this, event, ...args);
  } as typeof emit;
  const kill = process.kill;
  process.kill = function (pid: number, signal?: string | number) {
    mark(`signal ${String(signal)} to ${pid}`);
    return kill.call(process, pid, signal);
  } as typeof process.kill;
}

async function main() {
  const host = machine();
  let proxyPort = -1;
  traceStatements(timeline);
  traceSockets(() => proxyPort);
  const { LocalDriver } = await import("../server/compute/drivers/local/local-driver");
  traceMethods(timeline, LocalDriver.prototype, [
    ["unpause", "driver: unpause"],
    ["requireRunning", "driver: the server process looked up (/proc)"],
    ["resume", "driver: SIGCONT -> /proc says running"],
  ]);
  const { RouteCache } = await import("../proxy/routing");
  const { Waker } = await import("../proxy/wake");
  traceMethods(timeline, RouteCache.prototype, [["lookup", "proxy: route look-up"]]);
  traceMethods(timeline, Waker.prototype, [["ensureRunning", "proxy: ensureRunning"]]);

  await withProduct(async ({ product }) => {
    const { pauseCompute } = await import("../server/compute/lifecycle/pause");
    const { getComputeById } = await import("../server/compute/find-compute");
    const { startProxy } = await import("../proxy/start-proxy");
    const proxy = await startProxy({ port: 0, metricsPort: null, host: "127.0.0.1" });
    proxyPort = proxy.port;
    try {
      const api = await Api.newTenant(product.baseUrl);
      // As bench:proxy: one compute the rounds pause and wake, another one that runs for the baseline (so
      // that each keeps its own route in the proxy's cache, as there).
      const newCompute = async (name: string) => {
        const project = await api.createProject(name);
        const c = await api.createCompute(project.id);
        return { c, target: { host: "127.0.0.1", port: proxy.port, user: `${project.slug}.app`, password: c.password } as Target };
      };
      const { c, target } = await newCompute("warm wake timeline");
      const { target: runningTarget } = await newCompute("running baseline");
      const pause = async () => {
        for (let attempt = 0; ; attempt++) {
          if (!(await pauseCompute({ actor: OPERATOR, computeId: c.computeId, reason: "warm wake timeline" }))) {
            // The last wake's commit may still have been on its way (the client is answered before it).
            if (["running", "paused"].includes((await getComputeById(c.computeId)).state) && attempt < 20) {
              await sleep(5);
              continue;
            }
            throw new Error("cannot pause");
          }
          if ((await getComputeById(c.computeId)).state === "paused") return;
          if (attempt === 20) throw new Error("the compute does not stay paused");
          await sleep(50);
        }
      };
      /** connect + SELECT DATABASE() through the in-process proxy, on the timeline. */
      const timed = async (to = target): Promise<number> => {
        timeline.start();
        const started = performance.now();
        const conn = await mysql.createConnection({ ...to, database: "main" });
        mark("client: logged in");
        await conn.query("SELECT DATABASE()");
        const ms = performance.now() - started;
        mark("client: answered");
        timeline.stop();
        await conn.end().catch(() => conn.destroy());
        return ms;
      };
      // The floor: a direct connection opened while running, the server frozen, then SIGCONT and a query
      // (the connection is closed after: an open session would keep the pause from holding).
      const floor = async (): Promise<number> => {
        const direct = await mysql.createConnection({ ...c.endpoint, user: "app", password: c.password, database: "main" });
        const row = await getComputeById(c.computeId);
        const pid = (row.driverState as { pid: number }).pid;
        process.kill(pid, "SIGSTOP");
        await sleep(20);
        const started = performance.now();
        process.kill(pid, "SIGCONT");
        await direct.query("SELECT DATABASE()");
        const ms = performance.now() - started;
        await direct.end().catch(() => direct.destroy());
        return ms;
      };

      console.log(`machine: ${host}\n`);
      // Warm the code paths and the pools.
      for (let i = 0; i < 5; i++) await timed(runningTarget);
      await timed();
      await pause();
      await timed();
      const totals: Record<string, number[]> = {};
      const add = (k: string, v: number) => (totals[k] ??= []).push(v);
      for (let i = 1; i <= ROUNDS; i++) {
        add("floor: SIGCONT + query on an open direct connection", await floor());
        await pause();
        const warm = await timed();
        const warmRows = timeline.rows(fmt);
        const marks = timeline.marks;
        const at = (re: RegExp, after = 0) => marks.find((m) => m.at >= after && re.test(m.what))?.at ?? NaN;
        const routeRead = timeline.spans(/route look-up/).reduce((end, m) => Math.max(end, m.end!), 0);
        const sigcont = at(/signal SIGCONT/);
        const answers = at(/proxy<->compute: read/, sigcont);
        const okSent = at(/proxy<->client: write 37 B \(seq 2/, answers);
        add("warm wake: connect -> answered", warm);
        add("  connect -> route read (handshake, auth, route)", routeRead);
        add("  route read -> SIGCONT (the wake's own steps)", sigcont - routeRead);
        add("  SIGCONT -> the compute answers the login's ping", answers - sigcont);
        add("  the compute answers -> login OK sent to the client", okSent - answers);
        add("  login OK sent -> first query answered", warm - okSent);
        const running = await timed(runningTarget);
        const runningRows = timeline.rows(fmt);
        add("running: connect -> answered (the target's baseline)", running);
        if (i === 1 || i === ROUNDS || i === Math.ceil(ROUNDS / 2)) {
          console.log(`round ${i}: warm wake ${fmt(warm)} ms\n`);
          console.log(table(["start ms", "end ms", "took", "what"], warmRows));
          console.log(`\nround ${i}: connect to the running compute ${fmt(running)} ms\n`);
          console.log(table(["start ms", "end ms", "took", "what"], runningRows));
          console.log("");
        }
      }
      console.log(`medians over ${ROUNDS} rounds\n`);
      console.log(table(["what", "p50 ms", "min", "max"], Object.entries(totals).map(([k, v]) => [k, fmt(percentile(v, 50), 2), fmt(Math.min(...v), 2), fmt(Math.max(...v), 2)])));
      const w = percentile(totals["warm wake: connect -> answered"]!, 50);
      const r = percentile(totals["running: connect -> answered (the target's baseline)"]!, 50);
      console.log(`\nwarm / running: ${fmt(w / r, 2)}x (target <= 2x)`);
      console.log(loadNow());
    } finally {
      await proxy.stop(0);
    }
  });
}

exit(main());
