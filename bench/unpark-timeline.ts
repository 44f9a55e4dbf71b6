import mysql from "mysql2/promise";
import { Api, exit, fmt, loadNow, machine, OPERATOR, percentile, sleep, table, withProduct, type Target } from "./lib";
import { Timeline, traceDriver, traceMethods, traceStatements } from "./timeline";

// `npm run bench:unpark-timeline`: where the time of a cold unpark goes (issue 14's first query on a
// parked session whose compute is suspended, proxy/parking-restore.ts restoreParked), beside its baseline
// in bench:sessions, a fresh connect + query to the suspended compute (which starts parked and is restored
// at its first query as the login it skipped). A proxy runs in this process against the product's database
// (started as `npm start` runs it); on each timeline: the route read, the wake (Waker.ensureRunning) and
// the driver's start within it, every PostgreSQL statement, the connects to the compute and every packet
// the proxy writes to it (the login, each restore step, the client's command), and the client's events.
// The time between two writes to the compute is the round trip of the first (the next is sent on its reply).

const ROUNDS = 10;
const PARKED_QUERY = "SELECT @n, @@time_zone";
const FRESH_QUERY = "SELECT DATABASE()";
const timeline = new Timeline();

/** The proxy's connects to the compute and the packets it writes there, on the timeline. */
async function traceComputeWrites(): Promise<void> {
  const { RelaySocket } = await import("../proxy/relay-socket");
  const connect = RelaySocket.connect.bind(RelaySocket);
  RelaySocket.connect = (host: string, port: number, socketPath?: string) => {
    const relay = connect(host, port, socketPath);
    const socket = relay.socket;
    const m = timeline.mark("compute: connect");
    socket.once("connect", () => (m.end = timeline.now()));
    let writes = 0;
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((...args: unknown[]) => {
      const data = args[0];
      if (Buffer.isBuffer(data) && data.length > 4) {
        const payload = data.subarray(4);
        const what =
          writes++ === 0
            ? "login (handshake response)"
            : payload[0] === 0x03
              ? `COM_QUERY ${payload.subarray(1, 90).toString("utf8").replace(/\s+/g, " ")}`
              : `command 0x${payload[0]!.toString(16)}`;
        timeline.mark(`compute: sent ${what}`);
      }
      return write(...args);
    }) as typeof socket.write;
    return relay;
  };
}

async function traceProxy(): Promise<void> {
  const { RouteCache } = await import("../proxy/routing");
  const { Waker } = await import("../proxy/wake");
  traceMethods(timeline, RouteCache.prototype, [["lookup", "proxy: route lookup"]]);
  traceMethods(timeline, Waker.prototype, [["ensureRunning", "proxy: wake (Waker.ensureRunning)"]]);
  await traceComputeWrites();
}

interface Phases {
  total: number;
  beforeLookup: number;
  lookup: number;
  wake: number;
  driverStart: number;
  loginAfterWake: number;
  restoreSteps: number;
  stepCount: number;
  command: number;
}

/** The phases of one unpark, from the client's command (at `sentAt`) to its answer (at `answeredAt`). */
function phasesOf(sentAt: number, answeredAt: number, query: string): Phases {
  const after = (m: { at: number }) => m.at >= sentAt;
  const lookup = timeline.spans(/^proxy: route lookup/).find(after);
  const wake = timeline.spans(/^proxy: wake/).find(after);
  const driver = timeline.spans(/^driver: start$/).find(after);
  const writes = timeline.marks.filter((m) => m.what.startsWith("compute: sent COM_QUERY") && after(m));
  const commandWrite = writes.find((m) => m.what.includes(query));
  const restoreWrites = writes.filter((m) => commandWrite && m.at < commandWrite.at);
  const firstRestore = restoreWrites[0] ?? commandWrite;
  const span = (m: { at: number; end?: number } | undefined) => (m?.end === undefined ? NaN : m.end - m.at);
  return {
    total: answeredAt - sentAt,
    beforeLookup: lookup ? lookup.at - sentAt : NaN,
    lookup: span(lookup),
    wake: span(wake),
    driverStart: span(driver),
    loginAfterWake: firstRestore && wake?.end !== undefined ? firstRestore.at - wake.end : NaN,
    restoreSteps: firstRestore && commandWrite ? commandWrite.at - firstRestore.at : NaN,
    stepCount: restoreWrites.length,
    command: commandWrite ? answeredAt - commandWrite.at : NaN,
  };
}

