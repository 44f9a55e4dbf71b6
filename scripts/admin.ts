// `npm run admin -- <command>`: operators' commands against the product's database (the embedded PostgreSQL
// of DATA_DIR when DATABASE_URL is unset, as `npm run proxy` does).
//
//   reset-password <email>   print a one-time link (valid for an hour) where the user sets a new password;
//                            for installations without a mail server. Links use APP_URL when it is set,
//                            else http://127.0.0.1:PORT.

import { config, ConfigError } from "../server/config";
import { startEmbeddedPostgres } from "../server/db/embedded-postgres";
import { disconnectDb } from "../server/db";
import { AppError } from "../server/errors";
import { createPasswordReset } from "../server/account/password-reset";
import { publicOrigin } from "../server/http/origin";
import { EmailSchema } from "../lib/schemas";

const USAGE = `usage: npm run admin -- reset-password <email>

  reset-password <email>   print a one-time link (valid for an hour) to set a new password`;

async function withDatabase<T>(fn: () => Promise<T>): Promise<T> {
  const cfg = config();
  let stop = async () => {};
  if (!cfg.DATABASE_URL) {
    const pg = await startEmbeddedPostgres({ dataDir: cfg.dataDir });
    process.env.DATABASE_URL = pg.url;
    stop = pg.stop;
  }
  try {
    return await fn();
  } finally {
    await disconnectDb();
    await stop();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === "reset-password") {
    const parsed = EmailSchema.safeParse(args[0] ?? "");
    if (args.length !== 1 || !parsed.success) {
      console.error(USAGE);
      return 2;
    }
    const reset = await withDatabase(() => createPasswordReset({ email: parsed.data, origin: publicOrigin() }));
    console.log(`One-time password-reset link for ${reset.email} (valid until ${reset.expiresAt.toISOString()}; earlier links no longer work):`);
    console.log(reset.url);
    return 0;
  }
  console.error(command && command !== "help" && command !== "--help" ? `unknown command: ${command}\n\n${USAGE}` : USAGE);
  return command === "help" || command === "--help" ? 0 : 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof AppError || error instanceof ConfigError) console.error(error.message);
    else console.error(error);
    process.exit(1);
  },
);
