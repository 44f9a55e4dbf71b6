import { defineConfig } from "vitest/config";
import path from "node:path";

// Integration tests: real PostgreSQL (embedded, started once by the global setup) and real mariadbd.
// Files run one at a time because they share the database; each test makes its own tenant.
export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    include: ["**/*.int.test.ts"],
    exclude: ["node_modules/**", ".data/**", ".test-data/**"],
    environment: "node",
    globalSetup: ["./test/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
