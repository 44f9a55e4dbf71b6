import { defineConfig } from "prisma/config";

// Read the URL straight from the environment: prisma's env() throws when it is unset, which would break
// `prisma generate` during a build. With DATABASE_URL unset the product uses its embedded PostgreSQL.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "" },
});
