import type { DriverState } from "../types";

// The facts the local driver stores on the compute row between calls. They are hints, never trusted blindly:
// the pid is believed only if /proc shows the same start time and our --datadir on its command line.

export interface LocalState {
  pid: number | null;
  /** /proc/<pid>/stat start time (clock ticks since boot) of that pid when it was ours. */
  procStartTime: number | null;
  port: number | null;
  host: string | null;
  /** The compute's mariadbd --datadir. */
  dataDir: string | null;
  socket: string | null;
  startedAt: string | null;
  mariadbVersion: string | null;
}

function int(value: unknown): number | null {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : null;
}

function text(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 ? value : null;
}

export function parseState(state: DriverState | null): LocalState {
  return {
    pid: int(state?.pid),
    procStartTime: int(state?.procStartTime),
    port: int(state?.port),
    host: text(state?.host),
    dataDir: text(state?.dataDir),
    socket: text(state?.socket),
    startedAt: text(state?.startedAt),
    mariadbVersion: text(state?.mariadbVersion),
  };
}

/**
 * Keys in PostgreSQL jsonb order (shorter first, then bytewise), so a state that went through the database
 * serialises exactly like a freshly made one and comparing JSON strings does not see a change that is none.
 */
export function toDriverState(state: LocalState): DriverState {
  const keys = Object.keys(state).sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  const out: DriverState = {};
  for (const key of keys) out[key] = state[key as keyof LocalState];
  return out;
}
