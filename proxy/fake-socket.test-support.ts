import { EventEmitter } from "node:events";

/** A socket as the connection broker sees it, for unit tests: events, and destroy() that closes it. */
export class FakeSocket extends EventEmitter {
  destroyed = false;
  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit("close");
  }
}
