// What a compute of a given size may use on this machine. One compute unit is one core and 4 GiB of memory
// (lib/schemas.ts); a compute gets exactly its share, enforced by the kernel (cgroups.ts), whatever its
// server's own settings say: a tenant who raises innodb_buffer_pool_size with SUPER still cannot hold
// more memory than its size, and two BENCHMARK() sessions on 0.25 CU share a quarter of one core.

const GIB = 1024 * 1024 * 1024;
export const MEMORY_BYTES_PER_CU = 4 * GIB;

// mariadbd runs a thread per connection plus about 20 of its own; 151 connections fit with room to spare,
// a fork bomb of threads does not.
const PIDS_MAX = 1024;

export interface ComputeLimits {
  /** CPU time per wall-clock time: 0.25 = a quarter of one core. */
  cpuCores: number;
  memoryBytes: number;
  pids: number;
  /** The private /tmp the server sees (in memory, so it counts against memoryBytes too). */
  tmpBytes: number;
}

export function limitsForSize(size: number): ComputeLimits {
  const cu = Number.isFinite(size) && size > 0 ? size : 0.25;
  const memoryBytes = Math.round(cu * MEMORY_BYTES_PER_CU);
  return { cpuCores: cu, memoryBytes, pids: PIDS_MAX, tmpBytes: Math.min(256 * 1024 * 1024, Math.round(memoryBytes / 8)) };
}
