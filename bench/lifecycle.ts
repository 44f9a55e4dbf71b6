import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import { findFreePort } from "../server/util/free-port";
import { Api, connectAndSelect, exit, firstAnswer, fmt, machine, percentile, table, timed, verdict, withProduct, OPERATOR, type Endpoint } from "./lib";

// `npm run bench:lifecycle`: how long the compute lifecycle takes through the control plane, next to what
// the same start costs without it (the bare driver, and a bare mariadbd), all from one run.

const ROUNDS = 10;
const COLD_RESUME_TARGET_MS = 500;

const LABELS = {
  create: "create (POST compute -> 201)",
  pause: "pause (pauseCompute)",
  unpause: "unpause (POST resume -> SELECT 1)",
  suspend: "suspend (POST suspend -> answer)",
  coldApi: "cold resume: POST resume -> answer",
  cold: "cold resume (suspended -> SELECT 1)",
  driver: "baseline: LocalDriver.start -> SELECT 1",
  bare: "baseline: mariadbd exec -> SELECT 1",
} as const;
type Step = keyof typeof LABELS;

/** The command line of the mariadbd serving this compute (read from /proc), to start the same server bare. */
function serverCommandLine(computeId: string): string[] {
  for (const entry of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    let args: string[] = [];
    try {
      args = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
    } catch {
      continue; // exited meanwhile
    }
    if (args[0]?.endsWith("mariadbd") && args.some((a) => a.includes(`/computes/${computeId}/`))) return args;
  }
  throw new Error(`no mariadbd runs compute ${computeId}`);
}

async function main() {
  const host = machine();
  await withProduct(async ({ product }) => {
    const { pauseCompute } = await import("../server/compute/lifecycle/pause");
    const { loadComputeSpec } = await import("../server/compute/spec");
    const { getDriver } = await import("../server/compute/drivers/registry");

    const api = await Api.newTenant(product.baseUrl);
    const driver = getDriver("local");
    const samples = Object.fromEntries(Object.keys(LABELS).map((k) => [k, [] as number[]])) as Record<Step, number[]>;
    console.log(`machine: ${host}\n${ROUNDS} rounds, each on a new project\n`);

    for (let round = 1; round <= ROUNDS; round++) {
      const project = await api.createProject(`bench ${round}`);
      let created!: Awaited<ReturnType<Api["createCompute"]>>;
      samples.create.push(await timed(async () => (created = await api.createCompute(project.id))));
      const { computeId, password } = created;
      const as = (endpoint: Endpoint | null) => {
        if (!endpoint) throw new Error("the compute has no endpoint");
        return { ...endpoint, user: "app", password };
      };
      await connectAndSelect(as(created.endpoint));

      // Warm: freeze in place, then resume through the API until a new connection answers.
      samples.pause.push(
        await timed(async () => {
          if (!(await pauseCompute({ actor: OPERATOR, computeId, reason: "lifecycle bench" }))) throw new Error("pause refused");
        }),
      );
      samples.unpause.push(await timed(async () => connectAndSelect(as(await api.lifecycle(computeId, "resume")))));
      const commandLine = serverCommandLine(computeId);

      samples.suspend.push(await timed(() => api.lifecycle(computeId, "suspend")));

      // Baselines on the same stopped data: the driver alone, then mariadbd alone.
      const { spec, driverState } = await loadComputeSpec(computeId);
      let started!: Awaited<ReturnType<typeof driver.start>>;
      samples.driver.push(
        await timed(async () => {
          started = await driver.start(spec, driverState);
          await connectAndSelect(as(started.endpoint));
        }),
      );
      await driver.stop(computeId, started.driverState);

      // The driver's own command line, on another port.
      const port = await findFreePort();
      const [binary, ...args] = commandLine.map((a) => (a.startsWith("--port=") ? `--port=${port}` : a));
      // As the compute's own OS account (the owner of its directory), without sandbox or cgroups: what the
      // isolation layers cost shows against this.
      const datadir = args.find((a) => a.startsWith("--datadir="))!.slice("--datadir=".length);
      const owner = fs.statSync(datadir);
      const bareStart = performance.now();
      const server = spawn(binary!, args, { stdio: "ignore", uid: owner.uid, gid: owner.gid });
      try {
        await firstAnswer(as({ host: "127.0.0.1", port }));
        samples.bare.push(performance.now() - bareStart);
      } finally {
        server.kill("SIGTERM");
        if (server.exitCode === null && server.signalCode === null) await once(server, "exit");
      }

      // Cold: start it again through the control plane.
      samples.cold.push(
        await timed(async () => {
          let endpoint!: Endpoint | null;
          samples.coldApi.push(await timed(async () => (endpoint = await api.lifecycle(computeId, "resume"))));
          await connectAndSelect(as(endpoint));
        }),
      );

      await api.call("DELETE", `/api/v1/projects/${project.id}`);
      const last = (k: Step) => fmt(samples[k].at(-1)!, 0);
      console.log(
        `round ${String(round).padStart(2)}: create ${last("create")}  pause ${last("pause")}  unpause ${last("unpause")}  ` +
          `suspend ${last("suspend")}  cold ${last("cold")}  driver ${last("driver")}  bare ${last("bare")} ms`,
      );
    }

    const p50 = (k: Step) => percentile(samples[k], 50);
    console.log(`\nlifecycle, ms over ${ROUNDS} rounds\n`);
    console.log(
      table(
        ["operation", "p50", "p90"],
        (Object.keys(LABELS) as Step[]).map((k) => [LABELS[k], fmt(p50(k)), fmt(percentile(samples[k], 90))]),
      ),
    );
    console.log(
      `\ncold resume p50 vs baselines: ${fmt(p50("cold") / p50("bare"), 2)}x bare mariadbd (+${fmt(p50("cold") - p50("bare"))} ms), ` +
        `${fmt(p50("cold") / p50("driver"), 2)}x LocalDriver.start (+${fmt(p50("cold") - p50("driver"))} ms of control plane)`,
    );
    console.log(`target: cold resume p50 <= ${COLD_RESUME_TARGET_MS} ms: ${fmt(p50("cold"))} ms, ${verdict(p50("cold"), COLD_RESUME_TARGET_MS)}`);
  });
}

exit(main());
