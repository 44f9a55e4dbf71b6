import pg from "pg";

// A timeline of one operation for the timeline benches (bench:wake-timeline, bench:unpark-timeline): marks
// with a start and, for spans, an end, in milliseconds from `start()`. What this process does is put on it
// by patching prototypes: every PostgreSQL statement any pg client sends, and the local driver's steps.

export interface Mark {
  at: number;
  end?: number;
  what: string;
}

/** Statements that run in the background whatever the operation (activity reports, notifications). */
const BACKGROUND = /"ProxyActivity"|"ProxyInstance"|pg_notify|LISTEN|"WakeEvent"/;

export class Timeline {
  private t0 = 0;
  private recording = false;
  readonly marks: Mark[] = [];

  now(): number {
    return performance.now() - this.t0;
  }

  /** Forget the last operation's marks and start the clock. */
  start(): void {
    this.marks.length = 0;
    this.t0 = performance.now();
    this.recording = true;
  }

  stop(): void {
    this.recording = false;
  }

  /** A mark now; set its `end` to make it a span. Kept only while recording. */
  mark(what: string): Mark {
    const m: Mark = { at: this.now(), what };
    if (this.recording) this.marks.push(m);
    return m;
  }

  /** Run `fn` as a span named `what`. */
  async span<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const m = this.mark(what);
    try {
      return await fn();
    } finally {
      m.end = this.now();
    }
  }

  /** The recorded spans whose name matches. */
  spans(re: RegExp): Mark[] {
    return this.marks.filter((m) => re.test(m.what) && m.end !== undefined);
  }

  sum(re: RegExp): number {
    return this.spans(re).reduce((s, m) => s + (m.end! - m.at), 0);
  }

  /** Table rows: start, end, took, what. */
  rows(fmt: (n: number, digits?: number) => string): string[][] {
    return [...this.marks]
      .sort((a, b) => a.at - b.at)
      .map((m) => [fmt(m.at, 1), m.end === undefined ? "" : fmt(m.end, 1), m.end === undefined ? "" : fmt(m.end - m.at, 1), m.what]);
  }
}

/** Every statement any pg client of this process sends, with its start and end on the timeline. */
export function traceStatements(timeline: Timeline): void {
  const original = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string } | undefined;
    const sql = (typeof first === "string" ? first : (first?.text ?? String(first))).replace(/\s+/g, " ");
    const m = BACKGROUND.test(sql) ? null : timeline.mark(`pg: ${sql.slice(0, 110)}`);
    const result = original.apply(this, args);
    if (m && result instanceof Promise) void result.then(() => (m.end = timeline.now()), () => undefined);
    return result;
  } as typeof pg.Client.prototype.query;
}

/** Wrap methods of a prototype (or class, for static ones) so that each call is a span on the timeline. */
export function traceMethods(timeline: Timeline, target: object, methods: readonly (readonly [string, string])[]): void {
  const methodsOf = target as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const [method, label] of methods) {
    const original = methodsOf[method]!;
    methodsOf[method] = function (this: unknown, ...args: unknown[]) {
      return timeline.span(label, () => original.apply(this, args));
    };
  }
}

/** The local driver's steps on the timeline (its private methods are reached through the prototype). */
export async function traceDriver(timeline: Timeline): Promise<void> {
  const { LocalDriver } = await import("../server/compute/drivers/local/local-driver");
  traceMethods(timeline, LocalDriver.prototype, [
    ["start", "driver: start"],
    ["accountFor", "driver: the compute's OS account"],
    ["find", "driver: look-up of a running server"],
    ["ensureData", "driver: data directory checked"],
    ["launch", "driver: launch (steps before the exec, exec, readiness, set-up)"],
    ["sandboxParts", "driver: sandbox parts (its /etc, cgroup files)"],
    ["waitUntilReady", "driver: mariadbd launched -> answers the admin login"],
    ["provision", "driver: database and roles set up"],
    ["describe", "driver: describe (pid, port, version)"],
  ]);
}
