// The proxy's live sessions by the connection id it gave each client, so `KILL [QUERY] <id>` from another
// connection can be translated to the compute's own thread id. Ids are unique within this proxy process.

export interface SessionInfo {
  projectId: string;
  computeId: string;
  /** The thread id of the session on the compute (from the compute's greeting). */
  backendThreadId: number;
}

export class SessionRegistry {
  private nextId = 1;
  private readonly sessions = new Map<number, SessionInfo>();

  allocateId(): number {
    const id = this.nextId;
    this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1;
    return id;
  }

  register(id: number, info: SessionInfo): void {
    this.sessions.set(id, info);
  }

  unregister(id: number): void {
    this.sessions.delete(id);
  }

  get(id: number): SessionInfo | undefined {
    return this.sessions.get(id);
  }

  get size(): number {
    return this.sessions.size;
  }
}
