// Test helper (run by e2e/members.spec.ts with the product's DATA_DIR): makes the open invitations to an
// email expire now, so the /invite page's "expired" case can be seen without waiting 7 days.
// Usage: tsx e2e/support/expire-invitations.ts <email>
import { config } from "../../server/config";
import { db, disconnectDb } from "../../server/db";
import { startEmbeddedPostgres } from "../../server/db/embedded-postgres";

async function main(email: string): Promise<void> {
  const cfg = config();
  let stop = async () => {};
  if (!cfg.DATABASE_URL) {
    const pg = await startEmbeddedPostgres({ dataDir: cfg.dataDir });
    process.env.DATABASE_URL = pg.url;
    stop = pg.stop;
  }
  try {
    const { count } = await db.invitation.updateMany({
      where: { email, acceptedAt: null, revokedAt: null },
      data: { expiresAt: new Date(Date.now() - 60_000) },
    });
    if (count === 0) throw new Error(`no open invitation to ${email}`);
  } finally {
    await disconnectDb();
    await stop();
  }
}

main(process.argv[2] ?? "").then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
