import { Api, exit, fmt, loadNow, machine, percentile, ratio, table, timed, verdict, withProduct } from "./lib";

// `npm run bench:usage`: what metering costs, on the product as `npm start` runs it (durable PostgreSQL,
// shipped settings), each figure next to a plain `SELECT count(*)` over the same state intervals in the
// same run (what merely finding the rows costs on this machine and database right now):
//
// 1. the hourly rollup (server/usage/rollup.ts: rollupHour, one closed hour for everyone) over an
//    organization with 100 computes and 30 days of history, hour by hour;
// 2. the usage API's p50 (GET /api/v1/usage, 30 days by day and by hour) for that organization;
// 3. the rollup of one hour for 10,000 computes (100 organizations of 100), against one scheduler interval
//    (SCHEDULER_INTERVAL_MS as shipped): the scheduler must roll up an hour within one of its ticks.

const HOUR = 3_600_000;
const DAYS = 30;
const COMPUTES = 100;
const FLEET_ORGS = 100;
const FLEET_PER_ORG = 100;
const API_ROUNDS = 21;
const BILLED = `('running', 'resuming')`;

async function main() {
  const host = machine();
  await withProduct(async ({ product }) => {
    const { default: pg } = await import("pg");
    const { rollupHour, rolledRange } = await import("../server/usage/rollup");
    const { config } = await import("../server/config");
    const intervalMs = config().SCHEDULER_INTERVAL_MS;
    const sql = new pg.Client({ connectionString: product.databaseUrl });
    await sql.connect();
    const count = async (where: string, params: unknown[]) => {
      let n = 0;
      const ms = await timed(async () => (n = (await sql.query(`SELECT count(*)::int AS n FROM "UsageEvent" WHERE ${where}`, params)).rows[0].n));
      return { ms, n };
    };
    const overlaps = `state::text IN ${BILLED} AND "startedAt" < $2 AND ("endedAt" IS NULL OR "endedAt" > $1)`;
    const ts = (ms: number) => new Date(ms).toISOString().replace("T", " ").replace("Z", "");

    const api = await Api.newTenant(product.baseUrl);
    const organizationId = (await api.call<{ billing: { organizationId: string } }>("GET", "/api/v1/billing")).body.billing.organizationId;
    console.log(`machine: ${host}\nscheduler interval as shipped: ${intervalMs} ms\n`);

    // History ends where the product's own rollups begin (its first tick rolled up the hour before it started).
    const range = await rolledRange();
    const end = range ? range.from.getTime() : Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    const start = end - DAYS * 24 * HOUR;
    const fleetHour = start - HOUR;

    // 30 days of 100 computes: every 30 minutes 20 running (0.5 CU) and 10 paused, as state intervals.
    const seeded = await timed(() =>
      sql.query(
        `INSERT INTO "UsageEvent" (id, "organizationId", "computeId", state, size, "startedAt", "endedAt")
         SELECT 'h' || c || '-' || k || '-' || s, $1, 'bench-c' || c,
                (CASE WHEN s = 0 THEN 'running' ELSE 'paused' END)::"ComputeState", 0.5,
                $2::timestamp + (k * 30 + s * 20) * interval '1 minute',
                $2::timestamp + (k * 30 + CASE WHEN s = 0 THEN 20 ELSE 30 END) * interval '1 minute'
         FROM generate_series(1, ${COMPUTES}) c, generate_series(0, ${DAYS * 48 - 1}) k, generate_series(0, 1) s`,
        [organizationId, ts(start)],
      ),
    );
    // 10,000 computes in one hour: running 0-20, paused 20-40, running 40-60 minutes.
    await sql.query(
      `INSERT INTO "Organization" (id, slug, name, "updatedAt") SELECT 'bench-org-' || o, 'bench-org-' || o, 'fleet ' || o, now() FROM generate_series(1, ${FLEET_ORGS}) o`,
    );
    await sql.query(
      `INSERT INTO "UsageEvent" (id, "organizationId", "computeId", state, size, "startedAt", "endedAt")
       SELECT 'f' || o || '-' || c || '-' || s, 'bench-org-' || o, 'fleet-' || o || '-' || c,
              (CASE WHEN s = 1 THEN 'paused' ELSE 'running' END)::"ComputeState", 0.25,
              $1::timestamp + s * interval '20 minutes', $1::timestamp + (s + 1) * interval '20 minutes'
       FROM generate_series(1, ${FLEET_ORGS}) o, generate_series(1, ${FLEET_PER_ORG}) c, generate_series(0, 2) s`,
      [ts(fleetHour)],
    );
    await sql.query(`ANALYZE "UsageEvent"`);
    const total = (await sql.query(`SELECT count(*)::int AS n FROM "UsageEvent"`)).rows[0].n;
    console.log(`seeded ${total.toLocaleString("en-US")} state intervals in ${fmt(seeded / 1000)} s\n`);

    // 3. One hour of 10,000 computes, against one scheduler interval.
    const fleetCount = await count(overlaps, [ts(fleetHour), ts(fleetHour + HOUR)]);
    const fleetMs = await timed(() => rollupHour(new Date(fleetHour)));
    const fleetRows = (await sql.query(`SELECT count(*)::int AS n FROM "UsageHour" WHERE "hourStart" = $1`, [ts(fleetHour)])).rows[0].n;

    // 1. Every hour of the 30 days, as the scheduler rolls them (one hour for everyone at a time).
    const rollups: number[] = [];
    const baselines: number[] = [];
    for (let h = start; h < end; h += HOUR) {
      baselines.push((await count(overlaps, [ts(h), ts(h + HOUR)])).ms);
      rollups.push(await timed(() => rollupHour(new Date(h))));
    }
    const hourRows = (await sql.query(`SELECT count(*)::int AS n FROM "UsageHour" WHERE "organizationId" = $1`, [organizationId])).rows[0].n;

    // 2. The usage API over the 30 days, and the count of the same intervals.
    const from = new Date(start).toISOString();
    const apiSamples: Record<string, number[]> = { day: [], hour: [] };
    for (const granularity of ["day", "hour"] as const) {
      for (let i = 0; i < API_ROUNDS; i++) {
        let status = 0;
        apiSamples[granularity]!.push(await timed(async () => (status = (await api.call("GET", `/api/v1/usage?from=${from}&granularity=${granularity}`)).status)));
        if (status !== 200) throw new Error(`usage API answered ${status}`);
      }
    }
    const countSamples: number[] = [];
    let rangeRows = 0;
    for (let i = 0; i < API_ROUNDS; i++) {
      const c = await count(`"organizationId" = $3 AND ${overlaps}`, [ts(start), ts(Date.now()), organizationId]);
      countSamples.push(c.ms);
      rangeRows = c.n;
    }
    await sql.end();

    const p50 = (s: number[]) => percentile(s, 50);
    console.log(
      table(
        ["what", "p50", "p90", "baseline: SELECT count(*) of the same intervals (p50)", "ratio"],
        [
          [`hourly rollup, 1 of ${DAYS * 24} hours (${COMPUTES} computes, ${hourRows.toLocaleString("en-US")} hour rows)`, `${fmt(p50(rollups))} ms`, `${fmt(percentile(rollups, 90))} ms`, `${fmt(p50(baselines), 2)} ms`, ratio(p50(rollups), p50(baselines))],
          [`usage API, ${DAYS} days by day (${rangeRows.toLocaleString("en-US")} intervals)`, `${fmt(p50(apiSamples.day!))} ms`, `${fmt(percentile(apiSamples.day!, 90))} ms`, `${fmt(p50(countSamples), 2)} ms`, ratio(p50(apiSamples.day!), p50(countSamples))],
          [`usage API, ${DAYS} days by hour`, `${fmt(p50(apiSamples.hour!))} ms`, `${fmt(percentile(apiSamples.hour!, 90))} ms`, `${fmt(p50(countSamples), 2)} ms`, ratio(p50(apiSamples.hour!), p50(countSamples))],
        ],
      ),
    );
    console.log(`\n${DAYS * 24} hourly rollups in ${fmt(rollups.reduce((a, b) => a + b, 0) / 1000)} s in all`);
    console.log(
      `\nrollup of one hour for ${(FLEET_ORGS * FLEET_PER_ORG).toLocaleString("en-US")} computes (${fleetCount.n.toLocaleString("en-US")} intervals, ${fleetRows.toLocaleString("en-US")} hour rows written): ` +
        `${fmt(fleetMs)} ms; SELECT count(*) of the same intervals ${fmt(fleetCount.ms, 2)} ms (${ratio(fleetMs, fleetCount.ms)}); ` +
        `one scheduler interval ${intervalMs} ms: ${ratio(fleetMs, intervalMs)} of it, ${verdict(fleetMs, intervalMs)}`,
    );
    console.log(`\n${loadNow()}`);
  });
}

exit(main());
