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
  paused: ["resuming", "suspending", "deleting"],
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
