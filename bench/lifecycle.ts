import {
  Api,
  bareStart,
  connectAndSelect,
  exit,
  fmt,
  loadNow,
  machine,
  OPERATOR,
  percentile,
  ratio,
  serverCommandLine,
  table,
  timed,
  verdict,
  withProduct,
  type Endpoint,
} from "./lib";

// `npm run bench:lifecycle`: how long the compute lifecycle takes through the control plane as `npm start`
// runs it, next to what the same start costs without it (the bare driver, and a bare mariadbd), all from
// one run: the targets are judged as ratios to those baselines, since absolute times vary several-fold
// between machines of the same kind and with the load of a shared one.

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

      // The driver's own command line, on another port, as the compute's account without the isolation
      // layers: what those and the control plane cost shows against this.
      samples.bare.push(await bareStart(commandLine, { user: "app", password }));

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
    const bare = p50("bare");
    console.log(`\ntargets, as ratios to the same run's baseline (bare mariadbd exec -> SELECT 1 on the compute's data: p50 ${fmt(bare)} ms)\n`);
    console.log(
      table(
        ["what", "p50", "x bare", "absolute target", "verdict"],
        [
          ["cold resume (suspended -> SELECT 1)", `${fmt(p50("cold"))} ms`, ratio(p50("cold"), bare), `<= ${COLD_RESUME_TARGET_MS} ms`, verdict(p50("cold"), COLD_RESUME_TARGET_MS)],
          ["  of which the driver's start", `${fmt(p50("driver"))} ms`, ratio(p50("driver"), bare), "", ""],
          ["create (POST -> 201)", `${fmt(p50("create"))} ms`, ratio(p50("create"), bare), "", ""],
          ["unpause (POST resume -> SELECT 1)", `${fmt(p50("unpause"))} ms`, ratio(p50("unpause"), bare), "", ""],
        ],
      ),
    );
    console.log(`\ncontrol plane on a cold resume: +${fmt(p50("cold") - p50("driver"))} ms over the driver alone (${ratio(p50("cold"), p50("driver"))})`);
    console.log(loadNow());
  });
}

exit(main());
