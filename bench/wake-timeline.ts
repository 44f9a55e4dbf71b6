import net from "node:net";
import { Api, connectAndSelect, exit, fmt, loadNow, machine, OPERATOR, percentile, table, withProduct, type Target } from "./lib";
import { Timeline, traceDriver, traceStatements } from "./timeline";

// `npm run bench:wake-timeline`: where the time of a cold wake through the proxy goes, as one timeline per
// wake from the client's connect to its first answer. A proxy runs in this process against the product's
// database (started as `npm start` runs it); every PostgreSQL statement its pool sends is put on the
// timeline with its start and end, and so are the local driver's steps (the start, the server answering
// its admin login, the set-up of database and roles) and the client's own events (TCP connected, logged in,
// SELECT 1 answered). What is not the driver's or PostgreSQL's is the proxy's own work in between.

const WAKES = 7;
const timeline = new Timeline();
const mark = (what: string) => timeline.mark(what);

async function main() {
  const host = machine();
  traceStatements(timeline);
  await traceDriver(timeline);
  await withProduct(async ({ product, proxyPort }) => {
    const { suspendCompute } = await import("../server/compute/lifecycle/suspend");
    const { startProxy } = await import("../proxy/start-proxy");
    const proxy = await startProxy({ port: 0, metricsPort: null, host: "127.0.0.1" });
    try {
      const api = await Api.newTenant(product.baseUrl);
      const project = await api.createProject("wake timeline");
      const c = await api.createCompute(project.id);
      const target: Target = { host: "127.0.0.1", port: proxy.port, user: `${project.slug}.app`, password: c.password };
      // The same wake through the product's own proxy (its primary hands connections to one worker per core),
      // after each timed one: the difference is what the shipped proxy's processes add on this machine now.
      const shipped: Target = { ...target, port: proxyPort };
      await connectAndSelect(target);
      console.log(`machine: ${host}\n`);
      const totals: Record<string, number[]> = {};
      for (let i = 0; i <= WAKES; i++) {
        await suspendCompute({ actor: OPERATOR, computeId: c.computeId, reason: "wake timeline", force: true });
        await new Promise((r) => setTimeout(r, 1100)); // the route cache expires: the connect reads the route
        timeline.start();
        const probe = net.connect(proxy.port, "127.0.0.1", () => {
          mark("client: a TCP connect alone (probe, closed at once)");
          probe.destroy();
        });
        const ms = await connectAndSelect(target);
        timeline.stop();
        const rows = timeline.rows(fmt);
        if (i === 0) continue; // the first warms the code paths
        if (i === 1 || i === WAKES) {
          console.log(`wake ${i}: connect + SELECT 1 answered after ${fmt(ms)} ms\n`);
          console.log(table(["start ms", "end ms", "took", "what"], rows));
          console.log("");
        }
        const span = (re: RegExp) => timeline.spans(re);
        const sum = (re: RegExp) => timeline.sum(re);
        const driver = span(/^driver: start$/)[0];
        const add = (k: string, v: number) => (totals[k] ??= []).push(v);
        add("total (client connect -> SELECT 1 answered)", ms);
        add("driver start", driver ? driver.end! - driver.at : NaN);
        add("  of which mariadbd launched -> admin login answers", sum(/answers the admin login/));
        add("  of which database and roles set up", sum(/roles set up/));
        const ready = span(/answers the admin login/)[0];
        add("  of which before mariadbd's exec (the driver's own steps)", driver && ready ? ready.at - driver.at : NaN);
        add("  of which after the admin login answers (set-up, describe)", driver && ready ? driver.end! - ready.end! : NaN);
        add("before the driver start", driver ? driver.at : NaN);
        add("after the driver start", driver ? ms - driver.end! : NaN);
        await suspendCompute({ actor: OPERATOR, computeId: c.computeId, reason: "wake timeline", force: true });
        await new Promise((r) => setTimeout(r, 1100));
        add("the same wake through the product's own proxy (its workers), total", await connectAndSelect(shipped));
      }
      console.log(`medians over ${WAKES} cold wakes\n`);
      console.log(table(["what", "p50 ms", "min", "max"], Object.entries(totals).map(([k, v]) => [k, fmt(percentile(v, 50)), fmt(Math.min(...v)), fmt(Math.max(...v))])));
      console.log(loadNow());
    } finally {
      await proxy.stop(0);
    }
  });
}

exit(main());
