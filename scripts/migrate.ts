// `npm run migrate`: apply the database migrations to DATABASE_URL and exit (the Kubernetes migration Job;
// `npm start` applies them itself).

import path from "node:path";
import { applyMigrations } from "../server/db/migrate";

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error("DATABASE_URL is not set: the migration runs against the platform's PostgreSQL");
  process.exit(2);
}
const { applied } = await applyMigrations({ databaseUrl, migrationsDir: path.join(import.meta.dirname, "..", "prisma", "migrations"), log: (line) => console.log(line) });
console.log(applied.length > 0 ? `applied migrations: ${applied.join(", ")}` : "the database is up to date");
