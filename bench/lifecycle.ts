import { userInfo } from "node:os";
import {
  Api,
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
import { bareRun, makeBareCopy, measureVariants, removeBareCopy, setFlag, VARIANTS, writeInitFile, type VariantResult } from "./cold-start";
import { todaysInitFileSql } from "./cold-start-today";

// `npm run bench:lifecycle`: how long the compute lifecycle takes through the control plane as `npm start`
// runs it, next to what the same start costs without it, all from one run: the targets are judged as ratios
// to those baselines, since absolute times vary several-fold between machines of the same kind and with the
// load of a shared one.
//
// The cold-start baseline (issue 12): the very command line the product runs for the compute, started bare
// on a copy of its data inside the same sandbox and limits (cold-start.ts), exec -> SELECT 1 over its socket.
// The same copy is also started with the init file the driver wrote before (today's), and at the end one
// setting or launch step at a time is changed to show what each costs.

const ROUNDS = 10;
const SETTING_ROUNDS = 9;
const COLD_RESUME_TARGET_MS = 500;
/** Cold wake through the proxy: <= 1.15x the bare start, or +25 ms where that is more (issue 12). */
const COLD_WAKE_RATIO = 1.15;
const COLD_WAKE_SLACK_MS = 25;

const LABELS = {
  create: "create (POST compute -> 201)",
  pause: "pause (pauseCompute)",
  unpause: "unpause (POST resume -> SELECT 1)",
  suspend: "suspend (POST suspend -> answer)",
  coldApi: "cold resume: POST resume -> answer",
  cold: "cold resume (suspended -> SELECT 1)",
  coldProxy: "cold wake through the proxy (suspended -> SELECT 1)",
  driver: "LocalDriver.start -> SELECT 1",
  bare: "baseline: bare start in the sandbox, copy of the data",
  bareToday: "the same with today's init file",
} as const;
type Step = keyof typeof LABELS;

async function main() {
  const host = machine();
  await withProduct(async ({ product, dataDir, proxyPort }) => {
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

      // Baselines on the same stopped data: the driver alone, then mariadbd alone (sandboxed, on a copy),
      // with the shipped init file and with today's, in alternating order.
      const { spec, driverState } = await loadComputeSpec(computeId);
      let started!: Awaited<ReturnType<typeof driver.start>>;
      samples.driver.push(
        await timed(async () => {
          started = await driver.start(spec, driverState);
          await connectAndSelect(as(started.endpoint));
        }),
      );
      await driver.stop(computeId, started.driverState);
      const copy = await makeBareCopy(dataDir, computeId, spec.size, commandLine);
      try {
        const today = setFlag(copy.args, "init-file", writeInitFile(copy, "init-today.sql", todaysInitFileSql(userInfo().username)));
        const order = round % 2 === 0 ? (["bare", "bareToday"] as const) : (["bareToday", "bare"] as const);
        for (const which of order) samples[which].push((await bareRun(copy, { args: which === "bare" ? copy.args : today })).startMs);
      } finally {
        removeBareCopy(copy);
      }

      // Cold: start it again through the control plane's API, then (suspended once more) through the proxy,
      // as a client's connect wakes it.
      samples.cold.push(
        await timed(async () => {
          let endpoint!: Endpoint | null;
          samples.coldApi.push(await timed(async () => (endpoint = await api.lifecycle(computeId, "resume"))));
          await connectAndSelect(as(endpoint));
        }),
      );
      await api.lifecycle(computeId, "suspend");
      samples.coldProxy.push(await connectAndSelect({ host: "127.0.0.1", port: proxyPort, user: `${project.slug}.app`, password }));

      await api.call("DELETE", `/api/v1/projects/${project.id}`);
      const last = (k: Step) => fmt(samples[k].at(-1)!, 0);
      console.log(
        `round ${String(round).padStart(2)}: create ${last("create")}  pause ${last("pause")}  unpause ${last("unpause")}  ` +
          `suspend ${last("suspend")}  cold ${last("cold")}  proxy ${last("coldProxy")}  driver ${last("driver")}  ` +
          `bare ${last("bare")}  today's ${last("bareToday")} ms`,
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
    const wakeTarget = Math.max(bare * COLD_WAKE_RATIO, bare + COLD_WAKE_SLACK_MS);
    console.log(
      `\ntargets, as ratios to the same run's baseline (the compute's own mariadbd command line, started bare on a copy of its data ` +
        `in the same sandbox and limits, exec -> SELECT 1 over its socket: p50 ${fmt(bare)} ms)\n`,
    );
    console.log(
      table(
        ["what", "p50", "x bare", "target", "verdict"],
        [
          ["cold wake through the proxy (suspended -> SELECT 1)", `${fmt(p50("coldProxy"))} ms`, ratio(p50("coldProxy"), bare), `<= ${fmt(wakeTarget)} ms (${COLD_WAKE_RATIO}x or +${COLD_WAKE_SLACK_MS} ms)`, verdict(p50("coldProxy"), wakeTarget)],
          ["bare start with today's init file (shipped must be faster)", `${fmt(p50("bareToday"))} ms`, ratio(p50("bareToday"), bare), `> ${fmt(bare)} ms`, p50("bareToday") > bare ? "met" : "MISSED"],
          ["cold resume (POST resume -> SELECT 1)", `${fmt(p50("cold"))} ms`, ratio(p50("cold"), bare), `<= ${COLD_RESUME_TARGET_MS} ms`, verdict(p50("cold"), COLD_RESUME_TARGET_MS)],
          ["  of which the driver's start", `${fmt(p50("driver"))} ms`, ratio(p50("driver"), bare), "", ""],
          ["create (POST -> 201)", `${fmt(p50("create"))} ms`, ratio(p50("create"), bare), "", ""],
          ["unpause (POST resume -> SELECT 1)", `${fmt(p50("unpause"))} ms`, ratio(p50("unpause"), bare), "", ""],
        ],
      ),
    );
    console.log(`\ncontrol plane on a cold resume: +${fmt(p50("cold") - p50("driver"))} ms over the driver alone (${ratio(p50("cold"), p50("driver"))})`);

    // What each setting and launch step costs: one change at a time on a copy of a (suspended) compute.
    const project = await api.createProject("bench settings");
    const { computeId } = await api.createCompute(project.id);
    const commandLine = serverCommandLine(computeId);
    await api.lifecycle(computeId, "suspend");
    const { spec } = await loadComputeSpec(computeId);
    const copy = await makeBareCopy(dataDir, computeId, spec.size, commandLine);
    try {
      const { shipped, results } = await measureVariants(copy, VARIANTS, SETTING_ROUNDS);
      console.log(`\nwhat each setting and launch step costs: the bare start changed in one thing, ${SETTING_ROUNDS} rounds interleaved with the shipped one, medians\n`);
      console.log(settingsTable(shipped, results));
    } finally {
      removeBareCopy(copy);
    }
    await api.call("DELETE", `/api/v1/projects/${project.id}`);
    console.log(loadNow());
  });
}

function settingsTable(shipped: VariantResult, results: VariantResult[]): string {
  const p = (values: number[]) => percentile(values, 50);
  const signed = (value: number) => `${value >= 0 ? "+" : ""}${fmt(value)}`;
  return table(
    ["start (exec -> SELECT 1) with", "p50 ms", "vs shipped, same round", "CPU ms", "stop ms"],
    [
      ["the shipped command line and init file", fmt(p(shipped.start)), "", fmt(p(shipped.cpu)), fmt(p(shipped.stop))],
      ...results.map((r) => [r.variant.name, fmt(p(r.start)), signed(p(r.delta)), `${fmt(p(r.cpu))} (${signed(p(r.cpu) - p(shipped.cpu))})`, fmt(p(r.stop))]),
    ],
  );
}

exit(main());
