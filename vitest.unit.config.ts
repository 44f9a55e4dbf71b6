import { defineConfig } from "vitest/config";
import path from "node:path";

// Unit tests: beside the code, no database, no mariadbd.
export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    include: ["{lib,server,proxy,scripts,app}/**/*.test.ts"],
    exclude: ["**/*.int.test.ts", "node_modules/**"],
    environment: "node",
  },
});