async function main() {
  const host = machine();
  traceStatements(timeline);
  await traceDriver(timeline);
  await traceProxy();
  await withProduct(async ({ product }) => {
    const { suspendCompute } = await import("../server/compute/lifecycle/suspend");
    const { startProxy } = await import("../proxy/start-proxy");
    const { config } = await import("../server/config");
    const proxy = await startProxy({ port: 0, metricsPort: null, host: "127.0.0.1" });
    try {
      const api = await Api.newTenant(product.baseUrl);
      const project = await api.createProject("unpark timeline");
      const c = await api.createCompute(project.id);
      const parkAfterSeconds = Math.max(1, config().MIN_SUSPEND_TIMEOUT_SECONDS);
      const patched = await api.call("PATCH", `/api/v1/compute/${c.computeId}`, { parkAfterSeconds });
      if (patched.status !== 200) throw new Error(`PATCH: ${JSON.stringify(patched.body)}`);
      const target: Target = { host: "127.0.0.1", port: proxy.port, user: `${project.slug}.app`, password: c.password };
      const parkedCount = async () =>
        (await api.call<{ compute: { sessions: { parked: number } } }>("GET", `/api/v1/compute/${c.computeId}`)).body.compute.sessions.parked;

      // As in bench:sessions: sessions with state of their own (database, a user variable, a time zone), parked.
      const parked = await Promise.all(
        Array.from({ length: ROUNDS + 1 }, async (_, i) => {
          const conn = await mysql.createConnection({ ...target, database: "main" });
          await conn.query(`SET @n = ${i}, time_zone = '+01:00'`);
          return conn;
        }),
      );
      console.log(`machine: ${host}\nwaiting for ${parked.length} sessions to park (park time ${parkAfterSeconds} s) ...\n`);
      const deadline = Date.now() + (parkAfterSeconds + 60) * 1000;
      while ((await parkedCount()) < parked.length) {
        if (Date.now() > deadline) throw new Error("the sessions did not park");
        await sleep(500);
      }
      const suspended = async () => {
        await suspendCompute({ actor: OPERATOR, computeId: c.computeId, reason: "unpark timeline", force: true });
        await sleep(1100); // the route cache expires, as it has for a client after a night's sleep
      };
      const unparkOne = async (conn: mysql.Connection) => {
        timeline.start();
        const sent = timeline.mark("client: query sent on the parked session").at;
        await conn.query(PARKED_QUERY);
        const answered = timeline.mark("client: answered").at;
        timeline.stop();
        await conn.end(); // attached now: it would keep the compute from being suspended
        return phasesOf(sent, answered, PARKED_QUERY);
      };
      const freshOne = async () => {
        timeline.start();
        timeline.mark("client: connect");
        const conn = await mysql.createConnection({ ...target, database: "main" });
        const sent = timeline.mark("client: logged in (parked at login), query sent").at;
        await conn.query(FRESH_QUERY);
        const answered = timeline.mark("client: answered").at;
        timeline.stop();
        await conn.end();
        return { ...phasesOf(sent, answered, FRESH_QUERY), connect: sent };
      };

      const unparks: Phases[] = [];
      const freshes: (Phases & { connect: number })[] = [];
      for (let r = 0; r <= ROUNDS; r++) {
        const order = r % 2 === 0 ? ["unpark", "fresh"] : ["fresh", "unpark"];
        for (const which of order) {
          await suspended();
          if (which === "unpark") {
            const p = await unparkOne(parked[r]!);
            if (r > 0) unparks.push(p); // the first warms the code paths
            if (r === 1 || r === ROUNDS) {
              console.log(`cold unpark, round ${r}: ${fmt(p.total)} ms from the query to its answer\n`);
              console.log(table(["start ms", "end ms", "took", "what"], timeline.rows(fmt)));
              console.log("");
            }
          } else {
            const p = await freshOne();
            if (r > 0) freshes.push(p);
            if (r === 1) {
              console.log(`baseline, round ${r}: fresh connect (${fmt(p.connect)} ms) + query (${fmt(p.total)} ms)\n`);
              console.log(table(["start ms", "end ms", "took", "what"], timeline.rows(fmt)));
              console.log("");
            }
          }
        }
      }
      const med = (xs: number[]) => fmt(percentile(xs, 50));
      const p90 = (xs: number[]) => fmt(percentile(xs, 90));
      const rows: [string, (p: Phases) => number][] = [
        ["query sent -> answered", (p) => p.total],
        ["  query sent -> route lookup starts (the proxy reads the command)", (p) => p.beforeLookup],
        ["  route lookup (restoreParked, fresh read)", (p) => p.lookup],
        ["  wake (Waker.ensureRunning)", (p) => p.wake],
        ["    of which the driver's start", (p) => p.driverStart],
        ["  wake done -> first restore step sent (login not hidden by the wake)", (p) => p.loginAfterWake],
        ["  restore steps (first sent -> the client's command sent)", (p) => p.restoreSteps],
        ["  the client's command sent -> answered", (p) => p.command],
        ["restore steps (COM_QUERY, count)", (p) => p.stepCount],
      ];
      console.log(`over ${ROUNDS} cold rounds each, alternating which goes first (ms)\n`);
      console.log(
        table(
          ["what", "unpark p50", "p90", "baseline p50", "p90"],
          [
            ...rows.map(([what, f]) => [what, med(unparks.map(f)), p90(unparks.map(f)), med(freshes.map(f)), p90(freshes.map(f))]),
            ["baseline's connect (before its query)", "", "", med(freshes.map((p) => p.connect)), p90(freshes.map((p) => p.connect))],
          ],
        ),
      );
      console.log(loadNow());
    } finally {
      await proxy.stop(0);
    }
  });
}

exit(main());
