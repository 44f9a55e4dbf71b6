// The proxy as it runs: one ES module bundled by esbuild from proxy/main.ts (our TypeScript, node_modules left
// as imports), with a source map so that stacks name the .ts lines. Run with
// `node --enable-source-maps .build/proxy/main.mjs` (`npm run proxy`, `npm start`, and the proxies tests and
// benches spawn).
//
// Why not tsx, as before: tsx compiles with esbuild's keepNames, which wraps every function a module defines
// in a call that sets its name, each time the function is created. The proxy makes closures per connection
// and per statement, and those calls were 3-6 % of a worker's CPU (cpu profile of a connect loop and of
// 1,000 pooled clients); without them, and without tsx's loader, a worker spent 10-20 % less CPU a connect
// and a pooled query (README, "The proxy runs bundled").
//
// Built when the bundle is missing or older than any file it was built from (the list esbuild records), so
// a start after `npm run build` (the container image) writes nothing, and an edit is picked up at the next.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
export const PROXY_BUNDLE = path.join(ROOT, ".build", "proxy", "main.mjs");
const META = `${PROXY_BUNDLE}.meta.json`;

/** The node arguments that run the built proxy. */
export const proxyCommand = () => ["--enable-source-maps", PROXY_BUNDLE];

function isCurrent(): boolean {
  let builtAt: number;
  let inputs: string[];
  try {
    builtAt = fs.statSync(PROXY_BUNDLE).mtimeMs;
    inputs = Object.keys((JSON.parse(fs.readFileSync(META, "utf8")) as { inputs: Record<string, unknown> }).inputs);
  } catch {
    return false;
  }
  return inputs.every((input) => {
    try {
      return fs.statSync(path.join(ROOT, input)).mtimeMs <= builtAt;
    } catch {
      return false; // a file it was built from is gone
    }
  });
}

/** Build the proxy's bundle unless it is current; returns whether it built. */
export async function buildProxy({ force = false } = {}): Promise<boolean> {
  if (!force && isCurrent()) return false;
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ["proxy/main.ts"],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    sourcemap: true,
    metafile: true,
    outfile: PROXY_BUNDLE,
    write: false,
    logLevel: "warning",
  });
  // Each file replaced whole (written aside, then renamed): proxies started meanwhile, by another process
  // building the same bundle at the same moment, never read half a file. The bundle goes last, so that its
  // time says the map and the input list beside it are as new.
  fs.mkdirSync(path.dirname(PROXY_BUNDLE), { recursive: true });
  const replace = (file: string, contents: string | Uint8Array) => {
    const aside = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(aside, contents);
    fs.renameSync(aside, file);
  };
  replace(META, JSON.stringify(result.metafile));
  for (const out of result.outputFiles.sort((a, b) => Number(a.path === PROXY_BUNDLE) - Number(b.path === PROXY_BUNDLE))) replace(out.path, out.contents);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const built = await buildProxy({ force: process.argv.includes("--force") });
  if (process.argv.includes("--verbose") || built) console.log(built ? `built ${path.relative(ROOT, PROXY_BUNDLE)}` : "the proxy's bundle is current");
}
