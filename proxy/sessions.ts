// The proxy's live sessions by the connection id it gave each client, so `KILL [QUERY] <id>` from another
// connection can be translated to the compute's own thread id. With several worker processes
// (proxy/cluster.ts) each worker hands out its own residue class of ids (first, first + step, ...), so ids
// are unique across the workers, and every worker also knows the others' sessions (applyRemote): a KILL
// arrives on a new connection, which may land on any worker.

export interface SessionInfo {
  projectId: string;
  computeId: string;
  /** The thread id of the session on the compute (from the compute's greeting). */
  backendThreadId: number;
}

/** A change to this worker's sessions, as told to the other workers. */
export type SessionEvent = { op: "open"; id: number; info: SessionInfo } | { op: "close"; id: number };

export interface SessionRegistryOptions {
  /** The first id handed out (default 1). */
  first?: number;
  /** The distance between ids (default 1): the number of workers. */
  step?: number;
  /** Told of every local open and close. */
  publish?: (event: SessionEvent) => void;
}

const MAX_ID = 0x7fffffff;

export class SessionRegistry {
  private readonly first: number;
  private readonly step: number;
  private readonly publish: ((event: SessionEvent) => void) | undefined;
  private nextId: number;
  private readonly sessions = new Map<number, SessionInfo>();

  constructor(options: SessionRegistryOptions = {}) {
    this.first = options.first ?? 1;
    this.step = options.step ?? 1;
    this.publish = options.publish;
    this.nextId = this.first;
  }

  allocateId(): number {
    const id = this.nextId;
    this.nextId = this.nextId > MAX_ID - this.step ? this.first : this.nextId + this.step;
    return id;
  }

  register(id: number, info: SessionInfo): void {
    this.sessions.set(id, info);
    this.publish?.({ op: "open", id, info });
  }

  unregister(id: number): void {
    this.sessions.delete(id);
    this.publish?.({ op: "close", id });
  }

  /** Another worker's session opened or closed. */
  applyRemote(event: SessionEvent): void {
    if (event.op === "open") this.sessions.set(event.id, event.info);
    else this.sessions.delete(event.id);
  }

  get(id: number): SessionInfo | undefined {
    return this.sessions.get(id);
  }

  get size(): number {
    return this.sessions.size;
  }
}
