// Questions sent to another process whose answers come back as separate messages (a KILL's owner asked
// through the cluster's primary or through PostgreSQL): each gets a number to match its answer, and a
// deadline, so a question never waits longer than that whatever happens to the other side.

export class PendingAnswers<T> {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (value: T) => void; timer: NodeJS.Timeout }>();

  /** `fallback` is the answer when none came within timeoutMs. */
  constructor(
    private readonly timeoutMs: number,
    private readonly fallback: T,
  ) {}

  /** A new question: its number (to send with it) and its answer. */
  open(): { id: number; answer: Promise<T> } {
    const id = this.next;
    this.next = this.next >= 0x7fffffff ? 1 : this.next + 1;
    const answer = new Promise<T>((resolve) => {
      const timer = setTimeout(() => this.settle(id, this.fallback), this.timeoutMs);
      timer.unref();
      this.waiting.set(id, { resolve, timer });
    });
    return { id, answer };
  }

  /** The answer to question `id` came (late or unknown answers are ignored). */
  settle(id: number, value: T): void {
    const entry = this.waiting.get(id);
    if (!entry) return;
    this.waiting.delete(id);
    clearTimeout(entry.timer);
    entry.resolve(value);
  }

  /** No answer can come any more (the channel is gone): every open question gets `value` now. */
  settleAll(value: T): void {
    for (const id of [...this.waiting.keys()]) this.settle(id, value);
  }

  get size(): number {
    return this.waiting.size;
  }
}
