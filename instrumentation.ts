// Next.js calls register() once per server process. The scheduler runs only in the Node.js runtime and
// never during `next build` (NEXT_PHASE is the build phase then).
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  if (process.env.NEXT_PHASE === "phase-production-build") return;
  if (process.env.SCHEDULER_DISABLED === "1") return;
  const { startScheduler } = await import("./server/scheduler/loop");
  startScheduler();
}
