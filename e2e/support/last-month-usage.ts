// Test helper (run by e2e/billing.spec.ts with the product's DATA_DIR): gives the organization of the
// user with this email a month already over, so the scheduler writes its invoice: the organization is made
// a month older, put on the pro plan (no audit event: pro throughout), and given last month's use - the
// CU-hours asked for and 60 GB through the proxy. With `this-month`, only the CU-hours are given, ending
// now, in the month under way (to spend past a cap above the plan's base price).
// Usage: tsx e2e/support/last-month-usage.ts <email> <cu-hours> [this-month]
import { config } from "../../server/config";
import { db, disconnectDb } from "../../server/db";
import { startEmbeddedPostgres } from "../../server/db/embedded-postgres";
import { lastClosedMonth } from "../../server/billing/months";

const HOUR = 3_600_000;

async function main(email: string, cuHours: number, thisMonth: boolean): Promise<void> {
  const cfg = config();
  let stop = async () => {};
  if (!cfg.DATABASE_URL) {
    const pg = await startEmbeddedPostgres({ dataDir: cfg.dataDir });
    process.env.DATABASE_URL = pg.url;
    stop = pg.stop;
  }
  try {
    const membership = await db.membership.findFirstOrThrow({ where: { user: { email } }, select: { organizationId: true } });
    const organizationId = membership.organizationId;
    if (thisMonth) {
      const now = new Date();
      const startedAt = new Date(now.getTime() - 60_000);
      await db.usageEvent.create({ data: { organizationId, computeId: `e2e-${organizationId}-now`, state: "running", size: cuHours * 60, startedAt, endedAt: now } });
      return;
    }
    const month = lastClosedMonth(new Date());
    const at = (h: number) => new Date(month.getTime() + 48 * HOUR + h * HOUR);
    const computeId = `e2e-${organizationId}`;
    await db.usageEvent.create({ data: { organizationId, computeId, state: "running", size: cuHours / 10, startedAt: at(0), endedAt: at(10) } });
    await db.transferHour.create({ data: { organizationId, computeId, hourStart: at(1), bytesIn: 20_000_000_000n, bytesOut: 40_000_000_000n } });
    // Last: from here on the scheduler sees an organization that existed last month and has no invoice.
    await db.organization.update({ where: { id: organizationId }, data: { plan: "pro", createdAt: new Date(month.getTime() - 24 * HOUR) } });
  } finally {
    await disconnectDb();
    await stop();
  }
}

main(process.argv[2] ?? "", Number(process.argv[3] ?? 0), process.argv[4] === "this-month").then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
