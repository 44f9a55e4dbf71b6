import pg from "pg";
import { Api, connectAndSelect, exit, OPERATOR, withProduct, type Target } from "./lib";

// `npm run bench:wake-queries`: the PostgreSQL statements a client's connect costs on the proxy's path,
// from accept to the first relayed byte (the compute's OK), for a running compute, a warm wake (paused) and
// a cold wake (suspended). A proxy runs in this process against the product's database (started as
// `npm start` runs it), and every statement its pg pool sends is counted while the client connects;
// BEGIN/COMMIT of a transaction count as statements, since each is a round trip. Statements of the proxy's
// own periodic reports (activity, presence) are shown apart: they are not on the client's path.

const BACKGROUND = /"ProxyActivity"|"ProxyInstance"|pg_notify|LISTEN|"WakeEvent"/;

interface Seen {
  sql: string;
  background: boolean;
  /** From sending the statement to its result, ms. */
  ms: number;
}

/** Count every statement any pg client of this process sends while `recording` is set. */
function countStatements() {
  const seen: Seen[] = [];
  let recording = false;
  const original = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const result = original.apply(this, args);
    if (recording) {
      const first = args[0] as string | { text?: string } | undefined;
      const sql = (typeof first === "string" ? first : (first?.text ?? String(first))).replace(/\s+/g, " ").slice(0, 140);
      const entry: Seen = { sql, background: BACKGROUND.test(sql), ms: NaN };
      seen.push(entry);
      const started = performance.now();
      if (result instanceof Promise) void result.then(() => (entry.ms = performance.now() - started), () => undefined);
    }
    return result;
  } as typeof pg.Client.prototype.query;
  return {
    async during(fn: () => Promise<unknown>): Promise<Seen[]> {
      seen.length = 0;
      recording = true;
      try {
        await fn();
      } finally {
        recording = false;
      }
      return [...seen];
    },
  };
}

async function main() {
  const counter = countStatements();
  await withProduct(async ({ product }) => {
    const { pauseCompute } = await import("../server/compute/lifecycle/pause");
    const { suspendCompute } = await import("../server/compute/lifecycle/suspend");
    const { startProxy } = await import("../proxy/start-proxy");
    const proxy = await startProxy({ port: 0, metricsPort: null, host: "127.0.0.1" });
    try {
      const api = await Api.newTenant(product.baseUrl);
      const project = await api.createProject("wake queries");
      const c = await api.createCompute(project.id);
      const target: Target = { host: "127.0.0.1", port: proxy.port, user: `${project.slug}.app`, password: c.password };
      await connectAndSelect(target); // warms the code paths; the route cache expires below
      const cacheMs = Number(process.env.PROXY_ROUTE_CACHE_MS ?? 1000);
      const cases: [string, () => Promise<unknown>][] = [
        ["running", async () => undefined],
        ["warm wake (paused)", () => pauseCompute({ actor: OPERATOR, computeId: c.computeId, reason: "wake queries" })],
        ["cold wake (suspended)", () => suspendCompute({ actor: OPERATOR, computeId: c.computeId, reason: "wake queries", force: true })],
      ];
      for (const [name, before] of cases) {
        await before();
        await new Promise((r) => setTimeout(r, cacheMs + 50)); // a route look-up as a first connect makes it
        let ms = 0;
        const seen = await counter.during(async () => (ms = await connectAndSelect(target)));
        const onPath = seen.filter((s) => !s.background);
        console.log(`\n${name}: ${onPath.length} statements on the client's path (${seen.length - onPath.length} background); connect + SELECT 1 took ${ms.toFixed(1)} ms`);
        for (const s of onPath) console.log(`  ${s.ms.toFixed(1).padStart(6)} ms  ${s.sql}`);
      }
    } finally {
      await proxy.stop(0);
    }
  });
}

exit(main());
