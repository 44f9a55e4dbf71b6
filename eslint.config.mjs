import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

// The one-way dependencies of DESIGN.md, enforced: server/ and proxy/ never import app/ or components/;
// components/ never imports server/ or proxy/; lib/ imports none of them.
const restrict = (groups, message) => ({
  "no-restricted-imports": ["error", { patterns: [{ group: groups, message }] }],
});

const config = [
  ...nextVitals,
  ...nextTs,
  {
    ignores: [".next/**", ".build/**", "node_modules/**", "server/db/generated/**", ".data/**", ".test-data/**", "next-env.d.ts", "test-results/**"],
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // Playwright fixtures hand their value to `use`, which is not React's hook.
    files: ["e2e/**"],
    rules: { "react-hooks/rules-of-hooks": "off" },
  },
  {
    files: ["server/**", "proxy/**"],
    rules: restrict(["@/app/*", "@/components/*", "**/app/*", "**/components/*"], "server/ and proxy/ must not import app/ or components/"),
  },
  {
    // Imports in server/ and proxy/ point one way (verbs -> the steps that finish a transition -> the
    // compare-and-set): a circle is how a status read once came to be able to start a process.
    files: ["server/**", "proxy/**"],
    rules: { "import/no-cycle": ["error", { ignoreExternal: true }] },
  },
  {
    files: ["components/**"],
    rules: restrict(["@/server/*", "@/proxy/*", "**/server/*", "**/proxy/*"], "components/ must not import server/ or proxy/"),
  },
  {
    files: ["lib/**"],
    rules: restrict(["@/server/*", "@/proxy/*", "@/app/*", "@/components/*"], "lib/ is shared by everyone and imports none of them"),
  },
];

export default config;
