// What a proxy process reports about one compute's server connections when it multiplexes client sessions
// over them (issue 15: proxy/connection-broker.ts produces it; the activity reporter writes it to the
// ProxyActivity row, the compute's status and console show it, and the metrics sum it over computes).

export interface PoolSnapshot {
  /** Server connections of the compute this process holds that carry a client's command or transaction now. */
  serverInUse: number;
  /** Logged in and idle: released by a session at a safe point (not yet taken), or kept between sessions. */
  serverIdle: number;
  /** At most this many server connections of the compute through this process. */
  serverLimit: number;
  /** Clients waiting for a server connection now. */
  queued: number;
  /** How long the longest of them has waited, in ms (0 when none waits). */
  longestWaitMs: number;
  /** Waits that ended since the process started: how many, their summed time in ms, and how many ran out. */
  waits: number;
  waitMsTotal: number;
  timeouts: number;
}
