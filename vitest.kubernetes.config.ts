import { defineConfig } from "vitest/config";
import path from "node:path";

// The kubernetes driver against an in-process fake Kubernetes API server (test/kubernetes): real
// PostgreSQL (embedded, started by the global setup), real mariadbd run by the fake kubelet, the real proxy
// and scheduler in the test process. Files run one at a time: they share the database and port 3306 of
// the fake Services' loopback addresses.
export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    include: ["test/kubernetes/**/*.k8s.test.ts"],
    exclude: ["node_modules/**", ".data/**"],
    environment: "node",
    globalSetup: ["./test/kubernetes/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
