// The compute lifecycle of DESIGN.md, shared by the server, the proxy and the console.

export const COMPUTE_STATES = [
  "provisioning",
  "running",
  "paused",
  "suspended",
  "resuming",
  "suspending",
  "failed",
  "deleting",
] as const;
export type ComputeStateName = (typeof COMPUTE_STATES)[number];

/** States that some replica is in the middle of leaving; others wait for them (never 409). */
export const TRANSITIONAL_STATES: readonly ComputeStateName[] = ["provisioning", "resuming", "suspending", "deleting"];

/** States a compute is billed in. */
export const BILLED_STATES: readonly ComputeStateName[] = ["running", "resuming"];

/** Every allowed move; anything else is refused by the state machine. */
export const TRANSITIONS: Readonly<Record<ComputeStateName, readonly ComputeStateName[]>> = {
  provisioning: ["running", "failed", "deleting"],
  running: ["paused", "suspending", "resuming", "failed", "deleting"],
  // paused -> running is a thaw: one compare-and-set, then the frozen process is let go (nothing can fail
  // in between that the reconciler would not see: a running row whose process is gone is a crash).
  paused: ["running", "resuming", "suspending", "deleting"],
  suspended: ["resuming", "deleting"],
  resuming: ["running", "failed", "suspended"],
  suspending: ["suspended", "failed"],
  failed: ["resuming", "suspending", "deleting"],
  deleting: [],
};

export function canTransition(from: ComputeStateName, to: ComputeStateName): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isTransitional(state: ComputeStateName): boolean {
  return TRANSITIONAL_STATES.includes(state);
}

export const DEFAULT_DATABASE = "main";
export const DEFAULT_ROLE = "app";

/** How the console shows a state: the badge's tone and a sentence for people. One table for every page. */
export type StateTone = "green" | "amber" | "blue" | "slate" | "red";
export const COMPUTE_STATE_DISPLAY: Readonly<Record<ComputeStateName, { tone: StateTone; description: string }>> = {
  provisioning: { tone: "blue", description: "Creating the compute and starting MariaDB" },
  running: { tone: "green", description: "Running and accepting connections" },
  paused: { tone: "amber", description: "Paused (warm): wakes in milliseconds on the next connection" },
  suspended: { tone: "slate", description: "Suspended (cold): the next connection starts it" },
  resuming: { tone: "blue", description: "Waking up" },
  suspending: { tone: "blue", description: "Suspending" },
  failed: { tone: "red", description: "Failed: see the operations for the cause, then resume it" },
  deleting: { tone: "slate", description: "Being deleted" },
};

/** Whether a console user may ask for a resume / suspend in this state (the buttons are disabled otherwise). */
export function canResume(state: ComputeStateName): boolean {
  return state === "paused" || state === "suspended" || state === "failed";
}
export function canSuspend(state: ComputeStateName): boolean {
  return state === "running" || state === "paused" || state === "failed";
}
